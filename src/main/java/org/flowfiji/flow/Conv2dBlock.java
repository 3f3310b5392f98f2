package org.flowfiji.flow;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * A same-padded 2-D convolution with bias, used inside coupling networks and priors.
 *
 * <p>{@code y = w * x + b}: x [B, in, H, W], kernel w [out, in, k, k], bias [out], y [B, out, H, W]
 * (stride 1, padding k/2, k odd). The kernel starts either at N(0, 1/(in·k·k)) from a seed or at
 * zero (a zero-initialised last layer makes a coupling start as the identity).
 *
 * <p>The kernel is stored channels-last: the parameter "weight" has shape [out, k, k, in] and
 * holds w[o, c, i, j] at [o, i, j, c], so that a pass hands the engine the kernel as a permuted
 * view of the parameter, without a copy (see {@link #weight}). Files of version 1 hold the kernel as
 * [out, in, k, k]; {@link #loadParameters} converts them.
 */
final class Conv2dBlock extends AbstractBlock {

    /** 2: kernel stored [out, k, k, in]; 1: kernel stored [out, in, k, k]. */
    private static final byte VERSION = 2;

    private final int in;
    private final int out;
    private final int kernel;
    private final Parameter weight;
    private final Parameter bias;

    Conv2dBlock(int in, int out, int kernel, boolean zeroInit, long seed) {
        super(VERSION);
        if (in < 1 || out < 1 || kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException(
                    "Convolution needs positive channel counts and an odd kernel, got in=" + in + " out=" + out
                            + " kernel=" + kernel);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        // the same values as a [out, in, k, k] kernel drawn from the seed, stored channels-last
        Initializer w = zeroInit ? Initializer.ZEROS : (manager, shape, type) -> {
            try (NDManager staging = manager.newSubManager()) {
                NDArray standard = Init.normal(Math.sqrt(1.0 / (in * kernel * kernel)), seed)
                        .initialize(staging, new Shape(out, in, kernel, kernel), type);
                NDArray stored = stored(standard);
                stored.attach(manager);
                return stored;
            }
        };
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(out, kernel, kernel, in)).optInitializer(w).build());
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(out)).optInitializer(Initializer.ZEROS).build());
    }

    /**
     * Applies the convolution to x [B, in, H, W], giving [B, out, H, W] in the standard
     * (row-major NCHW) layout.
     */
    NDArray apply(FlowContext ctx, NDArray x) {
        return standardLayout(applyChannelsLast(ctx, x, weight(ctx, x)));
    }

    /**
     * The kernel [out, in, k, k] for a pass over {@code like}: a view of the parameter (gradients
     * flow back to it) attached to the pass's scope, whose memory is laid out channels-last
     * ([out, k, k, in] in memory, as stored). Given such a kernel, the engine runs the convolution
     * channels-last: a channels-first input is reordered once inside the convolution, a
     * channels-last input not at all, and the result is channels-last. At the few to tens of
     * channels of coupling networks this runs the oneDNN kernels 1.3 to 2 times faster than the
     * channels-first layout, whose every convolution reorders its input and output
     * (docs/benchmarks.md).
     */
    NDArray weight(FlowContext ctx, NDArray like) {
        NDArray w = Tensors.operand(ctx, weight, like).transpose(0, 3, 1, 2);
        // the view is computed from the parameter, so it starts in the parameter's manager
        w.attach(ctx.manager());
        return w;
    }

    /**
     * w [out, in, k, k] copied into channels-last memory order ([out, k, k, in] in memory), same
     * shape and values; the copy belongs to w's manager and carries w's gradient.
     */
    static NDArray channelsLast(NDArray w) {
        return stored(w).transpose(0, 3, 1, 2);
    }

    /** A kernel w [out, in, k, k] as stored: [out, k, k, in], contiguous (a copy in w's manager). */
    private static NDArray stored(NDArray w) {
        Shape s = w.getShape();
        // a permuted view cannot be flattened in place, so this reshape copies into [out, k, k, in] order
        return w.transpose(0, 2, 3, 1).reshape(s.get(0), -1).reshape(s.get(0), s.get(2), s.get(3), s.get(1));
    }

    /**
     * The convolution with a weight from {@link #weight}: [B, out, H, W] as the engine leaves it
     * (channels-last in memory on the CPU), for the next convolution or elementwise operation.
     */
    NDArray applyChannelsLast(FlowContext ctx, NDArray x, NDArray w) {
        return applyChannelsLast(ctx, x, w, true, true);
    }

    /**
     * The convolution over rows of a larger input, zero-padded only at the sides that are that
     * input's own edges: columns always; the top row when {@code padTop}, the bottom row when
     * {@code padBottom}. An unpadded side loses {@code kernel / 2} rows (the rows whose window
     * would reach past the rows given), so x holding rows [a, e) of the input gives the output rows
     * [a + (padTop ? 0 : k/2), e - (padBottom ? 0 : k/2)), each exactly as in a pass over the
     * whole input. With both sides padded this is {@link #applyChannelsLast(FlowContext, NDArray, NDArray)}.
     */
    NDArray applyChannelsLast(FlowContext ctx, NDArray x, NDArray w, boolean padTop, boolean padBottom) {
        Tensors.requireChannels("Convolution", x, in);
        // the convolution's result attaches to x's manager
        NDArray b = Tensors.operand(ctx, bias, x);
        return rowsOf(convolve(x, w, b, padTop, padBottom), padTop, padBottom);
    }

    /**
     * relu of {@link #applyChannelsLast(FlowContext, NDArray, NDArray, boolean, boolean)}: in passes
     * that record no gradients, the convolution and the ReLU in one engine call
     * ({@link FusedConvolutions}); otherwise the two operations, the convolution's result released
     * as soon as the ReLU has read it (a backward pass needs only the ReLU's result).
     */
    NDArray applyChannelsLastRelu(FlowContext ctx, NDArray x, NDArray w, boolean padTop, boolean padBottom) {
        if (ctx.training() || !FusedConvolutions.applies(x)) {
            return Tensors.reluReleasing(applyChannelsLast(ctx, x, w, padTop, padBottom));
        }
        Tensors.requireChannels("Convolution", x, in);
        NDArray b = Tensors.operand(ctx, bias, x);
        return rowsOf(FusedConvolutions.convRelu(x, w, b, rowPad(padTop, padBottom), kernel / 2), padTop, padBottom);
    }

    /** The rows of padding on either side: k/2 when either side is to be padded, else none. */
    private int rowPad(boolean padTop, boolean padBottom) {
        return padTop || padBottom ? kernel / 2 : 0;
    }

    /**
     * The engine's convolution of x with a kernel of k columns (k or one rows), columns padded by
     * k/2, rows by k/2 on both sides when either side is to be padded (else none).
     */
    private NDArray convolve(NDArray x, NDArray w, NDArray b, boolean padTop, boolean padBottom) {
        return conv2d(x, w, b, new Shape(rowPad(padTop, padBottom), kernel / 2));
    }

    /**
     * The engine's convolution of x [B, in, H, W] with w [out, in, kh, kw] and bias b (or null),
     * stride 1, the given [rows, columns] zero padding, for every convolution of the flows' layers.
     *
     * <p>A convolution of a single input channel whose input gradient is recorded runs on two
     * channels instead, the second all zeros in x and in w (the same result and gradients): on at
     * least one processor (an AMD EPYC with AVX-512, libtorch 2.7.1's oneDNN 3.7.1) the AVX-512
     * kernel of the input gradient of a one-channel convolution returned wrong values whenever
     * the output channels were not a multiple of 16 (to 2, 4, 8 or 24 channels: errors as large
     * as the gradient itself; to 16, 32, 64 right), while two input channels or more were right.
     * {@code ConvolutionGradientTest} checks the input and kernel gradients of these convolutions
     * against float64 on the machine it runs on.
     *
     * <p>A 1x1 convolution to more than {@value #POINTWISE_OUTPUT_BLOCK} output channels that are
     * not a multiple of that runs to the next multiple, the extra outputs dropped
     * ({@link #pointwiseOutputs}: a oneDNN kernel computed such widths wrongly on the processor
     * above); {@link FusedConvolutions} does the same.
     */
    static NDArray conv2d(NDArray x, NDArray w, NDArray b, Shape padding) {
        if (w.getShape().get(1) == 1 && JniUtils.isGradMode()) {
            NDArray w2 = channelsLast(w.concat(w.zerosLike(), 1));
            w2.attach(x.getManager());
            x = x.concat(x.zerosLike(), 1);
            w = w2;
        }
        NDArray[] widened = widenedPointwise(w, b);
        if (widened != null) {
            return firstChannels(conv2d(x, widened[0], widened[1], padding), w.getShape().get(0));
        }
        return Conv2d.conv2d(x, w, b, new Shape(1, 1), padding, new Shape(1, 1), 1).singletonOrThrow();
    }

    /** Output channels of 1x1 convolutions in multiples of this beyond it (see {@link #pointwiseOutputs}). */
    static final long POINTWISE_OUTPUT_BLOCK = 32;

    /**
     * The output channels a 1x1 convolution to {@code out} channels runs with: {@code out} up to
     * {@value #POINTWISE_OUTPUT_BLOCK} and at multiples of it, else the next multiple (the extra
     * channels have zero kernels and are dropped). On an AMD EPYC with AVX-512, libtorch 2.7.1's
     * oneDNN 3.7.1 computed channels-last 1x1 convolutions to 33-45, 65-80, 97-112 and 129-136 of
     * the widths tried wrongly (errors of half the largest value), whatever the batch, input
     * channels and engine threads; up to 32 and at multiples of 32 they were right
     * ({@code PointwiseConvolutionTest}).
     */
    static long pointwiseOutputs(long out) {
        return out <= POINTWISE_OUTPUT_BLOCK || out % POINTWISE_OUTPUT_BLOCK == 0
                ? out : (out + POINTWISE_OUTPUT_BLOCK - 1) / POINTWISE_OUTPUT_BLOCK * POINTWISE_OUTPUT_BLOCK;
    }

    /**
     * For a 1x1 kernel w [out, in, 1, 1] whose width {@link #pointwiseOutputs} widens: the kernel
     * and bias b (or null) with zero outputs added up to that width; else null (w runs as it is).
     */
    static NDArray[] widenedPointwise(NDArray w, NDArray b) {
        Shape ws = w.getShape();
        if (ws.get(2) != 1 || ws.get(3) != 1) return null;
        long outputs = pointwiseOutputs(ws.get(0));
        if (outputs == ws.get(0)) return null;
        NDArray extra = w.getManager().zeros(new Shape(outputs - ws.get(0), ws.get(1), ws.get(2), ws.get(3)), w.getDataType());
        NDArray wp = w.concat(extra, 0);
        NDArray bp = b == null ? null : b.concat(b.getManager().zeros(new Shape(outputs - ws.get(0)), b.getDataType()));
        return new NDArray[] {wp, bp};
    }

    /** The first {@code channels} channels of y [B, C, H, W] (a view). */
    static NDArray firstChannels(NDArray y, long channels) {
        return y.get(new NDIndex().addAllDim().addSliceDim(0, channels));
    }

    /** The rows of a convolution's result that belong to the sides asked for (see above). */
    private NDArray rowsOf(NDArray y, boolean padTop, boolean padBottom) {
        int pad = kernel / 2;
        if (pad == 0 || padTop == padBottom) {
            return y;
        }
        // one side padded: padding both and dropping the rows of the other side is one convolution
        long h = y.getShape().get(2);
        return padTop ? y.get(new NDIndex(":, :, 0:{}", h - pad)) : y.get(new NDIndex(":, :, {}:", pad));
    }

    /**
     * Output channels times kernel rows up to which {@link #applyByRows} is faster than the
     * convolution itself. libtorch's oneDNN kernels compute output channels in blocks: a 3x3
     * convolution from 64 channels to 2, 4, 8 or 16 takes about the same time, set by its 64
     * inputs, not by its outputs. One convolution with 1 x k kernels to k·out channels computes the
     * k kernel rows at once in about a third of that time. Measured on 2 cores
     * (docs/benchmarks.md): Glow's 64→4 over a band of 30 x 512 positions 0.71 ms, plus 0.25 ms for
     * the shifted sums, against about 2 ms; 64→8 (24 channels by rows) was slower than the
     * convolution.
     */
    private static final int ROWS_MAX_CHANNELS = 16;

    /**
     * Positions (batch x rows x columns) from which {@link #applyByRows} pays (at 16 x 16 x 16 the
     * two were even; a map's bands have 120 x 1024 or more).
     */
    private static final long ROWS_MIN_POSITIONS = 8_192;

    /**
     * Whether a pass that does not train, over {@code positions} output positions, should run this
     * convolution by kernel rows ({@link #applyByRows}): a k x k kernel (k > 1) with at most
     * {@link #ROWS_MAX_CHANNELS} / k outputs, over at least {@link #ROWS_MIN_POSITIONS} positions.
     * Training keeps the convolution: with its backward pass, by rows took twice as long on
     * training batches.
     */
    boolean byRows(FlowContext ctx, long positions) {
        return !ctx.training() && kernel > 1 && (long) kernel * out <= ROWS_MAX_CHANNELS
                && positions >= ROWS_MIN_POSITIONS;
    }

    /**
     * The kernel and bias of {@link #applyByRows} for a pass over {@code like}: the k x k kernel
     * as k kernels of one row, w[o, c, i, j] at [i·out + o, c, 0, j] of a [k·out, in, 1, k]
     * kernel (laid out channels-last like {@link #weight}), and the bias on the first row's
     * outputs, zero on the others. Copies computed from the parameters (gradients flow back).
     */
    NDList rowsKernel(FlowContext ctx, NDArray like) {
        // views in the pass's scope, so that everything computed from them is too
        NDArray stored = Tensors.inScope(ctx, Tensors.operand(ctx, weight, like));
        NDArray b = Tensors.inScope(ctx, Tensors.operand(ctx, bias, like));
        // [out, i, j, c] -> [i, out, j, c] -> [i·out, 1, j, c]: copied, then viewed as [i·out, c, 1, j]
        NDArray w = stored.transpose(1, 0, 2, 3).reshape((long) kernel * out, 1, kernel, in).transpose(0, 3, 1, 2);
        NDArray rowsBias = b.concat(ctx.manager().zeros(new Shape((long) (kernel - 1) * out), b.getDataType()));
        return new NDList(w, rowsBias);
    }

    /**
     * The same convolution as {@link #applyChannelsLast(FlowContext, NDArray, NDArray, boolean,
     * boolean)}, computed by kernel rows: one convolution with the kernel's k rows as 1 x k kernels
     * of k·out outputs (from {@link #rowsKernel}), then output row r is the sum of the first block's
     * row r, the second's row r + 1, ..., the k-th's row r + k - 1 (rows padded with zeros, bias
     * rows in the first block, at the input's padded edges). Equal to the convolution up to the
     * order of the floating-point sums.
     */
    NDArray applyByRows(FlowContext ctx, NDArray x, NDList rowsKernel, boolean padTop, boolean padBottom) {
        Tensors.requireChannels("Convolution", x, in);
        NDArray y = convolve(x, rowsKernel.get(0), rowsKernel.get(1), padTop, padBottom);
        long n = y.getShape().get(2) - (kernel - 1);
        NDArray sum = null;
        for (int i = 0; i < kernel; i++) {
            NDArray row = y.get(new NDIndex(":, {}:{}, {}:{}", (long) i * out, (long) (i + 1) * out, i, i + n));
            sum = sum == null ? row : i == 1 ? sum.add(row) : sum.addi(row);
        }
        return rowsOf(sum, padTop, padBottom);
    }

    /**
     * y with the same shape and values in row-major [B, C, H, W] memory order: a copy when y is
     * laid out otherwise (flattening a permuted layout cannot be a view), y's own memory when
     * it already is. y's handle is released (the result keeps whatever memory it shares with y).
     */
    static NDArray standardLayout(NDArray y) {
        Shape s = y.getShape();
        NDArray rows = y.reshape(s.get(0), -1);
        NDArray out = rows.reshape(s);
        rows.close();
        y.close();
        return out;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        return new NDList(apply(new FlowContext(parameterStore, x.getManager(), training, false), x));
    }

    @Override
    protected void loadMetadata(byte loadVersion, DataInputStream is) throws IOException, MalformedModelException {
        if (loadVersion != 1 && loadVersion != VERSION) {
            throw new MalformedModelException("Cannot load parameters of a convolution: file has version "
                    + loadVersion + ", this software reads versions 1 and " + VERSION);
        }
        readInputShapes(is);
    }

    /** Reads version 2 as it is, or version 1, whose [out, in, k, k] kernel it stores channels-last. */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is) throws IOException, MalformedModelException {
        byte loadVersion = is.readByte();
        loadMetadata(loadVersion, is);
        if (loadVersion == VERSION) {
            weight.load(manager, is);
        } else {
            // a parameter can only be given its array by load: read the old kernel, write it as
            // stored now, and load that
            Parameter old = Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build();
            old.load(manager, is);
            try (NDManager staging = manager.newSubManager()) {
                NDArray standard = old.getArray();
                standard.attach(staging);
                Shape expected = new Shape(out, in, kernel, kernel);
                if (!expected.equals(standard.getShape())) {
                    throw new MalformedModelException("Convolution kernel has shape " + standard.getShape()
                            + ", expected " + expected);
                }
                Parameter converted = Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                        .optArray(stored(standard)).build();
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                converted.save(new DataOutputStream(bytes));
                weight.load(manager, new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            }
        }
        bias.load(manager, is);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), out, s.get(2), s.get(3))};
    }
}
