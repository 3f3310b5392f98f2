package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * A PixelCNN-style masked 2-d convolution: every output element sees only input elements that come
 * earlier in a fixed autoregressive order.
 *
 * <p><b>Order.</b> The elements of a {@code [C, H, W]} tensor whose channels are split into
 * {@code G} ordered groups are ordered raster-major, then by channel group: element
 * {@code (c, i, j)} has position {@code ((i * W + j) * G + group(c))}, where
 * {@code group(c) = c mod G} (channels are interleaved over the groups, so a layer of any width
 * spreads its channels evenly). Channels of the same group at the same pixel share a position.
 *
 * <p><b>Mask.</b> With a square kernel of odd size {@code k} centred on the output pixel, the
 * weight {@code w[o, c, dy, dx]} is kept when the kernel tap lies at a strictly earlier raster
 * position than the centre (a row above, or the same row and to the left), for every pair of
 * channels; at the centre tap it is kept when {@code group(c) < group(o)} for mask {@link Mask#A}
 * and {@code group(c) <= group(o)} for mask {@link Mask#B}; all later taps are zero. So an
 * A-masked layer makes output position {@code p} depend on input positions {@code < p} only, and
 * a B-masked layer on positions {@code <= p}. A stack of one A layer followed by any number of B
 * layers (with element-wise nonlinearities between them) is therefore strictly autoregressive:
 * its Jacobian, in the order above, is strictly lower triangular.
 *
 * <p><b>Math.</b> {@code y = conv2d(x, w ⊙ M) + b}, stride 1, zero padding {@code k / 2} (the
 * spatial size is kept).
 *
 * <p><b>Shapes.</b> input {@code [B, inChannels, H, W]}; weight
 * {@code [outChannels, inChannels, k, k]}; bias {@code [outChannels]}; output
 * {@code [B, outChannels, H, W]}.
 */
public final class MaskedConv2d extends AbstractBlock {

    private static final byte VERSION = 1;

    /** Which connections the centre tap keeps. */
    public enum Mask {
        /** Strict: output group g sees input groups {@code < g} at the centre pixel (first layer). */
        A,
        /** Inclusive: output group g sees input groups {@code <= g} at the centre pixel (later layers). */
        B
    }

    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int groups;
    private final Mask mask;
    private final float[] maskValues;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * A masked convolution with zero bias and weights drawn from {@code N(0, 2/(in·k·k))} with a
     * fixed seed (about half of the taps survive the mask, so this keeps the output variance near
     * the input variance through a ReLU), or zero weights.
     *
     * @param inChannels input channels, at least 1
     * @param outChannels output channels, at least 1
     * @param kernel odd kernel side length, at least 1
     * @param groups ordered channel groups G (for an autoregressive flow: the data channels)
     * @param mask {@link Mask#A} for the first layer of a stack, {@link Mask#B} for the others
     * @param zeroInit true to start with zero weights (the last layer of a flow step's network)
     * @param seed seed of the initial weights
     */
    public MaskedConv2d(int inChannels, int outChannels, int kernel, int groups, Mask mask, boolean zeroInit,
            long seed) {
        super(VERSION);
        if (inChannels < 1 || outChannels < 1) {
            throw new IllegalArgumentException(
                    "channels must be >= 1, got in=" + inChannels + " out=" + outChannels);
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("kernel must be odd and >= 1, got " + kernel);
        }
        if (groups < 1) {
            throw new IllegalArgumentException("groups must be >= 1, got " + groups);
        }
        if (mask == null) {
            throw new IllegalArgumentException("mask type is required");
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.groups = groups;
        this.mask = mask;
        this.maskValues = buildMask(inChannels, outChannels, kernel, groups, mask);
        this.weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(outChannels, inChannels, kernel, kernel))
                .optInitializer(zeroInit
                        ? Initializer.ZEROS
                        : Init.normal(Math.sqrt(2.0 / (inChannels * kernel * kernel)), seed))
                .build());
        this.bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(outChannels))
                .optInitializer(Initializer.ZEROS)
                .build());
    }

    /** The group of channel {@code c} in a layer split into {@code groups} ordered groups. */
    public static int group(int c, int groups) {
        return c % groups;
    }

    private static float[] buildMask(int in, int out, int k, int groups, Mask type) {
        float[] m = new float[out * in * k * k];
        int centre = k / 2;
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                for (int dy = 0; dy < k; dy++) {
                    for (int dx = 0; dx < k; dx++) {
                        boolean keep;
                        if (dy < centre || (dy == centre && dx < centre)) {
                            keep = true;
                        } else if (dy == centre && dx == centre) {
                            int go = group(o, groups);
                            int gc = group(c, groups);
                            keep = type == Mask.A ? gc < go : gc <= go;
                        } else {
                            keep = false;
                        }
                        m[((o * in + c) * k + dy) * k + dx] = keep ? 1f : 0f;
                    }
                }
            }
        }
        return m;
    }

    /** The mask type. */
    public Mask mask() {
        return mask;
    }

    /** The binary mask {@code M} as a {@code [out, in, k, k]} array of the given type in {@code manager}. */
    public NDArray maskArray(NDManager manager, DataType dataType) {
        NDArray m = manager.create(maskValues, new Shape(outChannels, inChannels, kernel, kernel));
        return dataType == DataType.FLOAT32 ? m : m.toType(dataType, false);
    }

    /**
     * The masked weight and bias for a pass over {@code like}, on its device and in its data type,
     * owned by {@code manager}.
     *
     * @param ctx the pass (parameter store, training flag)
     * @param like an input of the pass: fixes device and data type
     * @param manager owner of the returned arrays (close it to free them)
     * @param detach true to cut the arrays from the gradient graph (for solves run without gradient)
     */
    public Weights weights(FlowContext ctx, NDArray like, NDManager manager, boolean detach) {
        NDArray w = value(ctx, weight, like, manager, detach);
        NDArray b = value(ctx, bias, like, manager, detach);
        // channels-last, so that the convolutions run in that layout (see Conv2dBlock#weight)
        return new Weights(Conv2dBlock.channelsLast(maskArray(manager, like.getDataType()).mul(w)), b);
    }

    private static NDArray value(FlowContext ctx, Parameter p, NDArray like, NDManager manager, boolean detach) {
        NDArray v = ctx.parameters().getValue(p, like.getDevice(), ctx.training());
        NDArray src = detach ? v.stopGradient() : v;
        NDArray out = src.getDataType() == like.getDataType()
                ? src.reshape(src.getShape())
                : src.toType(like.getDataType(), true);
        out.attach(manager);
        if (detach) {
            src.close();
        }
        return out;
    }

    /**
     * The masked weight {@code w ⊙ M} {@code [out, in, k, k]} and the bias {@code [out]} of one pass.
     *
     * @param weight masked weight
     * @param bias bias
     */
    public record Weights(NDArray weight, NDArray bias) {}

    /**
     * Applies the convolution with weights fetched by {@link #weights}: {@code [B, in, H, W] -> [B, out, H, W]},
     * laid out channels-last in memory on the CPU (see {@link Conv2dBlock#standardLayout} for the
     * standard layout).
     */
    public NDArray apply(Weights w, NDArray x) {
        checkInput(x);
        int pad = kernel / 2;
        return Conv2dBlock.conv2d(x, w.weight(), w.bias(), new Shape(pad, pad));
    }

    private void checkInput(NDArray x) {
        if (x.getShape().dimension() != 4 || x.getShape().get(1) != inChannels) {
            throw new IllegalArgumentException(
                    "MaskedConv2d expects [B, " + inChannels + ", H, W], got " + x.getShape());
        }
    }

    /**
     * relu of {@link #apply}: in passes that record no gradients, the convolution and the ReLU in
     * one engine call ({@link FusedConvolutions}); otherwise the two operations, the convolution's
     * result released as soon as the ReLU has read it.
     */
    public NDArray applyRelu(Weights w, NDArray x) {
        if (!FusedConvolutions.applies(x)) {
            return Tensors.reluReleasing(apply(w, x));
        }
        checkInput(x);
        int pad = kernel / 2;
        return FusedConvolutions.convRelu(x, w.weight(), w.bias(), pad, pad);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Weights w = weights(new FlowContext(ps, x.getManager(), training, false), x, x.getManager(), false);
        return new NDList(apply(w, x));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), outChannels, s.get(2), s.get(3))};
    }
}
