package org.flowfiji.flow;

import java.util.Random;

/** Dense linear algebra in double precision for layer initialisation (small C x C matrices). */
final class LinearAlgebra {

    private LinearAlgebra() {}

    /** The factors of {@code A = P·L·U}: P a permutation, L unit lower triangular, U upper triangular. */
    record Plu(double[][] p, double[][] l, double[][] u) {}

    /**
     * A random orthogonal n x n matrix: modified Gram-Schmidt on the columns of a Gaussian matrix
     * (the QR decomposition's Q, with the signs fixed so that R has a positive diagonal).
     */
    static double[][] randomOrthogonal(int n, Random rng) {
        double[][] q = new double[n][n];
        for (int attempt = 0; attempt < 10; attempt++) {
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i][j] = rng.nextGaussian();
                }
            }
            if (gramSchmidt(a, q)) {
                return q;
            }
        }
        throw new IllegalStateException("Could not draw a well-conditioned random matrix of size " + n);
    }

    /** Orthonormalises the columns of a into q; false if a column is (numerically) dependent. */
    private static boolean gramSchmidt(double[][] a, double[][] q) {
        int n = a.length;
        for (int j = 0; j < n; j++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = a[i][j];
            }
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += q[i][k] * v[i];
                }
                for (int i = 0; i < n; i++) {
                    v[i] -= dot * q[i][k];
                }
            }
            double norm = 0;
            for (double e : v) {
                norm += e * e;
            }
            norm = Math.sqrt(norm);
            if (norm < 1e-8) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                q[i][j] = v[i] / norm;
            }
        }
        return true;
    }

    /** LU decomposition with partial pivoting: A = P·L·U. */
    static Plu lu(double[][] a) {
        int n = a.length;
        double[][] u = new double[n][];
        for (int i = 0; i < n; i++) {
            u[i] = a[i].clone();
        }
        double[][] l = new double[n][n];
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) {
                if (Math.abs(u[i][k]) > Math.abs(u[p][k])) {
                    p = i;
                }
            }
            if (u[p][k] == 0) {
                throw new IllegalArgumentException("Matrix is singular, no LU decomposition");
            }
            swap(u, k, p);
            swap(l, k, p);
            int t = perm[k];
            perm[k] = perm[p];
            perm[p] = t;
            for (int i = k + 1; i < n; i++) {
                double f = u[i][k] / u[k][k];
                l[i][k] = f;
                for (int j = k; j < n; j++) {
                    u[i][j] -= f * u[k][j];
                }
                u[i][k] = 0;
            }
        }
        for (int i = 0; i < n; i++) {
            l[i][i] = 1;
        }
        double[][] pm = new double[n][n];
        for (int i = 0; i < n; i++) {
            pm[perm[i]][i] = 1;
        }
        return new Plu(pm, l, u);
    }

    private static void swap(double[][] m, int i, int j) {
        double[] t = m[i];
        m[i] = m[j];
        m[j] = t;
    }

    /** Row-major flattening. */
    static double[] flatten(double[][] m) {
        int n = m.length;
        int k = m[0].length;
        double[] f = new double[n * k];
        for (int i = 0; i < n; i++) {
            System.arraycopy(m[i], 0, f, i * k, k);
        }
        return f;
    }
}
