package org.flowfiji.flow;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
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
        List<Arguments> all = new ArrayList<>(List.of(
                layer("ActNorm", () -> new ActNorm(2), 2),
                layer("Squeeze", Squeeze::new, 2),
                layer("ReverseChannels", ReverseChannels::new, 3),
                layer("InvertibleConv1x1 C=2", () -> new InvertibleConv1x1(2, 7), 2),
                layer("InvertibleConv1x1 C=3", () -> new InvertibleConv1x1(3, 8), 3),
                layer("BatchNormFlow", () -> new BatchNormFlow(2), 2)));
        for (AffineCoupling.Mask mask : AffineCoupling.Mask.values()) {
            for (AffineCoupling.Scale scale : AffineCoupling.Scale.values()) {
                for (boolean parity : new boolean[] {false, true}) {
                    AffineCoupling.Net net = parity ? AffineCoupling.Net.RESNET : AffineCoupling.Net.GLOW;
                    int c = mask == AffineCoupling.Mask.CHANNEL ? 3 : 2;
                    all.add(layer("AffineCoupling " + mask + " " + scale + " parity=" + parity + " " + net,
                            () -> new AffineCoupling(c, mask, parity, scale, net, 4, 2, 9), c));
                }
            }
        }
        return all.stream();
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
