package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InvertibleConv1x1Test {

    @Test
    void luOfARandomOrthogonalMatrixReconstructsIt() {
        int n = 5;
        double[][] q = LinearAlgebra.randomOrthogonal(n, new Random(3));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < n; k++) {
                    dot += q[k][i] * q[k][j];
                }
                assertEquals(i == j ? 1 : 0, dot, 1e-12, "QᵀQ at " + i + "," + j);
            }
        }
        LinearAlgebra.Plu plu = LinearAlgebra.lu(q);
        for (int i = 0; i < n; i++) {
            assertEquals(1, plu.l()[i][i], 0.0, "L has a unit diagonal");
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int a = 0; a < n; a++) {
                    for (int b = 0; b < n; b++) {
                        v += plu.p()[i][a] * plu.l()[a][b] * plu.u()[b][j];
                    }
                }
                assertEquals(q[i][j], v, 1e-12, "P·L·U at " + i + "," + j);
                if (j > i) {
                    assertEquals(0, plu.l()[i][j], 0.0, "L is lower triangular");
                }
                if (j < i) {
                    assertEquals(0, plu.u()[i][j], 0.0, "U is upper triangular");
                }
            }
        }
    }

    @Test
    void startsAsARotationWithZeroLogDeterminant() {
        try (NDManager m = NDManager.newBaseManager()) {
            InvertibleConv1x1 layer = new InvertibleConv1x1(4, 11);
            layer.initialize(m, DataType.FLOAT32, new Shape(1, 4, 2, 2));
            FlowContext ctx = FlowLayerContract.eval(m);
            NDArray w = layer.weight(ctx, m.zeros(new Shape(1, 4, 2, 2), DataType.FLOAT64));
            double[] v = Tensors.doubles(w.matMul(w.transpose()));
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    assertEquals(i == j ? 1 : 0, v[i * 4 + j], 1e-6, "W·Wᵀ at " + i + "," + j);
                }
            }
            Step s = layer.forward(ctx, FlowLayerContract.randn(m, new Shape(2, 4, 2, 2), 1));
            assertEquals(0, FlowLayerContract.maxAbs(s.logdet()), 1e-5);
        }
    }

    @Test
    void trainingAndEvaluationPassesMixTheChannelsAlike() {
        // training passes mix by a 1x1 convolution, the others by a matrix product
        try (NDManager m = NDManager.newBaseManager()) {
            InvertibleConv1x1 layer = new InvertibleConv1x1(4, 11);
            Shape shape = new Shape(3, 4, 6, 5);
            layer.initialize(m, DataType.FLOAT32, shape);
            FlowLayerContract.perturb(layer, 5);
            NDArray x = FlowLayerContract.randn(m, shape, 2);
            Step eval = layer.forward(FlowLayerContract.eval(m), x);
            Step training = layer.forward(FlowLayerContract.training(m), x);
            FlowLayerContract.assertClose(eval.out(), training.out(), 1e-6, "mixed channels");
            FlowLayerContract.assertClose(eval.logdet(), training.logdet(), 1e-6, "log-determinant");
            // and by hand at one position: out[b, i] = Σ_j W[i, j] x[b, j]
            double[] w = Tensors.doubles(layer.weight(FlowLayerContract.eval(m), x));
            double[] in = Tensors.doubles(x);
            double[] out = Tensors.doubles(training.out());
            int b = 2, y = 4, col = 3;
            for (int i = 0; i < 4; i++) {
                double expected = 0;
                for (int j = 0; j < 4; j++) {
                    expected += w[i * 4 + j] * in[((b * 4 + j) * 6 + y) * 5 + col];
                }
                assertEquals(expected, out[((b * 4 + i) * 6 + y) * 5 + col], 1e-5, "channel " + i + " at one position");
            }
        }
    }
}
