package org.flowfiji.flow;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.function.Function;

/** Shared helpers of the IAF tests: parameter perturbation, finite-difference Jacobians, LU log-determinants. */
final class IafTesting {

    private IafTesting() {}

    /** Initialises {@code block} for {@code shape} with a fixed seed. */
    static void init(Block block, NDManager manager, long seed, DataType type, Shape shape) {
        Engine.getInstance().setRandomSeed((int) seed);
        block.initialize(manager, type, shape);
    }

    /** Adds N(0, scale²) noise to every parameter, so zero-initialised ones become non-zero too. */
    static void perturb(Block block, NDManager manager, float scale) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            NDArray noise = manager.randomNormal(0f, scale, a.getShape(), DataType.FLOAT32)
                    .toType(a.getDataType(), false);
            a.addi(noise);
        }
    }

    /** Serialises {@code block}'s parameters and loads them into {@code copy}. */
    static void copyParameters(Block block, Block copy, NDManager manager) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bytes)) {
            block.saveParameters(os);
        }
        try (DataInputStream is = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy.loadParameters(manager, is);
        }
    }

    /**
     * The Jacobian {@code J[o][i] = d f_o / d x_i} of {@code f} at {@code x} by central differences,
     * in the flat C-order of input and output.
     */
    static double[][] jacobian(Function<NDArray, NDArray> f, NDArray x, double eps) {
        double[] x0 = x.toType(DataType.FLOAT64, false).toDoubleArray();
        int n = x0.length;
        double[][] jac = null;
        NDManager m = x.getManager();
        for (int i = 0; i < n; i++) {
            double[] plus = x0.clone();
            double[] minus = x0.clone();
            plus[i] += eps;
            minus[i] -= eps;
            double[] fp = f.apply(m.create(plus, x.getShape())).toDoubleArray();
            double[] fm = f.apply(m.create(minus, x.getShape())).toDoubleArray();
            if (jac == null) jac = new double[fp.length][n];
            for (int o = 0; o < fp.length; o++) {
                jac[o][i] = (fp[o] - fm[o]) / (2 * eps);
            }
        }
        return jac;
    }

    /** log|det a| by LU decomposition with partial pivoting. */
    static double logAbsDet(double[][] a) {
        int n = a.length;
        double[][] lu = new double[n][];
        for (int i = 0; i < n; i++) lu[i] = a[i].clone();
        double sum = 0;
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) if (Math.abs(lu[i][k]) > Math.abs(lu[p][k])) p = i;
            double[] t = lu[k];
            lu[k] = lu[p];
            lu[p] = t;
            double pivot = lu[k][k];
            if (pivot == 0) return Double.NEGATIVE_INFINITY;
            sum += Math.log(Math.abs(pivot));
            for (int i = k + 1; i < n; i++) {
                double f = lu[i][k] / pivot;
                for (int j = k; j < n; j++) lu[i][j] -= f * lu[k][j];
            }
        }
        return sum;
    }

    /** Largest absolute difference of two arrays. */
    static double maxAbsDiff(NDArray a, NDArray b) {
        return a.toType(DataType.FLOAT64, false).sub(b.toType(DataType.FLOAT64, false)).abs().max().getDouble();
    }
}
