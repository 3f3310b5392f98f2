package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.flowfiji.model.Engines;
import org.junit.jupiter.api.Test;

class FlatAdamTest {

    private static final Shape[] SHAPES = {new Shape(4, 2, 3, 3), new Shape(7), new Shape(5, 5)};
    private static final int STEPS = 6;

    private static Tracker warmUp() {
        return Tracker.warmUp().setMainTracker(Tracker.fixed(0.01f)).optWarmUpSteps(3).optWarmUpBeginValue(0.002f).build();
    }

    private static List<Parameter> parameters(NDManager m, long seed) {
        Random r = new Random(seed);
        List<Parameter> ps = new ArrayList<>();
        for (int i = 0; i < SHAPES.length; i++) {
            float[] v = new float[(int) SHAPES[i].size()];
            for (int j = 0; j < v.length; j++) v[j] = (float) r.nextGaussian();
            NDArray a = m.create(v, SHAPES[i]);
            a.setRequiresGradient(true);
            ps.add(Parameter.builder().setName("p" + i).setType(Parameter.Type.WEIGHT).optArray(a).build());
        }
        return ps;
    }

    /** Gradients of Σ (c·w + w²/2) with step-dependent coefficients c, accumulated into the parameters. */
    private static void backward(NDManager m, List<Parameter> ps, int step) {
        JniUtils.setGradMode(true);
        try (NDManager scope = m.newSubManager()) {
            NDArray loss = null;
            Random r = new Random(100 + step);
            for (Parameter p : ps) {
                NDArray w = p.getArray();
                float[] c = new float[(int) w.size()];
                for (int j = 0; j < c.length; j++) c[j] = (float) (r.nextGaussian() * Math.pow(10, j % 3 - 1));
                NDArray view = w.reshape(w.getShape());
                view.attach(scope);
                NDArray term = view.mul(scope.create(c, w.getShape())).add(view.square().mul(0.5f)).sum();
                loss = loss == null ? term : loss.add(term);
            }
            JniUtils.backward((PtNDArray) loss, (PtNDArray) scope.ones(loss.getShape()), false, false);
        } finally {
            JniUtils.setGradMode(false);
        }
    }

    @Test
    void stepsEqualDjlAdamAndResetTheGradients() {
        Engines.pytorch();
        float factor = 0.5f;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            List<Parameter> reference = parameters(m, 1);
            List<Parameter> flat = parameters(m, 1);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(warmUp()).build();
            try (FlatAdam flatAdam = new FlatAdam(m, flat, warmUp())) {
                for (int step = 1; step <= STEPS; step++) {
                    backward(m, reference, step);
                    backward(m, flat, step);
                    for (Parameter p : reference) {
                        NDArray w = p.getArray();
                        adam.update(p.getId(), w, w.getGradient().mul(factor));
                    }
                    try (NDManager scope = m.newSubManager()) {
                        flatAdam.step(flatAdam.gradients(scope), factor, scope);
                    }
                    for (int i = 0; i < SHAPES.length; i++) {
                        float[] want = reference.get(i).getArray().toFloatArray();
                        float[] got = flat.get(i).getArray().toFloatArray();
                        float[] grad = flat.get(i).getArray().getGradient().toFloatArray();
                        for (int j = 0; j < want.length; j++) {
                            assertEquals(want[j], got[j], 1e-6f * Math.max(1, Math.abs(want[j])),
                                    "parameter " + i + "[" + j + "] after step " + step);
                            assertEquals(0f, grad[j], "gradient " + i + "[" + j + "] after step " + step);
                        }
                    }
                }
                // the steps did move the parameters (so the comparison above is not of unchanged values)
                float[] start = parameters(m, 1).get(0).getArray().toFloatArray();
                float[] end = flat.get(0).getArray().toFloatArray();
                double moved = 0;
                for (int j = 0; j < start.length; j++) moved = Math.max(moved, Math.abs(start[j] - end[j]));
                assertTrue(moved > 1e-3, "largest change " + moved);
            }
        }
    }

    @Test
    void emptyShareHasNoGradientsAndStepsDoNothing() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
             FlatAdam empty = new FlatAdam(m, List.of(), warmUp());
             NDManager scope = m.newSubManager()) {
            assertTrue(empty.isEmpty());
            assertNull(empty.gradients(scope));
            empty.step(null, 1f, scope);
            assertEquals(0, scope.getManagedArrays().size());
        }
    }
}
