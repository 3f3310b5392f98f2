package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An evaluation pass computes a coupling network in bands of rows with context; the result must be
 * the network's output on the whole input, for every band boundary and at the input's edges. The
 * input is tall enough for bands touching the top only, the bottom only, and neither. Over wide
 * bands, a network with few outputs computes its last convolution by kernel rows; that too must be
 * the network's output.
 */
class CouplingNetBandTest {

    static Stream<Arguments> nets() {
        return Stream.of(
                Arguments.of("glow", CouplingNet.glow(3, 8, 6, 5)),
                Arguments.of("resnet", CouplingNet.resNet(3, 8, 6, 2, 5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void bandsReproduceTheWholePass(String name, CouplingNet net) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(2, 3, 61, 11);
            net.initialize(m, DataType.FLOAT32, shape);
            // non-zero weights everywhere, the zero-initialised last layer included
            for (Pair<String, Parameter> p : net.getParameters()) {
                NDArray a = p.getValue().getArray();
                a.set(FlowLayerContract.randn(m, a.getShape(), p.getKey().hashCode()).mul(0.3f).toFloatArray());
            }
            NDArray x = FlowLayerContract.randn(m, shape, 3);
            try (NDManager pass = m.newSubManager()) {
                FlowContext eval = new FlowContext(new ParameterStore(pass, false), pass, false, true);
                float[] whole = net.apply(eval, x, Long.MAX_VALUE).toFloatArray();
                long rowBytes = 2L * 8 * 11 * Float.BYTES;
                int r = net.radius();
                // bands of at most 4r rows (the smallest) and of at most 4r + 3, as even as can be:
                // Glow 8 rows (the last 5) and 11 (the last 6), ResNet 21, 21 and 19
                for (long rows : new long[] {4L * r, 4L * r + 3}) {
                    NDArray banded = net.apply(eval, x, (rows + 2L * r) * rowBytes);
                    assertEquals(new Shape(2, 6, 61, 11), banded.getShape());
                    float[] b = banded.toFloatArray();
                    double worst = 0;
                    for (int i = 0; i < whole.length; i++) {
                        worst = Math.max(worst, Math.abs(b[i] - whole[i]));
                    }
                    assertTrue(worst <= 1e-5, name + ": bands of " + rows + " rows differ from the whole pass by " + worst);
                }
            }
        }
    }

    @Test
    void bandsByKernelRowsReproduceTheTrainingPass() {
        CouplingNet net = CouplingNet.glow(3, 8, 4, 5);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(1, 3, 100, 512);
            net.initialize(m, DataType.FLOAT32, shape);
            FlowLayerContract.perturb(net, 7);
            NDArray x = FlowLayerContract.randn(m, shape, 3);
            long rows = 40;
            assertTrue(new Conv2dBlock(8, 4, 3, true, 1).byRows(FlowLayerContract.eval(m), 32 * 512),
                    "bands of 32 to 34 rows of 512 take the last convolution by rows");
            try (NDManager pass = m.newSubManager()) {
                // a training pass: the whole input, every convolution as it is
                NDArray reference = net.apply(FlowLayerContract.training(pass), x);
                FlowContext eval = FlowLayerContract.eval(pass);
                long rowBytes = 8L * 512 * Float.BYTES;
                // one pass, and three bands of 34, 34 and 32 rows (top, neither edge, bottom)
                for (long bandBytes : new long[] {Long.MAX_VALUE, (rows + 2L * net.radius()) * rowBytes}) {
                    FlowLayerContract.assertClose(reference, net.apply(eval, x, bandBytes), 1e-5,
                            "bands of " + bandBytes + " bytes");
                }
            }
        }
    }
}
