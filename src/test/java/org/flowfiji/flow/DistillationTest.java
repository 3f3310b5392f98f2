package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DistillationTest {

    private static final Shape IMAGE = new Shape(4, 1, 8, 8);

    private static final FlowConfig GLOW = new FlowConfig(Architecture.GLOW, 1, 1, 1, 4, 1, false, false, true);
    private static final FlowConfig REALNVP = new FlowConfig(Architecture.REALNVP, 1, 1, 1, 4, 1, false, false, false);

    private static ImageFlow teacher(NDManager m) {
        return teacher(m, GLOW);
    }

    private static ImageFlow teacher(NDManager m, FlowConfig config) {
        ImageFlow glow = Flows.create(config, 3);
        glow.initialize(m, DataType.FLOAT32, IMAGE);
        try (NDManager sub = m.newSubManager()) {
            NDArray data = FlowLayerContract.randn(sub, IMAGE, 1).mul(0.5).add(0.2);
            glow.initializeFromData(FlowLayerContract.eval(sub), data);
        }
        FlowLayerContract.perturb(glow, 2, 0.2);
        return glow;
    }

    private static IafFlow student(NDManager m) {
        IafFlow iaf = new IafFlow(new FlowConfig(Architecture.IAF, 1, 1, 1, 4, 1, false, false, true), 5);
        iaf.initialize(m, DataType.FLOAT32, IMAGE);
        return iaf;
    }

    /** The loss on fixed noise (common random numbers), so that two evaluations are comparable. */
    private static double fixedNoiseLoss(Distillation d, NDManager m) {
        try (NDManager sub = m.newSubManager()) {
            Engine.getInstance().setRandomSeed(99);
            return d.estimate(FlowLayerContract.eval(sub), 16, 8, 8).loss().getFloat();
        }
    }

    @ParameterizedTest(name = "teacher {0}")
    @EnumSource(value = Architecture.class, names = {"GLOW", "REALNVP"})
    void adamStepsOnTheReverseKlLowerTheLossAndSamplesStayFinite(Architecture teacherArchitecture) {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageFlow teacher = teacher(m, teacherArchitecture == Architecture.GLOW ? GLOW : REALNVP);
            IafFlow student = student(m);
            Distillation d = new Distillation(student, teacher);
            double before = fixedNoiseLoss(d, m);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.02f)).build();
            ParameterStore ps = new ParameterStore(m, false);
            Engine.getInstance().setRandomSeed(1);
            for (int i = 0; i < 15; i++) {
                assertTrue(Double.isFinite(d.step(ps, m, adam, 8, 8, 8)));
            }
            double after = fixedNoiseLoss(d, m);
            assertTrue(after < before - 0.01, "distillation did not lower the loss: " + before + " -> " + after);
            try (NDManager sub = m.newSubManager()) {
                Sample s = student.sample(FlowLayerContract.eval(sub), 4, 8, 8, 1f);
                assertEquals(new Shape(4, 1, 8, 8), s.x().getShape());
                FlowLayerContract.assertFinite(s.x(), "student samples");
                FlowLayerContract.assertFinite(s.logProb(), "student log q");
            }
        }
    }

    @Test
    void gradientReachesTheStudentThroughTheSamplesAndNotTheTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageFlow teacher = teacher(m);
            IafFlow student = student(m);
            Distillation d = new Distillation(student, teacher);
            FlowLayerContract.perturb(student, 8, 0.05);
            ParameterStore ps = new ParameterStore(m, false);
            Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0f)).build();
            d.step(ps, m, sgd, 4, 8, 8);
            for (Pair<String, Parameter> p : teacher.getParameters()) {
                assertFalse(p.getValue().requiresGradient(), "teacher parameter " + p.getKey() + " is frozen");
            }
            try (NDManager sub = m.newSubManager();
                    var gc = Engine.getInstance().newGradientCollector()) {
                Distillation.Estimate e = d.estimate(new FlowContext(ps, sub, true, false), 4, 8, 8);
                NDArray teacherTerm = e.teacherLogProb().sum().neg();
                gc.backward(teacherTerm);
            }
            double teacherGradient = 0;
            for (IafStep step : student.iafSteps()) {
                for (Pair<String, Parameter> p : step.getParameters()) {
                    NDArray g = p.getValue().getArray().getGradient();
                    teacherGradient += g.abs().sum().getFloat();
                    g.subi(g);
                }
            }
            assertTrue(teacherGradient > 0, "-log p_teacher(x) must depend on the student's parameters through x");
        }
    }

    @Test
    void rejectsMismatchedChannels() {
        IafFlow s = new IafFlow(FlowConfig.defaults(Architecture.IAF, 1), 1);
        ImageFlow t = Flows.create(FlowConfig.defaults(Architecture.GLOW, 2), 1);
        assertThrows(IllegalArgumentException.class, () -> new Distillation(s, t));
    }
}
