package org.flowfiji.flow;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs the shared flow contract ({@link FlowLayerContract}) on the IAF layers, every parameter perturbed. */
class IafLayerContractTest {

    /**
     * Standard deviation of the noise added to every parameter. Smaller than the shared 0.3: an
     * IAF step's sampling direction multiplies by sigmoid(s + 2), and weights pushed far enough
     * drive sigma to ~1e-7 on random inputs, where the density direction's latents reach 1e7 and
     * stop being a meaningful round-trip test in float32.
     */
    private static final double PERTURBATION = 0.1;

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> layers() {
        return Stream.of(
                layer("IafStep C=1 H=4", () -> new IafStep(1, 4, 3), 1),
                layer("IafStep C=2 H=6", () -> new IafStep(2, 6, 4), 2),
                layer("IafStep C=3 H=5 k=1", () -> new IafStep(3, 5, 1, 5), 3),
                layer("IafReverse", IafReverse::new, 3));
    }

    private static Arguments layer(String name, Supplier<FlowBlock> factory, int channels) {
        return Arguments.of(name, factory, channels);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void layerHonoursTheFlowContract(String name, Supplier<FlowBlock> factory, int channels) {
        Shape shape = new Shape(3, channels, 8, 8);
        FlowBlock layer = factory.get();
        layer.initialize(manager, DataType.FLOAT32, shape);
        FlowLayerContract.perturb(layer, 6, PERTURBATION);
        FlowLayerContract.checkLayer(manager, layer, factory, shape, new Shape(1, channels, 4, 4));
    }
}
