package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A few maximum-likelihood steps with Adam on a tiny structured batch must lower the negative log-likelihood. */
class TrainingSanityTest {

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of(new FlowConfig(Architecture.REALNVP, 1, 2, 1, 8, 1, false, false, false)),
                Arguments.of(new FlowConfig(Architecture.GLOW, 1, 2, 2, 8, 1, false, true, true)));
    }

    /** Smooth stripes with random phase and a little noise: far from a standard normal. */
    private static NDArray stripes(NDManager m, int batch, long seed) {
        Random r = new Random(seed);
        double[] v = new double[batch * 64];
        for (int b = 0; b < batch; b++) {
            double phase = r.nextDouble() * Math.PI;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    v[b * 64 + y * 8 + x] = 0.5 + 0.4 * Math.sin(0.8 * x + phase) + 0.05 * r.nextGaussian();
                }
            }
        }
        return m.create(v, new Shape(batch, 1, 8, 8)).toType(DataType.FLOAT32, false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void adamStepsLowerTheNegativeLogLikelihood(FlowConfig config) {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageFlow flow = Flows.create(config, 3);
            NDArray data = stripes(m, 8, 1);
            flow.initialize(m, DataType.FLOAT32, data.getShape());
            ParameterStore ps = new ParameterStore(m, false);
            flow.initializeFromData(new FlowContext(ps, m, true, false), data);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build();
            double first = Double.NaN;
            double last = Double.NaN;
            for (int step = 0; step < 30; step++) {
                try (NDManager sub = m.newSubManager()) {
                    FlowContext ctx = new FlowContext(ps, sub, true, false);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray nll = flow.forward(ctx, data).logLikelihood().mean().neg();
                        gc.backward(nll);
                        last = nll.getFloat();
                    }
                    if (step == 0) {
                        first = last;
                    }
                    for (Pair<String, Parameter> p : flow.getParameters()) {
                        Parameter param = p.getValue();
                        if (param.requiresGradient()) {
                            NDArray w = param.getArray();
                            NDArray g = w.getGradient();
                            g.attach(sub);
                            adam.update(param.getId(), w, g);
                            g.subi(g);
                        }
                    }
                }
            }
            assertTrue(Double.isFinite(last), "training diverged");
            assertTrue(last < first - 0.1 * Math.abs(first) - 5,
                    "NLL went from " + first + " to " + last + " in 30 steps");
        }
    }
}
