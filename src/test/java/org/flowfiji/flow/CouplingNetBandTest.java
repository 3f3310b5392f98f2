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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An evaluation pass computes a coupling network in bands of rows with context; the result must be
 * the network's output on the whole input, for every band boundary and at the input's edges. The
 * input is tall enough for bands touching the top only, the bottom only, and neither.
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
                // bands of 4r rows (the smallest), and of 4r + 3 rows (a short last band)
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
}
