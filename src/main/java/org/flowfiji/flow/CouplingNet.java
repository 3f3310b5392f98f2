package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The conditioner of a coupling layer: a convolutional network from the conditioning part
 * [B, in, H, W] to the coupling's shift and scale inputs [B, out, H, W]. Its last convolution is
 * zero-initialised, so a new coupling is the identity.
 *
 * <ul>
 *   <li>{@link #glow}: conv3x3(in→hidden), ReLU, conv1x1(hidden→hidden), ReLU, conv3x3(hidden→out);</li>
 *   <li>{@link #resNet}: conv3x3(in→hidden), then {@code blocks} residual blocks
 *       {@code h + conv3x3(ReLU(conv3x3(ReLU(h))))}, ReLU, conv3x3(hidden→out) (RealNVP's s/t network,
 *       without its internal batch normalisation so that samples stay independent).</li>
 * </ul>
 */
public final class CouplingNet extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int out;
    private final int hidden;
    private final Conv2dBlock first;
    private final List<Conv2dBlock[]> residual;
    private final Conv2dBlock middle;
    private final Conv2dBlock last;

    private CouplingNet(int in, int hidden, int out, int blocks, boolean glow, long seed) {
        super(VERSION);
        if (hidden < 1) {
            throw new IllegalArgumentException("Hidden width must be >= 1, got " + hidden);
        }
        this.out = out;
        this.hidden = hidden;
        Random rng = new Random(seed);
        first = addChildBlock("first", new Conv2dBlock(in, hidden, 3, false, rng.nextLong()));
        residual = new ArrayList<>();
        if (glow) {
            middle = addChildBlock("middle", new Conv2dBlock(hidden, hidden, 1, false, rng.nextLong()));
        } else {
            middle = null;
            for (int b = 0; b < blocks; b++) {
                Conv2dBlock c1 = addChildBlock("res" + b + "a",
                        new Conv2dBlock(hidden, hidden, 3, false, rng.nextLong()));
                Conv2dBlock c2 = addChildBlock("res" + b + "b",
                        new Conv2dBlock(hidden, hidden, 3, false, rng.nextLong()));
                residual.add(new Conv2dBlock[] {c1, c2});
            }
        }
        last = addChildBlock("last", new Conv2dBlock(hidden, out, 3, true, rng.nextLong()));
    }

    /** Glow's network: conv3x3-ReLU-conv1x1-ReLU-conv3x3 (zero-initialised), hidden width {@code hidden}. */
    public static CouplingNet glow(int in, int hidden, int out, long seed) {
        return new CouplingNet(in, hidden, out, 0, true, seed);
    }

    /** RealNVP's small ResNet with {@code blocks} residual blocks of width {@code hidden}. */
    public static CouplingNet resNet(int in, int hidden, int out, int blocks, long seed) {
        if (blocks < 1) {
            throw new IllegalArgumentException("A ResNet needs at least one residual block, got " + blocks);
        }
        return new CouplingNet(in, hidden, out, blocks, false, seed);
    }

    /**
     * Bytes of one hidden activation above which an evaluation pass runs the network in bands of
     * rows (see {@link #apply(FlowContext, NDArray, long)}): 32 MB, the largest block that glibc's
     * allocator, as {@code NativeAllocator} sets it, takes from its heap rather than mapping it
     * fresh. Bands that large run fewer, larger operations: a 2048² Glow density pass took
     * 2.6-3.1 s in bands of 24 or 32 MB against 3.3-3.4 s in bands of 4 MB, and 3.5-4.0 s in
     * bands of 48 MB, whose activations are mapped fresh (docs/benchmarks.md).
     */
    static final long BAND_BYTES = 32L << 20;

    /** The network's output for h [B, in, H, W]: [B, out, H, W]. */
    public NDArray apply(FlowContext ctx, NDArray h) {
        return apply(ctx, h, BAND_BYTES);
    }

    /**
     * The network's output, computed in horizontal bands when the pass records no gradients and a
     * hidden activation of the whole input would exceed {@code bandBytes}. Each band of rows is
     * computed from its rows plus {@link #radius()} rows of context on either side; every 3x3
     * convolution pads rows with zeros only at the input's own top and bottom and otherwise drops
     * the rows its window cannot cover, so each convolution computes just the rows that later
     * layers use and every output row sees exactly the inputs it sees in a whole pass. The result
     * is the same, while the network's wide hidden activations stay within {@code bandBytes} each
     * (blocks the allocator reuses) whatever the image size.
     */
    NDArray apply(FlowContext ctx, NDArray h, long bandBytes) {
        Shape s = h.getShape();
        long height = s.get(2);
        long rowBytes = s.get(0) * hidden * s.get(3) * Float.BYTES;
        int r = radius();
        long most = Math.max(4L * r, bandBytes / rowBytes - 2L * r);
        boolean whole = ctx.training() || most >= height;
        // bands of equal height, none a sliver (the context rows would cost more than its rows)
        long count = (height + most - 1) / most;
        long rows = (height + count - 1) / count;
        Weights w = new Weights(ctx, h, s.get(0) * (whole ? height : rows) * s.get(3));
        if (whole) {
            return applyRows(ctx, h, w, true, true);
        }
        try (NDManager parts = ctx.manager().newSubManager()) {
            NDList bands = new NDList();
            for (long y0 = 0; y0 < height; y0 += rows) {
                long y1 = Math.min(height, y0 + rows);
                long a = Math.max(0, y0 - r);
                long e = Math.min(height, y1 + r);
                try (NDManager band = parts.newSubManager()) {
                    FlowContext bc = new FlowContext(ctx.parameters(), band, false, ctx.wantMap());
                    NDArray in = h.get(new NDIndex(":, :, {}:{}", a, e));
                    in.attach(band);
                    boolean top = a == 0;
                    // the rows computed start at the input's top, or r rows below the context's first
                    long first = top ? 0 : a + r;
                    NDArray out = applyRows(bc, in, w, top, e == height)
                            .get(new NDIndex(":, :, {}:{}", y0 - first, y1 - first));
                    out.attach(parts);
                    bands.add(out);
                }
            }
            NDArray joined = NDArrays.concat(bands, 2);
            joined.attach(ctx.manager());
            return joined;
        }
    }

    /**
     * How many rows (or columns) of context on either side one output position depends on: one
     * per 3x3 convolution.
     */
    public int radius() {
        return 2 + 2 * residual.size();
    }

    /**
     * Every convolution's weight of one pass, in the layout of {@link Conv2dBlock#weight}; the last
     * convolution's by kernel rows instead ({@link Conv2dBlock#rowsKernel}) when it runs that way
     * over bands or inputs of {@code positions}.
     */
    private final class Weights {
        final NDArray first;
        final NDArray middle;
        final NDArray[][] residual;
        final NDArray last;
        final NDList lastByRows;

        Weights(FlowContext ctx, NDArray like, long positions) {
            first = CouplingNet.this.first.weight(ctx, like);
            middle = CouplingNet.this.middle == null ? null : CouplingNet.this.middle.weight(ctx, like);
            residual = new NDArray[CouplingNet.this.residual.size()][];
            for (int k = 0; k < residual.length; k++) {
                Conv2dBlock[] r = CouplingNet.this.residual.get(k);
                residual[k] = new NDArray[] {r[0].weight(ctx, like), r[1].weight(ctx, like)};
            }
            boolean rows = CouplingNet.this.last.byRows(ctx, positions);
            last = rows ? null : CouplingNet.this.last.weight(ctx, like);
            lastByRows = rows ? CouplingNet.this.last.rowsKernel(ctx, like) : null;
        }
    }

    /**
     * The network on rows of its input: with {@code top} and {@code bottom} (the rows include the
     * input's first and last row) the whole output for h; otherwise every 3x3 convolution leaves
     * out the row it cannot compute on each side that is not an edge, so the result lacks
     * {@link #radius()} rows there (see {@link Conv2dBlock#applyChannelsLast(FlowContext, NDArray,
     * NDArray, boolean, boolean)}). The hidden activations stay channels-last in memory between
     * the convolutions (see {@link Conv2dBlock#weight}); the output is returned in the standard layout.
     * Each activation is released as soon as the next operation has read it: libtorch's autograd
     * keeps what a backward pass needs, and the memory of the rest is reused at once.
     */
    private NDArray applyRows(FlowContext ctx, NDArray h, Weights w, boolean top, boolean bottom) {
        NDArray hidden;
        if (middle != null) {
            NDArray a = first.applyChannelsLastRelu(ctx, h, w.first, top, bottom);
            hidden = middle.applyChannelsLastRelu(ctx, a, w.middle, true, true);
            a.close();
        } else {
            NDArray a = first.applyChannelsLast(ctx, h, w.first, top, bottom);
            for (int k = 0; k < residual.size(); k++) {
                Conv2dBlock[] r = residual.get(k);
                NDArray ra = Activation.relu(a);
                NDArray inner = r[0].applyChannelsLastRelu(ctx, ra, w.residual[k][0], top, bottom);
                ra.close();
                NDArray branch = r[1].applyChannelsLast(ctx, inner, w.residual[k][1], top, bottom);
                inner.close();
                NDArray kept = rowsLike(a, branch, top, bottom);
                NDArray sum = kept.add(branch);
                branch.close();
                if (kept != a) kept.close();
                a.close();
                a = sum;
            }
            hidden = Tensors.reluReleasing(a);
        }
        NDArray y = w.lastByRows != null
                ? last.applyByRows(ctx, hidden, w.lastByRows, top, bottom)
                : last.applyChannelsLast(ctx, hidden, w.last, top, bottom);
        hidden.close();
        return Conv2dBlock.standardLayout(y);
    }

    /** The rows of a that {@code branch} (two convolutions further on, same sides padded) covers. */
    private static NDArray rowsLike(NDArray a, NDArray branch, boolean top, boolean bottom) {
        long lost = a.getShape().get(2) - branch.getShape().get(2);
        if (lost == 0) {
            return a;
        }
        long from = top ? 0 : bottom ? lost : lost / 2;
        return a.get(new NDIndex(":, :, {}:{}", from, from + branch.getShape().get(2)));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        return new NDList(apply(new FlowContext(parameterStore, x.getManager(), training, false), x));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), out, s.get(2), s.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, inputShapes);
        }
    }
}
