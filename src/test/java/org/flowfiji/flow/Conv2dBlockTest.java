package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernel's storage: files of the previous layout load into the same convolution. The
 * convolution by kernel rows gives the convolution's result, at every combination of padded sides.
 */
class Conv2dBlockTest {

    private static final int IN = 3;
    private static final int OUT = 5;
    private static final int K = 3;
    private static final Shape X = new Shape(2, IN, 7, 6);

    private static Conv2dBlock block(NDManager m) {
        Conv2dBlock b = new Conv2dBlock(IN, OUT, K, false, 11);
        b.initialize(m, DataType.FLOAT32, X);
        return b;
    }

    private static byte[] bytes(Parameter p) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.save(new DataOutputStream(out));
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /**
     * The parameters of {@code b} as a version-1 file wrote them: the same header (version byte
     * aside) and bias, the kernel as a row-major [out, in, k, k] array.
     */
    private static byte[] versionOne(Conv2dBlock b) throws IOException {
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        b.saveParameters(new DataOutputStream(current));
        byte[] all = current.toByteArray();
        Parameter weight = b.getParameters().get("weight");
        Parameter bias = b.getParameters().get("bias");
        byte[] w2 = bytes(weight);
        byte[] b2 = bytes(bias);
        assertEquals(2, all[0], "current version");
        byte[] header = Arrays.copyOfRange(all, 1, all.length - w2.length - b2.length);
        NDArray kernel = FlowLayerContract.rowMajorKernel(weight.getArray());
        assertEquals(new Shape(OUT, IN, K, K), kernel.getShape());
        Parameter old = Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).optArray(kernel).build();
        return concat(new byte[] {1}, header, bytes(old), b2);
    }

    @Test
    void versionOneFilesGiveTheSameConvolution() throws IOException, MalformedModelException {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2dBlock original = block(m);
            FlowLayerContract.perturb(original, 3);
            Conv2dBlock loaded = block(m);
            loaded.loadParameters(m, new DataInputStream(new ByteArrayInputStream(versionOne(original))));
            NDArray x = FlowLayerContract.randn(m, X, 5);
            try (NDManager pass = m.newSubManager()) {
                FlowContext ctx = FlowLayerContract.eval(pass);
                FlowLayerContract.assertClose(original.apply(ctx, x), loaded.apply(ctx, x), 1e-6, "output");
            }
            assertEquals(new Shape(OUT, K, K, IN), loaded.getParameters().get("weight").getArray().getShape());
        }
    }

    @Test
    void otherVersionsAreRejected() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2dBlock original = block(m);
            byte[] file = versionOne(original);
            file[0] = 3;
            Conv2dBlock loaded = block(m);
            MalformedModelException e = assertThrows(MalformedModelException.class,
                    () -> loaded.loadParameters(m, new DataInputStream(new ByteArrayInputStream(file))));
            assertEquals("Cannot load parameters of a convolution: file has version 3, this software reads versions 1 and 2",
                    e.getMessage());
        }
    }

    @ParameterizedTest(name = "out {0}, kernel {1}")
    @CsvSource({"4, 3", "1, 3", "3, 5"})
    void byRowsEqualsTheConvolution(int out, int kernel) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(2, IN, 13, 9);
            Conv2dBlock conv = new Conv2dBlock(IN, out, kernel, true, 11);
            conv.initialize(m, DataType.FLOAT32, shape);
            // the zero-initialised kernel and bias perturbed: every row of the kernel and the bias count
            FlowLayerContract.perturb(conv, 3);
            NDArray x = FlowLayerContract.randn(m, shape, 5);
            try (NDManager pass = m.newSubManager()) {
                FlowContext ctx = FlowLayerContract.eval(pass);
                NDArray w = conv.weight(ctx, x);
                NDList rows = conv.rowsKernel(ctx, x);
                for (boolean top : new boolean[] {true, false}) {
                    for (boolean bottom : new boolean[] {true, false}) {
                        NDArray expected = conv.applyChannelsLast(ctx, x, w, top, bottom);
                        NDArray actual = conv.applyByRows(ctx, x, rows, top, bottom);
                        assertEquals(expected.getShape(), actual.getShape(), "top " + top + ", bottom " + bottom);
                        FlowLayerContract.assertClose(expected, actual, 1e-5, "top " + top + ", bottom " + bottom);
                    }
                }
            }
        }
    }

    @Test
    void byRowsOnlyForNarrowOutputsOverLargeInputsWithoutTraining() {
        try (NDManager m = NDManager.newBaseManager()) {
            FlowContext eval = FlowLayerContract.eval(m);
            long band = 32L * 512;
            assertTrue(new Conv2dBlock(64, 4, 3, true, 1).byRows(eval, band), "64 -> 4, 3x3");
            assertTrue(new Conv2dBlock(64, 3, 5, true, 1).byRows(eval, band), "64 -> 3, 5x5");
            assertFalse(new Conv2dBlock(64, 8, 3, true, 1).byRows(eval, band), "64 -> 8: 24 channels by rows");
            assertFalse(new Conv2dBlock(64, 4, 1, true, 1).byRows(eval, band), "1x1");
            assertFalse(new Conv2dBlock(64, 4, 3, true, 1).byRows(eval, 16L * 16 * 16), "training-sized patches");
            assertFalse(new Conv2dBlock(64, 4, 3, true, 1).byRows(FlowLayerContract.training(m), band), "training");
        }
    }
}
