package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class BatchNormFlowTest {

    @Test
    void trainingUsesBatchStatisticsAndMovesTheRunningOnesByTheMomentum() {
        try (NDManager m = NDManager.newBaseManager()) {
            BatchNormFlow layer = new BatchNormFlow(1, 0.25, 1e-4);
            Shape shape = new Shape(2, 1, 2, 2);
            layer.initialize(m, DataType.FLOAT32, shape);
            NDArray x = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, shape);
            double mean = 4.5;
            double var = 5.25;
            Step train = layer.forward(FlowLayerContract.training(m), x);
            double[] z = Tensors.doubles(train.out());
            assertEquals((1 - mean) / Math.sqrt(var + 1e-4), z[0], 1e-5, "batch-normalised value");
            assertEquals(-0.5 * Math.log(var + 1e-4) * 4, Tensors.doubles(train.logdet())[0], 1e-5,
                    "log-det per sample: H·W·(-½·log(v + ε))");
            double runMean = 0.25 * mean;
            double runVar = 0.75 + 0.25 * var;
            Step eval = layer.forward(FlowLayerContract.eval(m), x);
            assertEquals((1 - runMean) / Math.sqrt(runVar + 1e-4), Tensors.doubles(eval.out())[0], 1e-5,
                    "evaluation uses the running statistics");
        }
    }
}
