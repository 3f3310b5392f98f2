package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MaskedConv2dTest {

    private static final int C = 2;
    private static final int H = 4;
    private static final int W = 3;

    /** Autoregressive position of element (c, i, j) with G = C groups: raster-major, then channel group. */
    private static int position(int c, int i, int j, int width, int groups) {
        return (i * width + j) * groups + MaskedConv2d.group(c, groups);
    }

    /**
     * Jacobian of A(2->6) ReLU B(6->6) ReLU B(6->4) at a random point, with random non-zero biases.
     * Returns J[out][in] in the flat C-order [C_out, H, W] x [C, H, W].
     */
    private static double[][] stackJacobian(NDManager m, int kernel) {
        MaskedConv2d a = new MaskedConv2d(C, 6, kernel, C, MaskedConv2d.Mask.A, false, 1);
        MaskedConv2d b1 = new MaskedConv2d(6, 6, kernel, C, MaskedConv2d.Mask.B, false, 1);
        MaskedConv2d b2 = new MaskedConv2d(6, 4, kernel, C, MaskedConv2d.Mask.B, false, 1);
        IafTesting.init(a, m, 3, DataType.FLOAT64, new Shape(1, C, H, W));
        IafTesting.init(b1, m, 4, DataType.FLOAT64, new Shape(1, 6, H, W));
        IafTesting.init(b2, m, 5, DataType.FLOAT64, new Shape(1, 6, H, W));
        for (MaskedConv2d blk : new MaskedConv2d[] {a, b1, b2}) IafTesting.perturb(blk, m, 0.3f);
        FlowContext ctx = FlowContext.eval(new ParameterStore(m, false), m);
        Function<NDArray, NDArray> f = x -> {
            NDArray h = Activation.relu(a.apply(a.weights(ctx, x, m, false), x));
            h = Activation.relu(b1.apply(b1.weights(ctx, h, m, false), h));
            return b2.apply(b2.weights(ctx, h, m, false), h);
        };
        NDArray x = m.randomNormal(new Shape(1, C, H, W)).toType(DataType.FLOAT64, false);
        return IafTesting.jacobian(f, x, 1e-6);
    }

    @Test
    void stackOfAThenBIsStrictlyAutoregressiveInRasterThenChannelOrder() {
        for (int kernel : new int[] {3, 5}) {
            try (NDManager m = NDManager.newBaseManager()) {
                double[][] jac = stackJacobian(m, kernel);
                int outChannels = 4;
                int allowedNonZero = 0;
                for (int o = 0; o < outChannels * H * W; o++) {
                    int oc = o / (H * W);
                    int oi = (o / W) % H;
                    int oj = o % W;
                    int po = position(oc, oi, oj, W, C);
                    for (int in = 0; in < C * H * W; in++) {
                        int ic = in / (H * W);
                        int ii = (in / W) % H;
                        int ij = in % W;
                        int pi = position(ic, ii, ij, W, C);
                        if (pi >= po) {
                            assertEquals(0.0, jac[o][in], 0.0, "output (" + oc + "," + oi + "," + oj
                                    + ") depends on later-or-same input (" + ic + "," + ii + "," + ij + ")");
                        } else if (Math.abs(jac[o][in]) > 1e-9) {
                            allowedNonZero++;
                        }
                    }
                }
                assertTrue(allowedNonZero > 100, "the stack must actually use earlier elements, got " + allowedNonZero);
            }
        }
    }

    @Test
    void centreTapFollowsTheMaskType() {
        try (NDManager m = NDManager.newBaseManager()) {
            MaskedConv2d a = new MaskedConv2d(3, 3, 3, 3, MaskedConv2d.Mask.A, false, 1);
            MaskedConv2d b = new MaskedConv2d(3, 3, 3, 3, MaskedConv2d.Mask.B, false, 1);
            double[] ma = a.maskArray(m, DataType.FLOAT64).toDoubleArray();
            double[] mb = b.maskArray(m, DataType.FLOAT64).toDoubleArray();
            for (int o = 0; o < 3; o++) {
                for (int c = 0; c < 3; c++) {
                    int centre = ((o * 3 + c) * 3 + 1) * 3 + 1;
                    assertEquals(c < o ? 1.0 : 0.0, ma[centre], "A centre o=" + o + " c=" + c);
                    assertEquals(c <= o ? 1.0 : 0.0, mb[centre], "B centre o=" + o + " c=" + c);
                    int above = ((o * 3 + c) * 3) * 3 + 2;
                    int right = ((o * 3 + c) * 3 + 1) * 3 + 2;
                    int below = ((o * 3 + c) * 3 + 2) * 3;
                    assertEquals(1.0, ma[above]);
                    assertEquals(0.0, ma[right]);
                    assertEquals(0.0, mb[below]);
                }
            }
        }
    }

    @Test
    void rejectsEvenKernelsAndWrongInputs() {
        assertThrows(IllegalArgumentException.class, () -> new MaskedConv2d(2, 2, 2, 2, MaskedConv2d.Mask.A, false, 1));
        try (NDManager m = NDManager.newBaseManager()) {
            MaskedConv2d a = new MaskedConv2d(2, 4, 3, 2, MaskedConv2d.Mask.A, false, 1);
            IafTesting.init(a, m, 1, DataType.FLOAT32, new Shape(1, 2, 4, 4));
            FlowContext ctx = FlowContext.eval(new ParameterStore(m, false), m);
            NDArray x = m.zeros(new Shape(1, 3, 4, 4));
            assertThrows(IllegalArgumentException.class, () -> a.apply(a.weights(ctx, x, m, false), x));
        }
    }
}
