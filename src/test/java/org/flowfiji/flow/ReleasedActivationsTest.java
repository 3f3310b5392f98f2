package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A coupling network releases its hidden activations (and every pre-activation before a ReLU) as
 * soon as the next operation has read them: libtorch's autograd keeps what the backward pass needs
 * on its own, so the pass's scope does not have to, and the memory of everything else is reused at
 * once. The backward pass must still find all it needs: the input's gradient is checked against
 * central differences (in float64, which the network then computes in).
 */
class ReleasedActivationsTest {

    /** The hidden width of {@link CouplingNetBandTest#nets()}' networks (3 inputs, 6 outputs). */
    private static final int HIDDEN = 8;

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.flowfiji.flow.CouplingNetBandTest#nets")
    void aTrainingPassKeepsNoHiddenActivationAndItsGradientIsRight(String name, CouplingNet net) {
        Shape shape = new Shape(2, 3, 9, 7);
        try (NDManager m = NDManager.newBaseManager()) {
            net.initialize(m, DataType.FLOAT32, shape);
            // non-zero weights everywhere, the zero-initialised last layer included
            FlowLayerContract.perturb(net, 7);
            NDArray x = FlowLayerContract.randn(m, shape, 3).toType(DataType.FLOAT64, false);
            x.setRequiresGradient(true);
            double[] gradient;
            try (NDManager pass = m.newSubManager();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                FlowContext train = FlowLayerContract.training(pass);
                NDArray y = net.apply(train, Tensors.inScope(train, x));
                List<Shape> hidden = pass.getManagedArrays().stream()
                        .filter(a -> !a.isReleased())
                        .map(NDArray::getShape)
                        .filter(s -> s.dimension() == 4 && s.get(0) == 2 && s.get(1) == HIDDEN)
                        .toList();
                assertEquals(List.of(), hidden, name + ": hidden activations left in the pass's scope");
                gc.backward(y.square().sum());
                gradient = x.getGradient().toDoubleArray();
            }
            double[] values = x.toDoubleArray();
            double h = 1e-6;
            for (int i : new int[] {0, 70, values.length / 2, values.length - 1}) {
                double numeric = (loss(net, m, values, i, h) - loss(net, m, values, i, -h)) / (2 * h);
                assertTrue(Math.abs(numeric - gradient[i]) <= 1e-6 * (1 + Math.abs(numeric)),
                        name + ": gradient at " + i + " is " + gradient[i] + ", central differences give " + numeric);
            }
        }
    }

    /** sum(net(x)²) with x[i] moved by {@code step}, in an evaluation pass (float64). */
    private static double loss(CouplingNet net, NDManager m, double[] x, int i, double step) {
        try (NDManager pass = m.newSubManager()) {
            double[] moved = x.clone();
            moved[i] += step;
            NDArray in = pass.create(moved, new Shape(2, 3, 9, 7));
            return net.apply(FlowLayerContract.eval(pass), in).square().sum().getDouble();
        }
    }
}
