package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The flow contract as executable checks, shared by every layer test and both architectures:
 * shapes, finite values, round trip, cancelling log-dets, log-det maps, log-det against a
 * brute-force float64 Jacobian, and save/load.
 */
public final class FlowLayerContract {

    /** Round-trip tolerance in float32. */
    static final double ROUND_TRIP_TOL = 1e-4;
    /** Relative tolerance of a log-det against the finite-difference Jacobian in float64. */
    static final double JACOBIAN_TOL = 1e-6;

    private FlowLayerContract() {}

    /** A context for evaluation passes. */
    static FlowContext eval(NDManager m) {
        return new FlowContext(new ParameterStore(m, false), m, false, false);
    }

    /** A context for training passes (data-dependent initialisation, batch statistics). */
    static FlowContext training(NDManager m) {
        return new FlowContext(new ParameterStore(m, false), m, true, false);
    }

    /**
     * A convolution kernel stored channels-last ([out, k, k, in], as {@link Conv2dBlock} keeps it)
     * copied into a row-major [out, in, k, k] array (flattening the permuted view copies).
     */
    static NDArray rowMajorKernel(NDArray stored) {
        Shape s = stored.getShape();
        return stored.transpose(0, 3, 1, 2).reshape(s.get(0), -1).reshape(s.get(0), s.get(3), s.get(1), s.get(2));
    }

    static NDArray randn(NDManager m, Shape shape, long seed) {
        Random r = new Random(seed);
        double[] v = new double[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        return m.create(v, shape).toType(DataType.FLOAT32, false);
    }

    /**
     * Builds a layer, initialises it (including a data-dependent pass) and moves every parameter
     * away from its initial value, so that no zero-initialised parameter hides an error.
     */
    static <B extends Block> B prepare(NDManager m, Supplier<B> factory, Shape shape, long seed,
            Function<B, FlowLayer> asLayer) {
        B block = factory.get();
        block.initialize(m, DataType.FLOAT32, shape);
        try (NDManager sub = m.newSubManager()) {
            asLayer.apply(block).forward(training(sub), randn(sub, shape, seed).mul(1.5).add(0.3));
        }
        perturb(block, seed + 1);
        return block;
    }

    /** Adds N(0, 0.3²) to every parameter (log-normal factor for variances, which must stay positive). */
    /**
     * Makes a whole flow ready for the contract: parameters initialised in {@code manager},
     * data-dependent initialisation on a shifted, scaled random batch, then every parameter
     * perturbed (noise 0.1) so that no zero-initialised layer hides a sign error.
     */
    static <F extends MultiScaleFlow> F prepared(F flow, NDManager manager, Shape shape) {
        flow.initialize(manager, DataType.FLOAT32, shape);
        try (NDManager sub = manager.newSubManager()) {
            flow.initializeFromData(eval(sub), randn(sub, shape, 3).mul(2).add(1));
        }
        perturb(flow, 4, 0.1);
        return flow;
    }

    static void perturb(Block block, long seed) {
        perturb(block, seed, 0.3);
    }

    /** Adds N(0, std²) to every parameter (log-normal factor for variances, which must stay positive). */
    public static void perturb(Block block, long seed, double std) {
        Random r = new Random(seed);
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            double[] v = Tensors.doubles(a);
            boolean positive = p.getKey().toLowerCase().contains("var");
            for (int i = 0; i < v.length; i++) {
                double n = std * r.nextGaussian();
                v[i] = positive ? v[i] * Math.exp(n) : v[i] + n;
            }
            Tensors.overwrite(a, v);
        }
    }

    /** Every check of the layer contract on one prepared layer and one input shape. */
    static void checkLayer(NDManager m, FlowBlock layer, Supplier<FlowBlock> fresh, Shape shape, Shape jacobianShape) {
        checkShapesAndRoundTrip(m, layer, shape);
        checkMaps(m, layer, shape);
        checkJacobian(m, layer, jacobianShape);
        checkSaveLoad(m, layer, fresh, shape);
    }

    static void checkShapesAndRoundTrip(NDManager m, FlowLayer layer, Shape shape) {
        try (NDManager sub = m.newSubManager()) {
            FlowContext ctx = eval(sub);
            NDArray x = randn(sub, shape, 11);
            Step f = layer.forward(ctx, x);
            assertEquals(shape.size(), f.out().getShape().size(), "a layer keeps the number of elements");
            assertEquals(new Shape(shape.get(0)), f.logdet().getShape(), "logdet is per sample");
            if (layer instanceof FlowBlock fb) {
                assertEquals(fb.outputShape(shape), f.out().getShape(), "outputShape() predicts the output");
            }
            assertFinite(f.out(), "forward output");
            assertFinite(f.logdet(), "forward logdet");
            Step b = layer.inverse(ctx, f.out());
            assertEquals(shape, b.out().getShape(), "inverse restores the shape");
            assertFinite(b.out(), "inverse output");
            double err = maxAbs(b.out().sub(x));
            assertTrue(err <= ROUND_TRIP_TOL, "inverse(forward(x)) differs from x by " + err);
            double cancel = maxAbs(f.logdet().add(b.logdet()));
            double scale = Math.max(1, maxAbs(f.logdet()));
            assertTrue(cancel <= 1e-5 * scale, "forward and inverse log-dets do not cancel: " + cancel);
        }
    }

    static void checkMaps(NDManager m, FlowLayer layer, Shape shape) {
        try (NDManager sub = m.newSubManager()) {
            FlowContext ctx = eval(sub).withMap(true);
            NDArray x = randn(sub, shape, 12);
            Step f = layer.forward(ctx, x);
            assertNotNull(f.logdetMap(), "a map was asked for");
            assertEquals(f.out().getShape(), f.logdetMap().getShape(), "the map has the output's shape");
            assertClose(f.logdet(), Tensors.perSample(f.logdetMap()), 1e-5, "forward map sum");
            checkMapSum(f, "forward");
            Step b = layer.inverse(ctx, f.out());
            assertNotNull(b.logdetMap(), "a map was asked for");
            assertEquals(b.out().getShape(), b.logdetMap().getShape(), "the inverse map has the output's shape");
            assertClose(b.logdet(), Tensors.perSample(b.logdetMap()), 1e-5, "inverse map sum");
            checkMapSum(b, "inverse");
            Step plain = layer.forward(eval(sub), x);
            assertEquals(null, plain.logdetMap(), "no map unless asked for");
        }
    }

    /** A map sum, when a layer gives one, is one value that equals the map's sum over channels everywhere. */
    private static void checkMapSum(Step s, String direction) {
        if (s.mapSum() == null) {
            return;
        }
        assertEquals(new Shape(1, 1, 1), s.mapSum().getShape(), direction + " map sum is one value");
        NDArray channels = s.logdetMap().sum(new int[] {1});
        assertClose(channels, s.mapSum().broadcast(channels.getShape()), 1e-5, direction + " map sum over channels");
    }

    /**
     * Compares the forward log-det with log|det J| of a central finite-difference Jacobian,
     * everything in float64 (one batched pass over all 2n perturbed inputs).
     */
    static void checkJacobian(NDManager m, FlowLayer layer, Shape shape) {
        checkJacobian(m, shape, x -> {
            Step s = layer.forward(eval(x.getManager()), x);
            return new NDArray[] {s.out(), s.logdet()};
        });
    }

    /**
     * The Jacobian check for any map x [1, ...] to (flattenable output [N, ...], logdet [N]),
     * which must treat the samples of a batch independently.
     */
    static void checkJacobian(NDManager m, Shape shape, Function<NDArray, NDArray[]> map) {
        assertEquals(1, shape.get(0), "Jacobian checks use a single sample");
        int n = Math.toIntExact(shape.size());
        double eps = 1e-5;
        try (NDManager sub = m.newSubManager()) {
            double[] x0 = Tensors.doubles(randn(sub, shape, 13));
            double[] batch = new double[(2 * n + 1) * n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(x0, 0, batch, (2 * i) * n, n);
                System.arraycopy(x0, 0, batch, (2 * i + 1) * n, n);
                batch[(2 * i) * n + i] += eps;
                batch[(2 * i + 1) * n + i] -= eps;
            }
            System.arraycopy(x0, 0, batch, 2 * n * n, n);
            long[] dims = shape.getShape().clone();
            dims[0] = 2L * n + 1;
            NDArray x = sub.create(batch, new Shape(dims));
            assertEquals(DataType.FLOAT64, x.getDataType());
            NDArray[] res = map.apply(x);
            assertEquals(DataType.FLOAT64, res[0].getDataType(), "a float64 input runs in float64");
            double[] out = Tensors.doubles(res[0]);
            assertEquals((2L * n + 1) * n, out.length, "the output has as many elements as the input");
            double[][] jac = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < n; k++) {
                    jac[k][i] = (out[(2 * i) * n + k] - out[(2 * i + 1) * n + k]) / (2 * eps);
                }
            }
            double expected = logAbsDet(jac);
            double actual = Tensors.doubles(res[1])[2 * n];
            double tol = JACOBIAN_TOL * Math.max(1, Math.abs(expected)) + 1e-7;
            assertEquals(expected, actual, tol, "log-det against the finite-difference Jacobian");
        }
    }

    static void checkSaveLoad(NDManager m, FlowBlock layer, Supplier<FlowBlock> fresh, Shape shape) {
        FlowBlock loaded = saveAndLoad(m, layer, fresh);
        try (NDManager sub = m.newSubManager()) {
            NDArray x = randn(sub, shape, 14);
            Step a = layer.forward(eval(sub), x);
            Step b = loaded.forward(eval(sub), x);
            assertArrayEquals(a.out().toFloatArray(), b.out().toFloatArray(), 0f, "loaded layer output");
            assertArrayEquals(a.logdet().toFloatArray(), b.logdet().toFloatArray(), 0f, "loaded layer logdet");
        }
    }

    /** Writes a block's parameters to bytes and reads them into a freshly built block. */
    static <B extends Block> B saveAndLoad(NDManager m, Block block, Supplier<B> fresh) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream os = new DataOutputStream(bytes)) {
                block.saveParameters(os);
            }
            B loaded = fresh.get();
            try (DataInputStream is = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                loaded.loadParameters(m, is);
            }
            return loaded;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (MalformedModelException e) {
            throw new AssertionError("saved parameters could not be loaded", e);
        }
    }

    static void assertFinite(NDArray a, String what) {
        for (double v : Tensors.doubles(a)) {
            assertTrue(Double.isFinite(v), what + " has a non-finite value " + v);
        }
    }

    static void assertClose(NDArray expected, NDArray actual, double relTol, String what) {
        double[] e = Tensors.doubles(expected);
        double[] a = Tensors.doubles(actual);
        assertEquals(e.length, a.length, what + ": sizes differ");
        for (int i = 0; i < e.length; i++) {
            double tol = relTol * Math.max(1, Math.abs(e[i]));
            assertEquals(e[i], a[i], tol, what + " at index " + i);
        }
    }

    /**
     * actual (any data type) within {@code relTol} of expected's largest magnitude (at least 1) of
     * expected at every element, expected not all zeros: float32 results against float64 ones,
     * whose rounding grows with the sums' size rather than each value's.
     */
    static void assertCloseToLargest(NDArray expected, NDArray actual, double relTol, String what) {
        double scale = maxAbs(expected);
        double worst = maxAbs(expected.sub(actual.toType(DataType.FLOAT64, true)));
        assertTrue(scale > 1e-2, what + ": the float64 values are all zeros");
        assertTrue(worst <= relTol * Math.max(1, scale), what + " differs by " + worst + " (largest " + scale + ")");
    }

    /**
     * A convolution of {@code kernel} x {@code kernel} from {@code in} to {@code out} channels,
     * initialised for {@code inShape} with every parameter perturbed (the zero bias included), its
     * kernel recording gradients.
     */
    static Conv2dBlock perturbedConvolution(NDManager m, int in, int out, int kernel, Shape inShape, long seed) {
        Conv2dBlock conv = new Conv2dBlock(in, out, kernel, false, seed);
        conv.initialize(m, DataType.FLOAT32, inShape);
        perturb(conv, seed + 1);
        conv.getParameters().get("weight").getArray().setRequiresGradient(true);
        return conv;
    }

    static double maxAbs(NDArray a) {
        double m = 0;
        for (double v : Tensors.doubles(a)) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** log|det A| by LU decomposition with partial pivoting, in double. */
    static double logAbsDet(double[][] a) {
        int n = a.length;
        double[][] lu = new double[n][];
        for (int i = 0; i < n; i++) {
            lu[i] = a[i].clone();
        }
        double sum = 0;
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) {
                if (Math.abs(lu[i][k]) > Math.abs(lu[p][k])) {
                    p = i;
                }
            }
            double[] t = lu[k];
            lu[k] = lu[p];
            lu[p] = t;
            double pivot = lu[k][k];
            assertTrue(pivot != 0, "singular Jacobian");
            sum += Math.log(Math.abs(pivot));
            for (int i = k + 1; i < n; i++) {
                double f = lu[i][k] / pivot;
                for (int j = k; j < n; j++) {
                    lu[i][j] -= f * lu[k][j];
                }
            }
        }
        return sum;
    }
}
