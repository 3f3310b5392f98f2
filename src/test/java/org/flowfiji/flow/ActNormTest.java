package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class ActNormTest {

    @Test
    void firstTrainingBatchIsNormalisedPerChannelAndInitialisationIsSaved() {
        try (NDManager m = NDManager.newBaseManager()) {
            ActNorm layer = new ActNorm(2);
            Shape shape = new Shape(4, 2, 4, 4);
            layer.initialize(m, DataType.FLOAT32, shape);
            NDArray x = FlowLayerContract.randn(m, shape, 1).mul(3).add(5);
            assertFalse(layer.isDataInitialized());
            layer.forward(FlowLayerContract.eval(m), x);
            assertFalse(layer.isDataInitialized(), "evaluation passes do not initialise");
            NDArray z;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Step s = layer.forward(FlowLayerContract.training(m), x);
                z = s.out();
                gc.backward(s.logdet().sum().add(z.sum()));
            }
            assertTrue(layer.isDataInitialized());
            double[] v = Tensors.doubles(Tensors.channelsFirst(z));
            int n = v.length / 2;
            for (int c = 0; c < 2; c++) {
                double mean = 0;
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    mean += v[c * n + i];
                    sq += v[c * n + i] * v[c * n + i];
                }
                mean /= n;
                assertEquals(0, mean, 1e-4, "channel " + c + " mean");
                assertEquals(1, Math.sqrt(sq / n - mean * mean), 1e-4, "channel " + c + " std");
            }
            ActNorm loaded = FlowLayerContract.saveAndLoad(m, layer, () -> new ActNorm(2));
            assertTrue(loaded.isDataInitialized(), "the initialised flag survives save/load");
        }
    }
}
