package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.flowfiji.model.Engines;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 1x1 convolutions of the widths a coupling network may be given (its hidden channels) and of the
 * invertible 1x1 convolution's channel counts, in each way a pass runs them: with gradients
 * recorded, without, and with the ReLU fused (maps and sampling), on one engine thread and on two,
 * against the same convolution in float64. On one processor (an AMD EPYC with AVX-512, libtorch
 * 2.7.1's oneDNN 3.7.1) oneDNN's channels-last 1x1 kernel returned wrong values for more than 32
 * output channels that are not a multiple of 32 (36, 40, 72, 100: errors of half the largest
 * value); see {@link Conv2dBlock#conv2d}.
 */
class PointwiseConvolutionTest {

    static Stream<Arguments> sizes() {
        List<Arguments> a = new ArrayList<>();
        for (int out : new int[] {36, 40, 72, 100, 64}) {
            a.add(Arguments.of(8, out, 16, 4, 1));
            a.add(Arguments.of(8, out, 16, 4, 2));
            a.add(Arguments.of(out, out, 1, 16, 2));
        }
        a.add(Arguments.of(8, 40, 8, 8, 1));
        return a.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}, batch {2}, side {3}, {4} engine threads")
    @MethodSource("sizes")
    void everyPassMatchesFloat64(int in, int out, int batch, int side, int threads) {
        int before = Engines.threads();
        JniUtils.setNumThreads(threads);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape inShape = new Shape(batch, in, side, side);
            Conv2dBlock conv = FlowLayerContract.perturbedConvolution(m, in, out, 1, inShape, 5);
            Parameter weight = conv.getParameters().get("weight");
            Parameter bias = conv.getParameters().get("bias");
            NDArray x = FlowLayerContract.randn(m, inShape, 4);
            NDArray expected = Conv2d.conv2d(x.toType(DataType.FLOAT64, true),
                    FlowLayerContract.rowMajorKernel(weight.getArray()).toType(DataType.FLOAT64, true),
                    bias.getArray().toType(DataType.FLOAT64, true), new Shape(1, 1), new Shape(0, 0),
                    new Shape(1, 1), 1).singletonOrThrow();
            try (NDManager pass = m.newSubManager()) {
                FlowContext training = FlowLayerContract.training(pass);
                boolean grad = JniUtils.isGradMode();
                JniUtils.setGradMode(true);
                try {
                    compare(expected, conv.apply(training, x), "with gradients recorded");
                } finally {
                    JniUtils.setGradMode(grad);
                }
            }
            try (NDManager pass = m.newSubManager(); Engines.Inference off = Engines.inference()) {
                FlowContext eval = FlowLayerContract.eval(pass);
                compare(expected, conv.apply(eval, x), "without gradients");
                compare(expected.clip(0, Double.MAX_VALUE),
                        conv.applyChannelsLastRelu(eval, x, conv.weight(eval, x), true, true), "fused with its ReLU");
            }
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    private static void compare(NDArray expected, NDArray actual, String how) {
        FlowLayerContract.assertCloseToLargest(expected, actual, 1e-5, how);
    }
}
