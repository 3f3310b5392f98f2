package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.junit.jupiter.api.Test;

/** IAF passes (density solve, sampling, training, distillation) leave nothing in the long-lived manager. */
class IafMemoryScopeTest {

    @Test
    void passesLeaveNothingInTheLongLivedManager() {
        try (NDManager m = NDManager.newBaseManager()) {
            IafFlow flow = new IafFlow(new FlowConfig(Architecture.IAF, 1, 2, 1, 4, 1, false, true, true), 1);
            ImageFlow teacher = Flows.create(new FlowConfig(Architecture.GLOW, 1, 1, 1, 4, 1, false, false, true), 2);
            Shape shape = new Shape(2, 1, 8, 8);
            flow.initialize(m, DataType.FLOAT32, shape);
            teacher.initialize(m, DataType.FLOAT32, shape);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = FlowLayerContract.randn(m, shape, 1);
            try (NDManager sub = m.newSubManager()) {
                flow.initializeFromData(new FlowContext(ps, sub, true, false), x);
                teacher.initializeFromData(new FlowContext(ps, sub, true, false), x);
            }
            FlowLayerContract.perturb(flow, 3, 0.05);
            Distillation distillation = new Distillation(flow, teacher);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.001f)).build();
            distillation.step(ps, m, adam, 2, 8, 8);
            int before = m.getManagedArrays().size();
            MemoryScopeTest.passes(flow, ps, m, x);
            distillation.step(ps, m, adam, 2, 8, 8);
            assertEquals(before, m.getManagedArrays().size(), "arrays left in the long-lived manager");
        }
    }
}
