package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class IafStepTest {

    private static IafStep step(NDManager m, Shape shape, DataType type, int gradientPasses, float noise) {
        IafStep s = new IafStep((int) shape.get(1), 6, gradientPasses, 21);
        IafTesting.init(s, m, 11, type, shape);
        IafTesting.perturb(s, m, noise);
        return s;
    }

    private static NDArray input(NDManager m, Shape shape, DataType type) {
        Engine.getInstance().setRandomSeed(5);
        return m.randomNormal(shape).toType(type, false);
    }

    @Test
    void roundTripAndLogdetsCancel() {
        for (Shape shape : new Shape[] {new Shape(1, 2, 4, 4), new Shape(2, 2, 8, 8), new Shape(2, 1, 8, 8)}) {
            try (NDManager m = NDManager.newBaseManager()) {
                IafStep s = step(m, shape, DataType.FLOAT32, 3, 0.2f);
                FlowContext ctx = new FlowContext(new ParameterStore(m, false), m, false, true);
                NDArray y = input(m, shape, DataType.FLOAT32);
                Step fwd = s.forward(ctx, y);
                Step inv = s.inverse(ctx, fwd.out());
                assertTrue(IafTesting.maxAbsDiff(inv.out(), y) <= 1e-4, "round trip " + shape);
                NDArray zero = m.zeros(new Shape(shape.get(0)));
                assertTrue(IafTesting.maxAbsDiff(fwd.logdet().add(inv.logdet()), zero) <= 1e-4,
                        "log-dets cancel");
                assertTrue(fwd.logdet().abs().sum().getFloat() > 0.1,
                        "a non-trivial step has a non-zero log-determinant");
                assertTrue(IafTesting.maxAbsDiff(fwd.logdetMap().sum(new int[] {1, 2, 3}), fwd.logdet()) <= 1e-4);
                assertTrue(IafTesting.maxAbsDiff(inv.logdetMap().sum(new int[] {1, 2, 3}), inv.logdet()) <= 1e-4);
                assertEquals(shape, fwd.logdetMap().getShape());
                assertTrue(s.lastSolvePasses() >= 1 && s.lastSolvePasses() <= shape.size(1, 2, 3));
            }
        }
    }

    @Test
    void samplingDirectionIsOneExactParallelPassAndDensityInvertsIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(1, 2, 4, 4);
            IafStep s = step(m, shape, DataType.FLOAT64, 3, 0.3f);
            FlowContext ctx = FlowContext.eval(new ParameterStore(m, false), m);
            NDArray u = input(m, shape, DataType.FLOAT64);
            NDArray y = s.inverse(ctx, u).out();
            IafStep.Solve solve = s.solve(ctx, y);
            assertEquals(32, solve.dimension());
            assertTrue(solve.passes() <= 32);
            assertTrue(IafTesting.maxAbsDiff(solve.step().out(), u) <= 1e-10, "float64 solve is exact");
        }
    }

    /**
     * A training pass stops the solve once its changes are down to rounding: fewer passes than the
     * evaluation solve, which runs to the exact fixed point, and a result that differs from it by
     * rounding-sized amounts only (float32, where the last passes change single units of rounding).
     */
    @Test
    void trainingSolveStopsAtRoundingAndEvaluationAtTheFixedPoint() {
        Shape shape = new Shape(2, 4, 8, 8);
        try (NDManager m = NDManager.newBaseManager()) {
            IafStep s = step(m, shape, DataType.FLOAT32, 3, 0.2f);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray y = input(m, shape, DataType.FLOAT32);
            IafStep.Solve exact = s.solve(FlowContext.eval(ps, m), y);
            IafStep.Solve training;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                training = s.solve(new FlowContext(ps, m, true, false), y);
            }
            assertTrue(training.passes() < exact.passes(),
                    "training " + training.passes() + " passes, evaluation " + exact.passes());
            double scale = 1 + y.abs().max().getFloat();
            double roundings = IafTesting.maxAbsDiff(training.step().out(), exact.step().out())
                    / (Math.ulp(1.0f) * scale);
            assertTrue(roundings <= IafStep.TRAINING_STOP_ROUNDINGS, "u differs by " + roundings + " roundings");
            double logdet = IafTesting.maxAbsDiff(training.step().logdet(), exact.step().logdet());
            assertTrue(logdet <= 1e-5 * Math.abs(exact.step().logdet().getFloat(0)), "logdet differs by " + logdet);
        }
    }

    /** Both directions against central-difference Jacobians in float64, all parameters perturbed. */
    @Test
    void logdetsMatchBruteForceJacobianInFloat64() {
        Shape shape = new Shape(1, 2, 3, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            IafStep s = step(m, shape, DataType.FLOAT32, 3, 0.2f);
            FlowLayerContract.checkJacobian(m, shape, x -> {
                Step st = s.inverse(FlowLayerContract.eval(x.getManager()), x);
                return new NDArray[] {st.out(), st.logdet()};
            });
            FlowLayerContract.checkJacobian(m, shape, x -> {
                Step st = s.forward(FlowLayerContract.eval(x.getManager()), x);
                return new NDArray[] {st.out(), st.logdet()};
            });
        }
    }

    @Test
    void saveLoadGivesIdenticalOutputs() throws Exception {
        Shape shape = new Shape(2, 2, 4, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            IafStep s = step(m, shape, DataType.FLOAT32, 3, 0.2f);
            IafStep copy = new IafStep(2, 6, 3, 77);
            IafTesting.init(copy, m, 99, DataType.FLOAT32, shape);
            IafTesting.copyParameters(s, copy, m);
            FlowContext ctx = FlowContext.eval(new ParameterStore(m, false), m);
            NDArray x = input(m, shape, DataType.FLOAT32);
            assertArrayEquals(s.inverse(ctx, x).out().toFloatArray(), copy.inverse(ctx, x).out().toFloatArray());
            assertArrayEquals(s.forward(ctx, x).out().toFloatArray(), copy.forward(ctx, x).out().toFloatArray());
            assertArrayEquals(s.forward(ctx, x).logdet().toFloatArray(), copy.forward(ctx, x).logdet().toFloatArray());
        }
    }

    /**
     * With k = D differentiable passes the training density pass has the exact gradient; with k = 1
     * it has the documented truncated one. Compares the gradient of {@code sum(r ⊙ u) + logdet}
     * with respect to the parameters against central differences of the exact (evaluation) solve.
     */
    @Test
    void trainingDensityPassIsExactWithDPassesAndTruncatedWithFewer() {
        assertTrue(worstGradientError(8) < 1e-5, "k = D gives the exact gradient");
        assertTrue(worstGradientError(1) > 1e-3, "k = 1 keeps only the first Neumann term");
    }

    /** Largest relative deviation of the training-pass gradient from finite differences, on [1, 2, 2, 2] (D = 8). */
    private static double worstGradientError(int gradientPasses) {
        Shape shape = new Shape(1, 2, 2, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            IafStep s = step(m, shape, DataType.FLOAT64, gradientPasses, 0.3f);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray y = input(m, shape, DataType.FLOAT64);
            NDArray r = m.randomNormal(shape).toType(DataType.FLOAT64, false);
            FlowContext train = new FlowContext(ps, m, true, false);
            FlowContext eval = FlowContext.eval(ps, m);
            double lossTrain;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Step st = s.forward(train, y);
                NDArray loss = st.out().mul(r).sum().add(st.logdet().sum());
                lossTrain = loss.getDouble();
                gc.backward(loss);
            }
            Step ev = s.forward(eval, y);
            assertEquals(ev.out().mul(r).sum().add(ev.logdet().sum()).getDouble(), lossTrain, 1e-12,
                    "the value is exact for any number of differentiable passes");
            double worst = 0;
            int checked = 0;
            for (var p : s.getParameters()) {
                NDArray a = p.getValue().getArray();
                double[] grad = a.getGradient().toDoubleArray();
                double[] base = a.toDoubleArray();
                for (int i = 0; i < base.length; i += Math.max(1, base.length / 3)) {
                    double[] plus = base.clone();
                    double[] minus = base.clone();
                    double eps = 1e-6;
                    plus[i] += eps;
                    minus[i] -= eps;
                    a.set(plus);
                    Step sp = s.forward(eval, y);
                    double lp = sp.out().mul(r).sum().add(sp.logdet().sum()).getDouble();
                    a.set(minus);
                    Step sm = s.forward(eval, y);
                    double lm = sm.out().mul(r).sum().add(sm.logdet().sum()).getDouble();
                    a.set(base);
                    double fd = (lp - lm) / (2 * eps);
                    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1, Math.abs(fd)));
                    checked++;
                }
            }
            assertTrue(checked > 15);
            return worst;
        }
    }

    @Test
    void reverseFlipsTheOrderAndIsItsOwnInverse() {
        try (NDManager m = NDManager.newBaseManager()) {
            IafReverse rev = new IafReverse();
            FlowContext ctx = new FlowContext(new ParameterStore(m, false), m, false, true);
            NDArray x = m.arange(24f).reshape(1, 2, 3, 4);
            Step f = rev.forward(ctx, x);
            assertEquals(23f, f.out().getFloat(0, 0, 0, 0));
            assertEquals(0f, f.out().getFloat(0, 1, 2, 3));
            assertArrayEquals(x.toFloatArray(), rev.inverse(ctx, f.out()).out().toFloatArray());
            assertEquals(0f, f.logdet().getFloat(0));
            assertEquals(0f, f.logdetMap().abs().sum().getFloat());
        }
    }

    @Test
    void rejectsWrongChannelCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            IafStep s = step(m, new Shape(1, 2, 4, 4), DataType.FLOAT32, 3, 0.1f);
            FlowContext ctx = FlowContext.eval(new ParameterStore(m, false), m);
            assertThrows(IllegalArgumentException.class, () -> s.forward(ctx, m.zeros(new Shape(1, 3, 4, 4))));
        }
    }

    @Test
    void densitySolveRejectsANetworkThatOverflows() {
        try (NDManager m = NDManager.newBaseManager()) {
            // weights of 1e30: the network's outputs overflow to infinities, m + (y - m) / sigma is undefined
            Shape shape = new Shape(1, 2, 4, 4);
            IafStep s = step(m, shape, DataType.FLOAT32, 3, 1e30f);
            NDArray y = input(m, shape, DataType.FLOAT32);
            ArithmeticException e = assertThrows(ArithmeticException.class, () -> s.forward(FlowLayerContract.eval(m), y));
            assertTrue(e.getMessage().startsWith("IAF density solve failed after ")
                    && e.getMessage().endsWith(" passes: the step's network gives values that are not finite, so u is"
                            + " not determined by y"), e.getMessage());
        }
    }
}
