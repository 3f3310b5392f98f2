package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IAF-specific checks on whole IAF architectures (the shared flow contract runs in {@link ArchitectureContractTest}). */
class IafFlowTest {

    private static final long SEED = 42;
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static IafFlow build(FlowConfig config) {
        return (IafFlow) Flows.create(config, SEED);
    }

    private static IafFlow prepared(FlowConfig config, Shape shape) {
        return FlowLayerContract.prepared(build(config), manager, shape);
    }

    @Test
    void everyStepSolvesItsDensityWithAtLeastOnePass() {
        FlowConfig config = new FlowConfig(Architecture.IAF, 1, 2, 2, 4, 1, false, false, true);
        Shape shape = new Shape(3, 1, 8, 8);
        IafFlow flow = prepared(config, shape);
        try (NDManager sub = manager.newSubManager()) {
            FlowOutput out = flow.forward(FlowLayerContract.eval(sub), FlowLayerContract.randn(sub, shape, 5));
            FlowLayerContract.assertFinite(out.logLikelihood(), "log-likelihood");
            assertTrue(flow.lastDensityPasses() >= flow.iafSteps().size(), "every step solves with at least one pass");
        }
    }

    @Test
    void maximumLikelihoodStepsLowerTheExactNegativeLogLikelihood() {
        FlowConfig config = new FlowConfig(Architecture.IAF, 1, 1, 1, 4, 1, false, false, true);
        Shape shape = new Shape(8, 1, 8, 8);
        IafFlow flow = build(config);
        flow.initialize(manager, DataType.FLOAT32, shape);
        try (NDManager data = manager.newSubManager()) {
            NDArray noise = FlowLayerContract.randn(data, new Shape(8, 1, 8, 9), 21);
            NDArray x = noise.get(":, :, :, 0:8").add(noise.get(":, :, :, 1:9").mul(0.9)).mul(0.4).add(0.5);
            flow.initializeFromData(FlowLayerContract.eval(data), x);
            FlowLayerContract.perturb(flow, 22, 0.02);
            double before = -flow.forward(FlowLayerContract.eval(data), x).logLikelihood().mean().getFloat();
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.03f)).build();
            ParameterStore ps = new ParameterStore(manager, false);
            for (int i = 0; i < 15; i++) {
                try (NDManager sub = data.newSubManager()) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        FlowContext train = new FlowContext(ps, sub, true, false);
                        NDArray nll = flow.forward(train, x).logLikelihood().mean().neg();
                        gc.backward(nll);
                    }
                    for (Pair<String, Parameter> p : flow.getParameters()) {
                        NDArray w = p.getValue().getArray();
                        if (w.hasGradient()) {
                            NDArray g = w.getGradient();
                            g.attach(sub);
                            adam.update(p.getValue().getId(), w, g);
                            g.subi(g);
                        }
                    }
                }
            }
            double after = -flow.forward(FlowLayerContract.eval(data), x).logLikelihood().mean().getFloat();
            assertTrue(after < before - 3, "maximum likelihood did not lower the NLL: " + before + " -> " + after);
        }
    }

    @Test
    void levelsAreSqueezeThenStepsOfActNormIafStepReverse() {
        FlowConfig config = new FlowConfig(Architecture.IAF, 3, 3, 2, 5, 1, false, false, true);
        IafFlow flow = build(config);
        assertEquals(3, flow.levels().size());
        int[] channels = {12, 24, 48};
        for (int l = 0; l < 3; l++) {
            StringBuilder kinds = new StringBuilder();
            for (FlowBlock b : flow.levels().get(l)) {
                kinds.append(b instanceof Squeeze ? "S" : b instanceof ActNorm ? "A" : b instanceof IafStep ? "I"
                        : b instanceof IafReverse ? "R" : "?");
            }
            assertEquals("SAIRAIR", kinds.toString());
            assertEquals(channels[l], flow.iafSteps().get(2 * l).channels(), "step channels at level " + l);
        }
        assertEquals(6, flow.iafSteps().size());
    }

    @Test
    void sameSeedSameFlowAndOnlyIafConfigurations() {
        FlowConfig config = FlowConfig.defaults(Architecture.IAF, 1).withHidden(4).withSteps(1);
        Shape shape = new Shape(1, 1, 8, 8);
        IafFlow a = build(config);
        IafFlow b = build(config);
        a.initialize(manager, DataType.FLOAT32, shape);
        b.initialize(manager, DataType.FLOAT32, shape);
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = FlowLayerContract.randn(sub, shape, 8);
            FlowContext ctx = FlowLayerContract.eval(sub);
            assertArrayEquals(a.forward(ctx, x).logLikelihood().toFloatArray(),
                    b.forward(ctx, x).logLikelihood().toFloatArray(), 0f);
        }
        assertThrows(IllegalArgumentException.class,
                () -> new IafFlow(FlowConfig.defaults(Architecture.GLOW, 1), 1));
    }
}
