package org.flowfiji.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Child-JVM program of {@link NnpackTest}: 20 1x1 convolutions of 8 images on one engine thread,
 * which libtorch leaves to its own kernels (where it first tries NNPACK). Prints whether NNPACK
 * was turned off.
 */
public final class NnpackProbe {
    private NnpackProbe() {}

    public static void main(String[] args) {
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            JniUtils.setNumThreads(1);
            for (int i = 0; i < 20; i++) {
                NDArray x = m.randomNormal(new Shape(8, 16, 8, 8));
                NDArray w = m.randomNormal(new Shape(16, 16, 1, 1));
                Conv2d.conv2d(x, w, null, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1).singletonOrThrow();
            }
            System.out.println("nnpack off " + Engines.nnpackOff());
        }
    }
}
