package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
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

/** The kernel's storage: files of the previous layout load into the same convolution. */
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
}
