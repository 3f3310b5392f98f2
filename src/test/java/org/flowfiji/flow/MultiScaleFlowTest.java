package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiScaleFlowTest {

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    @Test
    void latentTermsAreSpreadEvenlyOverTheirPixelBlock() {
        FlowConfig config = new FlowConfig(Architecture.GLOW, 1, 1, 1, 4, 1, false, false, true);
        MultiScaleFlow flow = new MultiScaleFlow(config, List.of(List.of(new Squeeze())), List.of(),
                GaussianPrior.standard());
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(1, 1, 4, 4);
            flow.initialize(m, DataType.FLOAT32, shape);
            NDArray x = FlowLayerContract.randn(m, shape, 1);
            FlowOutput out = flow.forward(FlowLayerContract.eval(m).withMap(true), x);
            double[] v = Tensors.doubles(x);
            double[] map = Tensors.doubles(out.pixelMap());
            for (int y = 0; y < 4; y++) {
                for (int xx = 0; xx < 4; xx++) {
                    double block = 0;
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            double e = v[(y / 2 * 2 + dy) * 4 + xx / 2 * 2 + dx];
                            block += -HALF_LOG_2PI - 0.5 * e * e;
                        }
                    }
                    assertEquals(block / 4, map[y * 4 + xx], 1e-5, "pixel " + y + "," + xx);
                }
            }
        }
    }

    @Test
    void rejectsImagesOfTheWrongSizeAndParametersOfAnotherSize() {
        FlowConfig small = new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, true, true);
        MultiScaleFlow flow = Flows.glow(small, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            flow.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> flow.forward(FlowLayerContract.eval(m), m.zeros(new Shape(1, 1, 6, 8))));
            assertTrue(e.getMessage().contains("multiples of 4"), e.getMessage());
            AssertionError load = assertThrows(AssertionError.class,
                    () -> FlowLayerContract.saveAndLoad(m, flow, () -> Flows.glow(small.withHidden(8), 1)));
            assertTrue(load.getCause().getMessage().contains("other sizes"), load.getCause().getMessage());
        }
    }

    @Test
    void sampleLogProbIsDifferentiableInTheParametersWhenTraining() {
        FlowConfig config = new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, true, true);
        MultiScaleFlow flow = Flows.glow(config, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            flow.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8));
            FlowLayerContract.perturb(flow, 3, 0.1);
            FlowContext ctx = FlowLayerContract.training(m);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Sample s = flow.sample(ctx, 2, 8, 8, 0.7f);
                gc.backward(s.logProb().sum());
            }
            double largest = 0;
            for (Parameter p : flow.getParameters().values()) {
                largest = Math.max(largest, FlowLayerContract.maxAbs(p.getArray().getGradient()));
            }
            assertTrue(largest > 1e-3, "log q(sample) carries gradients to the parameters");
        }
    }

    @Test
    void theSeedFixesEveryInitialParameter() {
        FlowConfig config = new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, true, true);
        try (NDManager m = NDManager.newBaseManager()) {
            double[] a = allParameters(m, Flows.create(config, 5));
            double[] b = allParameters(m, Flows.create(config, 5));
            double[] c = allParameters(m, Flows.create(config, 6));
            assertEquals(a.length, c.length);
            double same = 0;
            double other = 0;
            for (int i = 0; i < a.length; i++) {
                same = Math.max(same, Math.abs(a[i] - b[i]));
                other = Math.max(other, Math.abs(a[i] - c[i]));
            }
            assertEquals(0, same, 0.0, "same seed, same parameters");
            assertTrue(other > 0.01, "another seed gives other parameters");
        }
    }

    private static double[] allParameters(NDManager m, ImageFlow flow) {
        flow.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8));
        return flow.getParameters().values().stream()
                .flatMapToDouble(p -> java.util.Arrays.stream(Tensors.doubles(p.getArray())))
                .toArray();
    }
}
