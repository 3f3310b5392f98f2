package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused convolution and ReLU runs through the TorchScript module written in memory; it must
 * load, give the convolution followed by a ReLU (exactly where it calls the engine's convolution,
 * up to the order of the sums where it runs oneDNN's with a reordered kernel), and step aside when
 * gradients are recorded.
 */
class FusedConvolutionsTest {

    @ParameterizedTest(name = "{0} -> {1}, {2}x{2}, {3} x {4}x{5}, row padding {6}")
    @CsvSource({
        // few input channels over many positions: oneDNN's convolution with the ReLU in it
        "2, 16, 3, 1, 64, 160, 1",
        "4, 8, 3, 1, 70, 130, 0",
        "2, 16, 3, 3, 48, 64, 1",
        // wider inputs, or few positions: the engine's convolution and a ReLU in place
        "24, 8, 3, 1, 20, 30, 1",
        "32, 16, 1, 2, 64, 160, 0",
        "2, 16, 3, 1, 8, 8, 1"})
    void givesTheConvolutionFollowedByARelu(int in, int out, int k, int batch, int h, int w, int rowPad) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = FlowLayerContract.randn(m, new Shape(batch, in, h, w), 1);
            // channels-last kernel, as Conv2dBlock passes it
            NDArray kernel = Conv2dBlock.channelsLast(FlowLayerContract.randn(m, new Shape(out, in, k, k), 2));
            NDArray bias = FlowLayerContract.randn(m, new Shape(out), 3);
            assertTrue(FusedConvolutions.applies(x), "the TorchScript module loads and applies to float32 arrays");
            int pad = k / 2;
            NDArray fused = FusedConvolutions.convRelu(x, kernel, bias, rowPad * pad, pad);
            NDArray expected = Activation.relu(Conv2d.conv2d(x, kernel, bias, new Shape(1, 1),
                    new Shape(rowPad * pad, pad), new Shape(1, 1), 1).singletonOrThrow());
            assertEquals(expected.getShape(), fused.getShape());
            assertTrue(FusedConvolutions.packedAvailable(), "oneDNN's fused convolution is available on the CPU");
            boolean packed = in <= FusedConvolutions.PACKED_MAX_CHANNELS
                    && (long) batch * h * w >= FusedConvolutions.PACKED_MIN_POSITIONS;
            if (packed) {
                FlowLayerContract.assertClose(expected, fused, 1e-5, "oneDNN's convolution with a ReLU");
            } else {
                assertArrayEquals(expected.toFloatArray(), fused.toFloatArray(), "convolution, then a ReLU in place");
            }
            float[] values = fused.toFloatArray();
            long zeros = 0;
            for (float v : values) {
                assertTrue(v >= 0, "a ReLU's output");
                if (v == 0) zeros++;
            }
            assertTrue(zeros > 0 && zeros < values.length, "the ReLU cut some values, not all");
        }
    }

    @ParameterizedTest(name = "gradient recording {0}")
    @CsvSource({"true", "false"})
    void appliesOnlyWithoutGradients(boolean record) {
        try (NDManager m = NDManager.newBaseManager()) {
            // the engine is loaded by now
            boolean before = JniUtils.isGradMode();
            try {
                JniUtils.setGradMode(record);
                NDArray x = FlowLayerContract.randn(m, new Shape(1, 2, 4, 4), 1);
                if (record) {
                    assertFalse(FusedConvolutions.applies(x), "oneDNN's fused operations record no gradients");
                } else {
                    assertTrue(FusedConvolutions.applies(x));
                }
            } finally {
                JniUtils.setGradMode(before);
            }
        }
    }
}
