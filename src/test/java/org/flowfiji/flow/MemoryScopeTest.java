package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every array a pass creates lives in the pass's manager: the long-lived manager does not grow. */
class MemoryScopeTest {

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of(new FlowConfig(Architecture.REALNVP, 1, 2, 1, 4, 1, false, true, false)),
                Arguments.of(new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, true, true)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void passesLeaveNothingInTheLongLivedManager(FlowConfig config) {
        try (NDManager m = NDManager.newBaseManager()) {
            MultiScaleFlow flow = (MultiScaleFlow) Flows.create(config, 1);
            Shape shape = new Shape(2, 1, 8, 8);
            flow.initialize(m, DataType.FLOAT32, shape);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = FlowLayerContract.randn(m, shape, 1);
            try (NDManager sub = m.newSubManager()) {
                flow.initializeFromData(new FlowContext(ps, sub, true, false), x);
            }
            // the first round fills the layers' constant caches (masks, permutations), which live
            // with the parameters; later rounds must not add anything
            passes(flow, ps, m, x);
            int before = m.getManagedArrays().size();
            passes(flow, ps, m, x);
            passes(flow, ps, m, x);
            assertEquals(before, m.getManagedArrays().size(), "arrays left in the long-lived manager");
        }
    }

    /** A training pass with backward, then evaluation, latents, decoding and sampling, each in a scope of its own. */
    static void passes(MultiScaleFlow flow, ParameterStore ps, NDManager m, NDArray x) {
        try (NDManager sub = m.newSubManager()) {
            FlowContext train = new FlowContext(ps, sub, true, false);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(flow.forward(train, x).logLikelihood().mean().neg());
            }
        }
        try (NDManager sub = m.newSubManager()) {
            FlowContext eval = new FlowContext(ps, sub, false, true);
            flow.forward(eval, x);
            flow.decode(eval, flow.latents(eval, x));
            flow.sample(eval, 2, 8, 8, 0.8f);
        }
    }
}
