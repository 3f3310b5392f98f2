package org.flowfiji.flow;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs the shared flow contract on every layer of the package, in several configurations. */
class LayerContractTest {

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
                layer("ActNorm", () -> new ActNorm(2), 2),
                layer("Squeeze", Squeeze::new, 2),
                layer("ReverseChannels", ReverseChannels::new, 3));
    }

    private static Arguments layer(String name, Supplier<FlowBlock> factory, int channels) {
        return Arguments.of(name, factory, channels);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void layerHonoursTheFlowContract(String name, Supplier<FlowBlock> factory, int channels) {
        Shape shape = new Shape(3, channels, 8, 8);
        FlowBlock layer = FlowLayerContract.prepare(manager, factory, shape, 5, b -> b);
        FlowLayerContract.checkLayer(manager, layer, factory, shape, new Shape(1, channels, 4, 4));
    }
}
