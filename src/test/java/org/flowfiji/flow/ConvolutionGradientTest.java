package org.flowfiji.flow;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The values and the input and kernel gradients of the flows' convolutions (as a training pass runs them:
 * channels-last, through {@link Conv2dBlock#conv2d}) against the same convolution in float64, for
 * the few-channel sizes of coupling networks, priors and masked networks. The engine's kernels for
 * these sizes depend on the processor; on one of them the input gradient of one-channel
 * convolutions came back wrong (see {@link Conv2dBlock#conv2d}), which this test catches there.
 * 1x1 cases cover batches that libtorch runs with its own matrix product and with oneDNN.
 */
class ConvolutionGradientTest {

    private static final int BATCH = 8;
    private static final int SIDE = 8;

    static Stream<Arguments> sizes() {
        List<Arguments> a = new ArrayList<>();
        for (int in : new int[] {1, 2, 3, 4}) {
            for (int out : new int[] {2, 4, 8, 16, 24}) {
                a.add(Arguments.of(in, out, 3, BATCH, SIDE));
            }
        }
        a.add(Arguments.of(8, 4, 3, BATCH, SIDE));
        // 1x1 kernels over batches of 1 to 16 (libtorch runs those under 16 on one engine thread
        // with its own matrix product, from 16 in oneDNN)
        a.add(Arguments.of(1, 4, 1, BATCH, SIDE));
        a.add(Arguments.of(4, 4, 1, BATCH, SIDE));
        a.add(Arguments.of(24, 24, 1, BATCH, SIDE));
        a.add(Arguments.of(8, 8, 1, 1, 16));
        a.add(Arguments.of(4, 8, 1, 3, 8));
        a.add(Arguments.of(4, 8, 1, 3, 6));
        a.add(Arguments.of(4, 4, 1, 16, 4));
        return a.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}x{2}, batch {3}, side {4}")
    @MethodSource("sizes")
    void valuesAndGradientsMatchFloat64(int in, int out, int kernel, int batch, int side) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape inShape = new Shape(batch, in, side, side);
            Conv2dBlock conv = FlowLayerContract.perturbedConvolution(m, in, out, kernel, inShape, 11);
            Parameter weight = conv.getParameters().get("weight");
            Parameter bias = conv.getParameters().get("bias");
            NDArray x = FlowLayerContract.randn(m, inShape, 1);
            NDArray r = FlowLayerContract.randn(m, new Shape(batch, out, side, side), 2);
            try (NDManager pass = m.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(pass);
                xs.setRequiresGradient(true);
                NDArray y32;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    y32 = conv.apply(FlowLayerContract.training(pass), xs);
                    gc.backward(y32.mul(r).sum());
                }
                NDArray x64 = x.toType(DataType.FLOAT64, true);
                NDArray w64 = FlowLayerContract.rowMajorKernel(weight.getArray()).toType(DataType.FLOAT64, true);
                x64.setRequiresGradient(true);
                w64.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = Conv2d.conv2d(x64, w64, bias.getArray().toType(DataType.FLOAT64, true), new Shape(1, 1),
                            new Shape(kernel / 2, kernel / 2), new Shape(1, 1), 1).singletonOrThrow();
                    gc.backward(y.mul(r.toType(DataType.FLOAT64, true)).sum());
                    compare(y, y32, "convolution");
                }
                compare(x64.getGradient(), xs.getGradient(), "input gradient");
                compare(w64.getGradient(), FlowLayerContract.rowMajorKernel(weight.getArray().getGradient()),
                        "kernel gradient");
            }
        }
    }

    /** float32 sums of up to 8 x 8 x 8 x 24 terms: compared against the largest value. */
    private static void compare(NDArray expected, NDArray actual, String what) {
        FlowLayerContract.assertCloseToLargest(expected, actual, 1e-5, what);
    }
}
