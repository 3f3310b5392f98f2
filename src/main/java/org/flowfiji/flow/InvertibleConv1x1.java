package org.flowfiji.flow;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Random;

/**
 * Glow's invertible 1x1 convolution, LU-parametrised: a learned mixing of channels at every pixel.
 *
 * <p>Forward: {@code z[:, i] = Σ_j W_ij x[:, j]} at every pixel, with
 * {@code W = P · L · (U + diag(sign · exp(logs)))}: P a fixed permutation matrix, L unit lower
 * triangular (learned strictly lower part), U strictly upper triangular (learned), sign a fixed
 * ±1 vector and logs learned. {@code log|det dz/dx| = H·W·Σ_i logs_i}; the map holds
 * {@code logs_i} at every element of output channel i. Inverse: {@code x = W⁻¹ z}.
 * Shapes: [B, C, H, W] in and out; parameters lower, upper [C, C], logs [C].
 *
 * <p>Initialisation: W starts as a random orthogonal matrix drawn from the seed, factorised by LU
 * with partial pivoting in double precision; P and sign are saved with the parameters.
 */
public final class InvertibleConv1x1 extends FlowBlock {

    private static final byte VERSION = 1;

    private final int channels;
    private final Parameter lower;
    private final Parameter upper;
    private final Parameter logScale;
    private double[] permutation;
    private double[] sign;
    private final double[] lowerMask;
    private final double[] upperMask;
    private final Constants constants;

    /**
     * @param channels C
     * @param seed seed of the random orthogonal initial W
     */
    public InvertibleConv1x1(int channels, long seed) {
        super(VERSION);
        if (channels < 1) {
            throw new IllegalArgumentException(
                    "An invertible 1x1 convolution needs at least one channel, got " + channels);
        }
        this.channels = channels;
        int c = channels;
        LinearAlgebra.Plu plu = LinearAlgebra.lu(LinearAlgebra.randomOrthogonal(c, new Random(seed)));
        double[][] l = plu.l();
        double[][] u = plu.u();
        double[] s = new double[c];
        double[] logs = new double[c];
        lowerMask = new double[c * c];
        upperMask = new double[c * c];
        for (int i = 0; i < c; i++) {
            s[i] = Math.signum(u[i][i]);
            logs[i] = Math.log(Math.abs(u[i][i]));
            l[i][i] = 0;
            u[i][i] = 0;
            for (int j = 0; j < c; j++) {
                lowerMask[i * c + j] = j < i ? 1 : 0;
                upperMask[i * c + j] = j > i ? 1 : 0;
            }
        }
        permutation = LinearAlgebra.flatten(plu.p());
        sign = s;
        Shape square = new Shape(c, c);
        lower = addParameter(Parameter.builder().setName("lower").setType(Parameter.Type.WEIGHT)
                .optShape(square).optInitializer(Init.values(LinearAlgebra.flatten(l))).build());
        upper = addParameter(Parameter.builder().setName("upper").setType(Parameter.Type.WEIGHT)
                .optShape(square).optInitializer(Init.values(LinearAlgebra.flatten(u))).build());
        logScale = addParameter(Parameter.builder().setName("logScale").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(c)).optInitializer(Init.values(logs)).build());
        constants = new Constants(logScale);
    }

    /** The current W [C, C] for a pass over {@code like} (differentiable in the parameters). */
    public NDArray weight(FlowContext ctx, NDArray like) {
        int c = channels;
        Shape square = new Shape(c, c);
        NDArray logs = Tensors.value(ctx, logScale, like);
        NDArray id = constants.get(ctx, like, "identity", square, () -> identity(c));
        NDArray l = Tensors.value(ctx, lower, like).mul(constants.get(ctx, like, "lowerMask", square, () -> lowerMask))
                .add(id);
        NDArray diag = id.mul(logs.exp().mul(constants.get(ctx, like, "sign", new Shape(1, c), () -> sign)));
        NDArray u = Tensors.value(ctx, upper, like).mul(constants.get(ctx, like, "upperMask", square, () -> upperMask))
                .add(diag);
        return constants.get(ctx, like, "permutation", square, () -> permutation).matMul(l).matMul(u);
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        Tensors.requireChannels("InvertibleConv1x1", x, channels);
        NDArray w = weight(ctx, x);
        return Tensors.perChannelStep(ctx, mix(ctx, x, w), logScaleOf(ctx, x));
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        Tensors.requireChannels("InvertibleConv1x1", z, channels);
        NDArray wInv = weight(ctx, z).inverse();
        return Tensors.perChannelStep(ctx, mix(ctx, z, wInv), logScaleOf(ctx, z).neg());
    }

    private NDArray logScaleOf(FlowContext ctx, NDArray like) {
        return Tensors.value(ctx, logScale, like).reshape(1, channels, 1, 1);
    }

    /**
     * {@code w · x} at every pixel. Training passes take it as a 1x1 convolution
     * ({@link Conv2dBlock#conv2d}, which mends widths the engine computes wrongly): with its backward
     * pass over training batches that was 3-7 % of a Glow iteration faster than a batched matrix
     * product, whose weight gradient is a product per image summed over the batch. Other passes
     * take the matrix product [C, C] x [B, C, H·W]: over the large images of maps the convolution
     * of so few channels was slower (a 1024² Glow density pass 0.588 against 0.533 s). Both give
     * the same values.
     */
    private NDArray mix(FlowContext ctx, NDArray x, NDArray w) {
        Shape s = x.getShape();
        if (ctx.training()) {
            return Conv2dBlock.conv2d(x, w.reshape(channels, channels, 1, 1), null, new Shape(0, 0));
        }
        return w.matMul(x.reshape(s.get(0), channels, -1)).reshape(s);
    }

    private static double[] identity(int c) {
        double[] id = new double[c * c];
        for (int i = 0; i < c; i++) {
            id[i * c + i] = 1;
        }
        return id;
    }

    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        saveInputShapes(os);
        os.writeInt(channels);
        for (double p : permutation) {
            os.writeDouble(p);
        }
        for (double s : sign) {
            os.writeDouble(s);
        }
    }

    @Override
    protected void loadMetadata(byte loadVersion, DataInputStream is) throws IOException, MalformedModelException {
        loadBaseMetadata(loadVersion, is);
        int c = is.readInt();
        if (c != channels) {
            throw new MalformedModelException(
                    "Invertible 1x1 convolution was saved with " + c + " channels, this one has " + channels);
        }
        double[] p = new double[c * c];
        for (int i = 0; i < p.length; i++) {
            p[i] = is.readDouble();
        }
        double[] s = new double[c];
        for (int i = 0; i < c; i++) {
            s[i] = is.readDouble();
        }
        permutation = p;
        sign = s;
        constants.clear();
    }
}
