package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import java.util.Random;
import org.flowfiji.model.Engines;

/**
 * Child-JVM program of {@link BatchPassesTest}: for the given seconds, a convolution of fresh
 * shapes (channels-last, 1x1 or 3x3) and its backward pass, three batches each through new
 * two-part {@link BatchPasses}, as a training's first batches are. Prints the number of shapes run.
 */
public final class ConvolutionCreationProbe {
    private ConvolutionCreationProbe() {}

    public static void main(String[] args) {
        double seconds = Double.parseDouble(args[0]);
        Random r = new Random(42);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int shapes = 0;
        try (NDManager root = Engines.pytorch().newBaseManager()) {
            while (System.nanoTime() < end) {
                int b = 2 * (1 + r.nextInt(3));
                int in = 1 + r.nextInt(64);
                int out = 1 + r.nextInt(96);
                int h = 2 + r.nextInt(40);
                int w = 2 + r.nextInt(40);
                int k = r.nextBoolean() ? 3 : 1;
                BatchPasses.Pass pass = (ctx, offset, count) -> {
                    NDManager m = ctx.manager();
                    NDArray x = m.randomNormal(new Shape(count, h, w, in)).transpose(0, 3, 1, 2);
                    NDArray kernel = m.randomNormal(new Shape(out, k, k, in)).transpose(0, 3, 1, 2);
                    x.setRequiresGradient(true);
                    kernel.setRequiresGradient(true);
                    NDArray y = Conv2d.conv2d(x, kernel, null, new Shape(1, 1), new Shape(k / 2, k / 2),
                            new Shape(1, 1), 1).singletonOrThrow();
                    return Activation.relu(y).sum();
                };
                try (BatchPasses passes = new BatchPasses(2)) {
                    for (int i = 0; i < 3; i++) {
                        passes.run(root, b, pass);
                    }
                }
                shapes++;
            }
        }
        System.out.println("shapes " + shapes);
    }
}
