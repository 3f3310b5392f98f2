package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.util.Random;

/**
 * Reproducible parameter initialisers: values are generated in Java from a seed, so a flow built
 * with the same seed starts from the same parameters on every engine and device.
 */
final class Init {

    private Init() {}

    /** N(0, std^2) values from {@code new Random(seed)}. */
    static Initializer normal(double std, long seed) {
        return (manager, shape, dataType) -> {
            Random rng = new Random(seed);
            double[] v = new double[Math.toIntExact(shape.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = std * rng.nextGaussian();
            }
            return fromDoubles(manager, v, shape, dataType);
        };
    }

    /** Fixed values (row-major), which must match the parameter's shape. */
    static Initializer values(double[] values) {
        double[] copy = values.clone();
        return (manager, shape, dataType) -> {
            if (shape.size() != copy.length) {
                throw new IllegalArgumentException(
                        "Initial values have " + copy.length + " elements, parameter shape is " + shape);
            }
            return fromDoubles(manager, copy, shape, dataType);
        };
    }

    private static NDArray fromDoubles(
            ai.djl.ndarray.NDManager manager, double[] v, Shape shape, ai.djl.ndarray.types.DataType type) {
        return manager.create(v, shape).toType(type, false);
    }
}
