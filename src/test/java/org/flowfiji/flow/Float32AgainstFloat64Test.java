package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.stream.Stream;
import org.flowfiji.model.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole flows at the widths users train (the architectures' default hidden widths, large Glow's,
 * odd widths, 1, 3 and 9 image channels) give the same log-likelihoods and maps in float32 as in
 * float64, with the same parameters: in passes without gradients (maps, evaluation) and in
 * training passes (gradients recorded), on two engine threads. float32 runs the engine's fast kernels (oneDNN, chosen per processor and
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
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(true);
            try {
                FlowContext training = FlowLayerContract.training(sub);
                NDArray ll32 = flow.forward(training, x).logLikelihood();
                NDArray ll64 = flow.forward(training, x64).logLikelihood();
                compare(ll64, ll32, name + ", training pass: log-likelihood");
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

    /** float32 against float64 values, relative to the largest of them. */
    private static void compare(NDArray expected, NDArray actual, String what) {
        FlowLayerContract.assertCloseToLargest(expected, actual, 1e-4, what);
    }
}
