package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs the flow contract on whole architectures built by {@link Flows} (RealNVP, Glow, IAF), over a grid of configurations. */
class ArchitectureContractTest {

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

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of(new FlowConfig(Architecture.REALNVP, 1, 2, 1, 4, 1, false, false, false)),
                Arguments.of(new FlowConfig(Architecture.REALNVP, 2, 2, 2, 4, 1, true, true, true)),
                Arguments.of(new FlowConfig(Architecture.GLOW, 1, 2, 2, 4, 1, false, true, true)),
                Arguments.of(new FlowConfig(Architecture.GLOW, 2, 1, 1, 4, 1, true, false, true)),
                Arguments.of(new FlowConfig(Architecture.IAF, 1, 2, 2, 4, 1, false, false, true)),
                Arguments.of(new FlowConfig(Architecture.IAF, 2, 1, 1, 6, 1, false, true, true)),
                Arguments.of(new FlowConfig(Architecture.IAF, 1, 1, 2, 4, 1, false, false, true)));
    }

    private static MultiScaleFlow build(FlowConfig config) {
        return (MultiScaleFlow) Flows.create(config, SEED);
    }

    private static MultiScaleFlow prepared(FlowConfig config, Shape shape) {
        return FlowLayerContract.prepared(build(config), manager, shape);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void forwardIsFiniteInvertibleAndItsMapSumsToTheLikelihood(FlowConfig config) {
        Shape shape = new Shape(3, config.channels(), 8, 8);
        MultiScaleFlow flow = prepared(config, shape);
        try (NDManager sub = manager.newSubManager()) {
            FlowContext ctx = FlowLayerContract.eval(sub);
            NDArray x = FlowLayerContract.randn(sub, shape, 5);
            FlowOutput out = flow.forward(ctx.withMap(true), x);
            assertEquals(new Shape(3), out.logLikelihood().getShape());
            FlowLayerContract.assertFinite(out.logLikelihood(), "log-likelihood");
            FlowLayerContract.assertClose(out.logLikelihood(), out.logPrior().add(out.logdet()), 1e-6,
                    "log p = log prior + logdet");
            assertNotNull(out.pixelMap());
            assertEquals(new Shape(3, 8, 8), out.pixelMap().getShape());
            FlowLayerContract.assertClose(out.logLikelihood(), Tensors.perSample(out.pixelMap()), 1e-4,
                    "pixel map sum");
            assertEquals(null, flow.forward(ctx, x).pixelMap(), "no map unless asked for");

            List<NDArray> z = flow.latents(ctx, x);
            assertEquals(config.levels(), z.size());
            Step back = flow.decode(ctx, z);
            double err = FlowLayerContract.maxAbs(back.out().sub(x));
            assertTrue(err <= FlowLayerContract.ROUND_TRIP_TOL, "decode(latents(x)) differs from x by " + err);
            FlowLayerContract.assertClose(out.logdet(), back.logdet().neg(), 1e-5, "forward and inverse log-dets");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logdetMatchesTheJacobianOfAllLatents(FlowConfig config) {
        int side = config.sizeMultiple();
        Shape shape = new Shape(1, config.channels(), side, side);
        MultiScaleFlow flow = prepared(config, new Shape(3, config.channels(), 8, 8));
        FlowLayerContract.checkJacobian(manager, shape, x -> {
            FlowContext ctx = FlowLayerContract.eval(x.getManager());
            NDList flat = new NDList();
            for (NDArray z : flow.latents(ctx, x)) {
                flat.add(z.reshape(z.getShape().get(0), -1));
            }
            return new NDArray[] {NDArrays.concat(flat, 1), flow.forward(ctx, x).logdet()};
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void samplesAreFiniteAndTheirLogProbIsTheForwardLikelihood(FlowConfig config) {
        MultiScaleFlow flow = prepared(config, new Shape(3, config.channels(), 8, 8));
        try (NDManager sub = manager.newSubManager()) {
            FlowContext ctx = FlowLayerContract.eval(sub);
            Sample s = flow.sample(ctx, 4, 8, 16, 1f);
            assertEquals(new Shape(4, config.channels(), 8, 16), s.x().getShape());
            FlowLayerContract.assertFinite(s.x(), "samples");
            FlowLayerContract.assertClose(flow.forward(ctx, s.x()).logLikelihood(), s.logProb(), 1e-4,
                    "log q(sample) against the forward log-likelihood");
            Sample cold = flow.sample(ctx, 2, 8, 8, 0.5f);
            FlowLayerContract.assertFinite(cold.x(), "samples at temperature 0.5");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void savedParametersRebuildTheSameFlow(FlowConfig config) {
        Shape shape = new Shape(2, config.channels(), 8, 8);
        MultiScaleFlow flow = prepared(config, shape);
        MultiScaleFlow loaded = FlowLayerContract.saveAndLoad(manager, flow, () -> build(config));
        try (NDManager sub = manager.newSubManager()) {
            FlowContext ctx = FlowLayerContract.eval(sub);
            NDArray x = FlowLayerContract.randn(sub, shape, 6);
            assertArrayEquals(flow.forward(ctx, x).logLikelihood().toFloatArray(),
                    loaded.forward(ctx, x).logLikelihood().toFloatArray(), 0f);
            loaded.initializeFromData(ctx, x.mul(5));
            assertArrayEquals(flow.forward(ctx, x).logLikelihood().toFloatArray(),
                    loaded.forward(ctx, x).logLikelihood().toFloatArray(), 1e-5f,
                    "a loaded flow is not initialised again");
        }
    }
}
