package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The coupling networks run their convolutions channels-last (kernels stored in that layout). Their
 * outputs and their parameters' gradients must be those of the same network written with plain
 * channels-first convolutions of the kernels, in evaluation and in training.
 */
class CouplingNetLayoutTest {

    private static final Shape IN = new Shape(2, 3, 9, 13);
    private static final Shape OUT = new Shape(2, 6, 9, 13);

    static Stream<Arguments> nets() {
        Supplier<CouplingNet> glow = () -> CouplingNet.glow(3, 8, 6, 5);
        Supplier<CouplingNet> resNet = () -> CouplingNet.resNet(3, 8, 6, 2, 5);
        return Stream.of(Arguments.of("glow", glow), Arguments.of("resnet", resNet));
    }

    private static CouplingNet prepared(NDManager m, Supplier<CouplingNet> factory, Shape shape) {
        CouplingNet net = factory.get();
        net.initialize(m, DataType.FLOAT32, shape);
        // non-zero weights everywhere, the zero-initialised last layer included
        FlowLayerContract.perturb(net, 7);
        return net;
    }

    /**
     * The parameters as float64 copies by name (DJL numbers child blocks: "01first_weight",
     * "02middle_bias", ...), leaves that record their gradients when {@code gradients} is true.
     */
    private static Map<String, NDArray> float64Parameters(CouplingNet net, boolean gradients) {
        Map<String, NDArray> p = new HashMap<>();
        for (Pair<String, Parameter> e : net.getParameters()) {
            NDArray v = e.getValue().getArray().toType(DataType.FLOAT64, true);
            if (gradients) v.setRequiresGradient(true);
            p.put(e.getKey().replaceFirst("^\\d+", ""), v);
        }
        return p;
    }

    /**
     * The network with channels-first convolutions of the parameters, in float64: the engine's
     * float32 channels-first kernels are not a reference on every processor (on one AMD EPYC their
     * input gradients came back wrong for convolutions of 3 or 8 channels to 8).
     */
    private static NDArray reference(Map<String, NDArray> p, NDArray x) {
        NDArray a = conv(x.toType(DataType.FLOAT64, true), p, "first");
        if (p.containsKey("middle_weight")) {
            a = conv(Activation.relu(a), p, "middle");
        } else {
            for (int k = 0; p.containsKey("res" + k + "a_weight"); k++) {
                a = a.add(conv(Activation.relu(conv(Activation.relu(a), p, "res" + k + "a")), p, "res" + k + "b"));
            }
        }
        return conv(Activation.relu(a), p, "last");
    }

    private static NDArray conv(NDArray x, Map<String, NDArray> p, String name) {
        NDArray w = FlowLayerContract.rowMajorKernel(p.get(name + "_weight"));
        int pad = (int) w.getShape().get(2) / 2;
        return Conv2d.conv2d(x, w, p.get(name + "_bias"), new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void evaluationMatchesStandardLayoutConvolutions(String name, Supplier<CouplingNet> factory) {
        try (NDManager m = NDManager.newBaseManager()) {
            CouplingNet net = prepared(m, factory, IN);
            NDArray x = FlowLayerContract.randn(m, IN, 3);
            try (NDManager pass = m.newSubManager()) {
                NDArray out = net.apply(FlowLayerContract.eval(pass), x);
                assertEquals(OUT, out.getShape());
                // float32 against float64 through up to six convolutions
                FlowLayerContract.assertClose(reference(float64Parameters(net, false), x), out, 1e-4, name + " output");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void trainingGradientsMatchStandardLayoutConvolutions(String name, Supplier<CouplingNet> factory) {
        try (NDManager m = NDManager.newBaseManager()) {
            CouplingNet net = prepared(m, factory, IN);
            NDArray x = FlowLayerContract.randn(m, IN, 3);
            NDArray r = FlowLayerContract.randn(m, OUT, 4);
            for (Parameter p : net.getParameters().values()) {
                p.getArray().setRequiresGradient(true);
            }
            Map<String, NDArray> p64 = float64Parameters(net, true);
            try (NDManager pass = m.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(pass);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(net.apply(FlowLayerContract.training(pass), xs).mul(r).sum());
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(reference(p64, x).mul(r.toType(DataType.FLOAT64, true)).sum());
                }
                double largest = 0;
                for (Pair<String, Parameter> p : net.getParameters()) {
                    NDArray g = p.getValue().getArray().getGradient().toType(DataType.FLOAT64, true);
                    NDArray expected = p64.get(p.getKey().replaceFirst("^\\d+", "")).getGradient();
                    double scale = FlowLayerContract.maxAbs(expected);
                    largest = Math.max(largest, scale);
                    // float32 sums against float64: compare against the parameter's largest gradient
                    double worst = FlowLayerContract.maxAbs(expected.sub(g));
                    assertTrue(worst <= 1e-4 * Math.max(1, scale),
                            name + " gradient of " + p.getKey() + " differs by " + worst + " (largest " + scale + ")");
                }
                assertTrue(largest > 1e-2, "the reference gradients are not all zero");
            }
        }
    }
}
