package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.flowfiji.model.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole flows at the widths users train (the architectures' default hidden widths, large Glow's,
 * odd widths, 1, 3 and 9 image channels) give the same log-likelihoods and maps in float32 as in
 * float64, with the same parameters: in passes without gradients (maps, evaluation) and in
 * training passes (gradients recorded), on two engine threads; and the training passes give every
 * parameter the same gradient (float64: a twin flow with float64 parameters). float32 runs the engine's fast kernels (oneDNN, chosen per processor and
 * shape); float64 runs its reference kernels. A wrong float32 kernel for any layer's shape on the
 * machine running the tests shows here (on one processor oneDNN computed some 1x1 widths wrongly:
 * see {@link Conv2dBlock#pointwiseOutputs}).
 */
class Float32AgainstFloat64Test {

    private static NDManager manager;
    private static int threadsBefore;

    @BeforeAll
    static void open() {
        threadsBefore = Engines.threads();
        // two engine threads: libtorch then runs every convolution, 1x1 ones of small batches
        // included, in oneDNN's kernels (on one thread it runs those with its own)
        JniUtils.setNumThreads(2);
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
        JniUtils.setNumThreads(threadsBefore);
    }

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("RealNVP, default widths", new FlowConfig(Architecture.REALNVP, 1, 2, 2, 32, 2, false, false, false), 16),
                Arguments.of("Glow, default widths", new FlowConfig(Architecture.GLOW, 1, 2, 2, 64, 1, false, false, true), 16),
                Arguments.of("Glow, large widths", new FlowConfig(Architecture.GLOW, 1, 3, 1, 128, 1, false, false, true), 16),
                Arguments.of("Glow, 40 hidden, 3 channels", new FlowConfig(Architecture.GLOW, 3, 2, 2, 40, 1, false, true, true), 16),
                Arguments.of("Glow, 100 hidden, 9 channels", new FlowConfig(Architecture.GLOW, 9, 1, 2, 100, 1, true, false, true), 8),
                Arguments.of("IAF, default widths", new FlowConfig(Architecture.IAF, 1, 2, 2, 32, 1, false, false, true), 16));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void float32PassesMatchFloat64(String name, FlowConfig config, int side) {
        Shape shape = new Shape(8, config.channels(), side, side);
        MultiScaleFlow flow = FlowLayerContract.prepared((MultiScaleFlow) Flows.create(config, 17), manager, shape);
        try (NDManager sub = manager.newSubManager()) {
            // training passes first: they also give RealNVP's batch normalisation its running averages
            NDArray x = FlowLayerContract.randn(sub, shape, 6).mul(0.5);
            NDArray x64 = x.toType(DataType.FLOAT64, true);
            if (config.architecture() == Architecture.REALNVP && !config.actNorm()) {
                // batch normalisation's running averages (momentum 0.05) close to this batch's
                // statistics, so that passes without gradients see values of a trained model's size
                for (int i = 0; i < 150; i++) {
                    try (NDManager pass = sub.newSubManager()) {
                        flow.forward(FlowLayerContract.training(pass), x);
                    }
                }
            }
            // the same flow with float64 parameters, for the float64 gradients (a float64 pass of the
            // float32 flow converts its parameters by copies that carry no gradient back)
            MultiScaleFlow flow64 = (MultiScaleFlow) Flows.create(config, 17);
            flow64.initialize(sub, DataType.FLOAT64, shape);
            flow64.initializeFromData(FlowLayerContract.training(sub), x64);
            List<Pair<String, Parameter>> params32 = parameters(flow);
            List<Pair<String, Parameter>> params64 = parameters(flow64);
            for (int i = 0; i < params32.size(); i++) {
                NDArray values = params32.get(i).getValue().getArray();
                Tensors.overwrite(params64.get(i).getValue().getArray(), Tensors.doubles(values));
                values.setRequiresGradient(true);
            }
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(true);
            try {
                FlowContext training = FlowLayerContract.training(sub);
                NDArray ll32 = flow.forward(training, x).logLikelihood();
                List<NDArray> g32 = parameterGradients(params32, ll32, sub);
                NDArray ll64 = flow64.forward(FlowLayerContract.training(sub), x64).logLikelihood();
                List<NDArray> g64 = parameterGradients(params64, ll64, sub);
                compare(ll64, ll32, name + ", training pass: log-likelihood");
                compareGradients(params32, g64, g32, name);
            } finally {
                JniUtils.setGradMode(grad);
            }
            try (Engines.Inference off = Engines.inference()) {
                FlowContext eval = FlowLayerContract.eval(sub).withMap(true);
                FlowOutput out32 = flow.forward(eval, x);
                FlowOutput out64 = flow.forward(eval, x64);
                compare(out64.logLikelihood(), out32.logLikelihood(), name + ", without gradients: log-likelihood");
                compare(out64.pixelMap(), out32.pixelMap(), name + ", without gradients: map");
            }
        }
    }

    /** The flow's parameters with their names, in order. */
    private static List<Pair<String, Parameter>> parameters(MultiScaleFlow flow) {
        List<Pair<String, Parameter>> params = new ArrayList<>();
        flow.getParameters().forEach(params::add);
        return params;
    }

    /**
     * The gradients of sum(ll) with respect to {@code params}, as float64 copies in
     * {@code manager}, in their order; the parameters' gradients are left at zero.
     */
    private static List<NDArray> parameterGradients(List<Pair<String, Parameter>> params, NDArray ll, NDManager manager) {
        NDArray loss = ll.sum();
        JniUtils.backward((PtNDArray) loss, (PtNDArray) manager.ones(loss.getShape(), loss.getDataType()), false, false);
        List<NDArray> grads = new ArrayList<>();
        for (Pair<String, Parameter> named : params) {
            Parameter p = named.getValue();
            if (!p.requiresGradient()) {
                grads.add(null);
                continue;
            }
            NDArray g = p.getArray().getGradient();
            // a copy of its own: the gradient is zeroed below (a float64 toType may share its memory)
            NDArray copy = g.getDataType() == DataType.FLOAT64 ? g.duplicate() : g.toType(DataType.FLOAT64, true);
            copy.attach(manager);
            g.close();
            JniUtils.zeroGrad((PtNDArray) p.getArray());
            grads.add(copy);
        }
        return grads;
    }

    /**
     * Every parameter's gradient in the float32 training pass against the float64 one's: within
     * 1e-3 of the largest of that parameter's float64 gradient, or of a thousandth of the largest
     * over all parameters when that is more (sums of thousands of float32 terms, some cancelling).
     */
    private static void compareGradients(List<Pair<String, Parameter>> params, List<NDArray> expected, List<NDArray> actual, String name) {
        double largest = 0;
        for (NDArray e : expected) {
            if (e != null) largest = Math.max(largest, FlowLayerContract.maxAbs(e));
        }
        assertTrue(largest > 1e-2, name + ": the float64 gradients are all zeros");
        for (int i = 0; i < params.size(); i++) {
            if (expected.get(i) == null) continue; // no gradient (batch normalisation's running averages)
            double own = FlowLayerContract.maxAbs(expected.get(i));
            double worst = FlowLayerContract.maxAbs(expected.get(i).sub(actual.get(i)));
            assertTrue(worst <= 1e-3 * Math.max(own, 1e-3 * largest), name + ", training pass: gradient of "
                    + params.get(i).getKey() + " differs by " + worst + " (largest " + own + ", of all parameters " + largest + ")");
        }
    }

    /** float32 against float64 values, relative to the largest of them. */
    private static void compare(NDArray expected, NDArray actual, String what) {
        FlowLayerContract.assertCloseToLargest(expected, actual, 1e-4, what);
    }
}
