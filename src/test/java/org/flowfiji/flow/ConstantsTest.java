package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConstantsTest {

    @Test
    void buildsOncePerShapeKeepsAtMostCapacityAndViewsOutliveEviction() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter anchor = Parameter.builder().setName("a").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(1)).optInitializer(Initializer.ZEROS).build();
            anchor.initialize(m, DataType.FLOAT32);
            Constants constants = new Constants(anchor);
            int base = m.getManagedArrays().size();
            AtomicInteger built = new AtomicInteger();
            List<NDArray> views = new ArrayList<>();
            try (NDManager pass = m.newSubManager()) {
                FlowContext ctx = new FlowContext(new ParameterStore(pass, false), pass, false, false);
                NDArray like = pass.zeros(new Shape(1));
                for (int round = 0; round < 2; round++) {
                    for (int n = 1; n <= 3; n++) {
                        int size = n;
                        constants.get(ctx, like, "ramp", new Shape(size), () -> {
                            built.incrementAndGet();
                            return ramp(size);
                        });
                    }
                }
                assertEquals(3, built.get(), "one build per shape");
                for (int n = 1; n <= 3 * Constants.CAPACITY; n++) {
                    int size = n;
                    views.add(constants.get(ctx, like, "ramp", new Shape(size), () -> ramp(size)));
                }
                assertEquals(base + Constants.CAPACITY, m.getManagedArrays().size() - pass.getManagedArrays().size(),
                        "cache bounded by its capacity");
                assertSame(pass, views.get(0).getManager(), "a pass gets views in its own manager");
                // the first views' cached arrays were evicted and closed: the views still read their values
                for (int n = 1; n <= 3 * Constants.CAPACITY; n++) {
                    assertArrayEquals(toFloats(ramp(n)), views.get(n - 1).toFloatArray());
                }
                constants.clear();
                assertEquals(base, m.getManagedArrays().size() - pass.getManagedArrays().size(),
                        "clear frees every cached array");
            }
        }
    }

    private static double[] ramp(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i + 0.5;
        }
        return v;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
