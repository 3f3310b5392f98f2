package org.flowfiji.flow;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The generic multi-scale image flow: L levels of flow layers, a split after every level but the
 * last, Gaussian priors on every factored-out half and on the top latent.
 *
 * <p><b>Density direction.</b> With h_0 = x [B, C, H, W], level l applies its layers
 * (which may include squeezes), then, for l &lt; L-1, splits the result along channels into
 * a kept half z1 (the first ⌊c/2⌋ channels) and a factored-out half z2, scored by
 * {@code log p_l(z2 | z1)}; h_{l+1} = z1. The last level's output is scored by the top prior. So
 * <pre>  log p(x) = Σ_l log p_l(z2_l | z1_l) + log p_top(h_L) + Σ_layers log|det ∂out/∂in|.</pre>
 *
 * <p><b>Likelihood map.</b> Every per-element term (layer log-det maps and prior log-densities)
 * lives on some grid of h x w positions; it is summed over channels and spread evenly over the
 * (H/h) x (W/w) input pixel block each position covers (each pixel gets value·hw/(HW)). The map
 * [B, H, W] therefore sums exactly to log p(x).
 *
 * <p><b>Memory.</b> Every temporary array of a pass, and its results, live in the context's
 * manager ({@link FlowContext#manager()}), wherever the input lives: open a sub-manager per batch
 * or tile and close it afterwards.
 *
 * <p><b>Sampling direction.</b> The top latent is drawn from its prior, the levels are inverted
 * from last to first, and before inverting level l &lt; L-1 its factored-out half is drawn from
 * {@code p_l(· | z1)}. Temperature T scales every prior's standard deviation.
 */
public class MultiScaleFlow extends AbstractBlock implements ImageFlow {

    private static final byte VERSION = 1;

    private final FlowConfig config;
    private final List<List<FlowBlock>> levels;
    private final List<GaussianPrior> splitPriors;
    private final GaussianPrior topPrior;

    /**
     * Builds a flow from its levels and priors.
     *
     * @param config the configuration the flow reports (its {@code channels} is the input C)
     * @param levels the layers of every level, in the density direction; at least one level
     * @param splitPriors one prior per split (levels.size() - 1 of them), each over the factored-out
     *     half and conditioned (if it is conditional) on the kept half
     * @param topPrior the prior of the last level's output
     */
    public MultiScaleFlow(FlowConfig config, List<List<FlowBlock>> levels, List<GaussianPrior> splitPriors,
            GaussianPrior topPrior) {
        super(VERSION);
        if (levels.isEmpty()) {
            throw new IllegalArgumentException("A multi-scale flow needs at least one level");
        }
        if (splitPriors.size() != levels.size() - 1) {
            throw new IllegalArgumentException("A flow with " + levels.size() + " levels needs "
                    + (levels.size() - 1) + " split priors, got " + splitPriors.size());
        }
        this.config = config;
        List<List<FlowBlock>> copy = new ArrayList<>();
        for (int l = 0; l < levels.size(); l++) {
            List<FlowBlock> level = List.copyOf(levels.get(l));
            for (int i = 0; i < level.size(); i++) {
                addChildBlock("level" + l + "_" + i + "_" + level.get(i).getClass().getSimpleName(), level.get(i));
            }
            copy.add(level);
        }
        this.levels = Collections.unmodifiableList(copy);
        this.splitPriors = List.copyOf(splitPriors);
        for (int l = 0; l < this.splitPriors.size(); l++) {
            addChildBlock("split" + l, this.splitPriors.get(l));
        }
        this.topPrior = addChildBlock("top", topPrior);
    }

    /**
     * The number of channels a split keeps out of {@code c}: ⌊c/2⌋ (the rest is factored out).
     * Architectures use it to size their split priors.
     */
    public static int keptChannels(int c) {
        if (c < 2) {
            throw new IllegalArgumentException("A split needs at least 2 channels, got " + c);
        }
        return c / 2;
    }

    @Override
    public FlowConfig config() {
        return config;
    }

    /** The layers of every level (unmodifiable), in the density direction. */
    public List<List<FlowBlock>> levels() {
        return levels;
    }

    @Override
    public FlowOutput forward(FlowContext ctx, NDArray x) {
        return encode(ctx, x, null);
    }

    /**
     * Maps x to its latents: the factored-out half of every split, in level order, then the top
     * latent. Together they determine x (see {@link #decode}).
     */
    public List<NDArray> latents(FlowContext ctx, NDArray x) {
        List<NDArray> out = new ArrayList<>();
        encode(ctx.withMap(false), x, out);
        return out;
    }

    /**
     * The density pass through levels {@code from} to {@code to - 1} only, for passes that run the
     * levels in stages over different regions (the likelihood map's tiles). {@code h} is the input
     * of level {@code from}: the image when {@code from} is 0, else the half kept by the split
     * after level {@code from - 1}, whose grid is the image's shrunk by {@code 2^from}.
     *
     * @return the stage's likelihood map [B, H, W] at the image's pixel grid (its share of the
     *     whole map: the terms of these levels, including the split priors after them), and the
     *     half the split after level {@code to - 1} keeps (the next stage's input), or null when
     *     {@code to} is the number of levels
     */
    public Stage encodeLevels(FlowContext ctx, NDArray h, int from, int to) {
        if (from < 0 || to > levels.size() || from >= to) {
            throw new IllegalArgumentException("Levels " + from + " to " + (to - 1) + " of a flow with "
                    + levels.size() + " levels");
        }
        FlowContext mc = ctx.withMap(true);
        Encoded e = encode(mc, h, from, to, null);
        return new Stage(e.out().pixelMap(), e.kept());
    }

    /**
     * A stage of the density pass ({@link #encodeLevels}).
     *
     * @param pixelMap the stage's share of the likelihood map [B, H, W]
     * @param kept the input of the next stage, or null after the last level
     */
    public record Stage(NDArray pixelMap, NDArray kept) {}

    private FlowOutput encode(FlowContext ctx, NDArray x, List<NDArray> latentsOut) {
        return encode(ctx, x, 0, levels.size(), latentsOut).out();
    }

    private record Encoded(FlowOutput out, NDArray kept) {}

    private Encoded encode(FlowContext ctx, NDArray x, int from, int to, List<NDArray> latentsOut) {
        Shape in;
        if (from == 0) {
            checkInput(x.getShape());
            in = x.getShape();
        } else {
            Shape s = x.getShape();
            in = new Shape(s.get(0), config.channels(), s.get(2) << from, s.get(3) << from);
        }
        NDArray h = Tensors.inScope(ctx, x);
        NDArray logdet = Tensors.zerosPerSample(ctx, x);
        NDArray logPrior = Tensors.zerosPerSample(ctx, x);
        MapAccumulator map = ctx.wantMap() ? new MapAccumulator(ctx.manager(), in) : null;
        NDArray first = h;
        for (int l = from; l < to; l++) {
            for (FlowBlock layer : levels.get(l)) {
                // one scope per layer: its temporaries are released as soon as the layer is done
                // (libtorch's autograd keeps what a backward pass needs on its own)
                try (NDManager scope = ctx.manager().newSubManager()) {
                    FlowContext lc = ctx.withManager(scope);
                    Step s = layer.forward(lc, Tensors.inScope(lc, h));
                    NDArray next = s.out();
                    NDArray nextLogdet = logdet.add(s.logdet());
                    next.attach(ctx.manager());
                    nextLogdet.attach(ctx.manager());
                    logdet.close();
                    logdet = nextLogdet;
                    if (map != null) {
                        map.add(s);
                    }
                    if (h != first && h != next) {
                        h.close();
                    }
                    h = next;
                }
            }
            NDArray scored;
            GaussianPrior prior;
            NDArray cond;
            if (l < levels.size() - 1) {
                NDList halves = h.split(new long[] {keptChannels((int) h.getShape().get(1))}, 1);
                scored = halves.get(1);
                prior = splitPriors.get(l);
                cond = halves.get(0);
                h = halves.get(0);
            } else {
                scored = h;
                prior = topPrior;
                cond = null;
            }
            if (latentsOut != null) {
                latentsOut.add(scored);
            }
            // the prior's temporaries (several full-size arrays) are released before the next level
            try (NDManager scope = ctx.manager().newSubManager()) {
                FlowContext pc = ctx.withManager(scope);
                NDArray density = prior.logDensity(pc, Tensors.inScope(pc, scored),
                        cond == null ? null : Tensors.inScope(pc, cond));
                NDArray nextPrior = logPrior.add(Tensors.perSample(density));
                nextPrior.attach(ctx.manager());
                logPrior.close();
                logPrior = nextPrior;
                if (map != null) {
                    map.add(density);
                }
            }
        }
        FlowOutput out = new FlowOutput(logPrior.add(logdet), logPrior, logdet, map == null ? null : map.result());
        return new Encoded(out, to < levels.size() ? h : null);
    }

    /**
     * Maps latents (as returned by {@link #latents}) back to an image: the inverse of the flow.
     *
     * @return the image x [B, C, H, W] and log|det dx/dz| of the whole flow
     */
    public Step decode(FlowContext ctx, List<NDArray> latents) {
        if (latents.size() != levels.size()) {
            throw new IllegalArgumentException(
                    "This flow has " + levels.size() + " latents (one per level), got " + latents.size());
        }
        NDArray h = Tensors.inScope(ctx, latents.get(levels.size() - 1));
        NDArray logdet = Tensors.zerosPerSample(ctx, h);
        for (int l = levels.size() - 1; l >= 0; l--) {
            if (l < levels.size() - 1) {
                h = NDArrays.concat(new NDList(h, Tensors.inScope(ctx, latents.get(l))), 1);
            }
            List<FlowBlock> level = levels.get(l);
            for (int i = level.size() - 1; i >= 0; i--) {
                NDArray[] r = inverseInScope(ctx, level.get(i), h, logdet);
                h = r[0];
                logdet = r[1];
            }
        }
        return new Step(h, logdet, null);
    }

    /**
     * One layer's inverse in a scope of its own, so its temporaries are released when it is done;
     * returns the output and {@code acc + log|det|}, both attached to the pass's manager.
     */
    private static NDArray[] inverseInScope(FlowContext ctx, FlowBlock layer, NDArray h, NDArray acc) {
        try (NDManager scope = ctx.manager().newSubManager()) {
            FlowContext lc = ctx.withManager(scope).withMap(false);
            Step st = layer.inverse(lc, Tensors.inScope(lc, h));
            NDArray out = st.out();
            NDArray sum = acc.add(st.logdet());
            out.attach(ctx.manager());
            sum.attach(ctx.manager());
            return new NDArray[] {out, sum};
        }
    }

    /**
     * Standard normal values for the priors of a sampling pass: {@code shape} [B, C, h, w] values
     * for level {@code level}'s prior (the split prior after that level, or the top prior for the
     * last level), in {@code manager}.
     */
    @FunctionalInterface
    public interface Noise {
        NDArray draw(NDManager manager, int level, Shape shape);
    }

    @Override
    public Sample sample(FlowContext ctx, int batch, int height, int width, float temperature) {
        if (batch < 1) {
            throw new IllegalArgumentException("Sample count must be >= 1, got " + batch);
        }
        return sample(ctx, new Shape(batch, config.channels(), height, width), temperature, true,
                (manager, level, shape) -> manager.randomNormal(0f, 1f, shape, DataType.FLOAT32));
    }

    /**
     * Images of shape {@code image} [B, C, H, W] from the priors' draws on the given standard normal
     * values. The flow is local (see the receptive radius of maps): a region of a larger image
     * decoded from its own values (with a margin) equals that region of the whole image decoded
     * from the whole image's values, which is how large samples are made in tiles.
     *
     * @param logProb false to skip log q(x) (the returned sample's {@code logProb} is then null)
     */
    public Sample sample(FlowContext ctx, Shape image, float temperature, boolean logProb, Noise noise) {
        checkInput(image);
        List<Shape> levelOut = new ArrayList<>();
        Shape s = image;
        for (int l = 0; l < levels.size(); l++) {
            for (FlowBlock layer : levels.get(l)) {
                s = layer.outputShape(s);
            }
            levelOut.add(s);
            if (l < levels.size() - 1) {
                s = new Shape(s.get(0), keptChannels((int) s.get(1)), s.get(2), s.get(3));
            }
        }
        FlowContext noMap = ctx.withMap(false);
        int top = levels.size() - 1;
        NDArray h = topPrior.fromNoise(noMap, noise.draw(noMap.manager(), top, levelOut.get(top)), null, temperature);
        NDArray logPrior = logProb ? Tensors.perSample(topPrior.logDensity(noMap, h, null)) : null;
        NDArray inverseLogdet = Tensors.zerosPerSample(noMap, h);
        for (int l = top; l >= 0; l--) {
            if (l < top) {
                Shape full = levelOut.get(l);
                long kept = h.getShape().get(1);
                Shape outShape = new Shape(full.get(0), full.get(1) - kept, full.get(2), full.get(3));
                NDArray z2 = splitPriors.get(l).fromNoise(noMap, noise.draw(noMap.manager(), l, outShape), h, temperature);
                if (!z2.getDevice().equals(h.getDevice()) || z2.getDataType() != h.getDataType()) {
                    z2 = z2.toDevice(h.getDevice(), false).toType(h.getDataType(), false);
                }
                if (logProb) logPrior = logPrior.add(Tensors.perSample(splitPriors.get(l).logDensity(noMap, z2, h)));
                h = NDArrays.concat(new NDList(h, z2), 1);
            }
            List<FlowBlock> level = levels.get(l);
            for (int i = level.size() - 1; i >= 0; i--) {
                NDArray[] r = inverseInScope(noMap, level.get(i), h, inverseLogdet);
                h = r[0];
                inverseLogdet = r[1];
            }
        }
        return new Sample(h, logProb ? logPrior.sub(inverseLogdet) : null);
    }

    /**
     * Runs one training-mode forward pass over x so that every {@link DataInitialized} layer
     * initialises itself (in order, each on the output of the already initialised layers before
     * it); nothing happens when no such layer is waiting. The pass also updates running
     * statistics of batch-normalisation layers, as any training pass does.
     */
    @Override
    public void initializeFromData(FlowContext ctx, NDArray x) {
        if (needsDataInitialization(this)) {
            encode(new FlowContext(ctx.parameters(), ctx.manager(), true, false), x, null);
        }
    }

    /** True when some block in the tree below {@code block} waits for its data-dependent initialisation. */
    static boolean needsDataInitialization(Block block) {
        if (block instanceof DataInitialized d && !d.isDataInitialized()) {
            return true;
        }
        for (Block child : block.getChildren().values()) {
            if (needsDataInitialization(child)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Builds a likelihood map from per-element terms: each term [B, c, h, w] is summed over channels
     * into a running sum at its own resolution (terms that are one value at every position, such as
     * a per-channel log-scale's, into a running value instead), and a running sum is spread evenly
     * over the input pixels (each pixel of an (H/h) x (W/w) block gets value·hw/(HW)) only when the
     * resolution changes and at the end, instead of once per term. Every array lives in the pass's
     * manager.
     */
    private static final class MapAccumulator {
        private final NDManager manager;
        private final Shape image;
        private NDArray map;
        /** The running sum [B, h, w] at the current grid, or null. */
        private NDArray level;
        /** The running value [1, 1, 1] of terms that are the same at every position of the grid, or null. */
        private NDArray constant;
        /** The current grid [B, h, w], or null when nothing is pending. */
        private Shape grid;

        MapAccumulator(NDManager manager, Shape image) {
            this.manager = manager;
            this.image = image;
        }

        /** A layer's map: its map sum when it gave one, else its map summed over channels. */
        void add(Step s) {
            NDArray sum = s.mapSum();
            if (sum == null) {
                add(s.logdetMap());
                return;
            }
            Shape out = s.out().getShape();
            moveTo(new Shape(out.get(0), out.get(2), out.get(3)));
            NDArray next = constant == null ? sum.reshape(1, 1, 1) : constant.add(sum);
            next.attach(manager);
            if (constant != null) {
                constant.close();
            }
            constant = next;
        }

        /** A term [B, c, h, w]. */
        void add(NDArray term) {
            NDArray sum = term.sum(new int[] {1});
            moveTo(sum.getShape());
            NDArray next = level == null ? sum : level.add(sum);
            next.attach(manager);
            if (level != null) {
                level.close();
            }
            level = next;
        }

        /** The map [B, H, W]; at least one term must have been added. */
        NDArray result() {
            flush();
            return map;
        }

        /** Flushes the running sums when {@code next} is another grid than theirs. */
        private void moveTo(Shape next) {
            if (grid != null && !sameGrid(grid, next)) {
                flush();
            }
            grid = next;
        }

        private void flush() {
            if (grid == null) {
                return;
            }
            try (NDManager scratch = manager.newSubManager()) {
                NDArray sum;
                if (constant == null) {
                    sum = level;
                } else if (level == null) {
                    sum = constant.broadcast(grid);
                } else {
                    sum = level.add(constant);
                }
                for (NDArray a : new NDArray[] {level, constant, sum}) {
                    if (a != null) {
                        a.attach(scratch);
                    }
                }
                NDArray spread = spread(sum);
                NDArray next = map == null ? spread : map.add(spread);
                next.attach(manager);
                if (map != null) {
                    map.close();
                }
                map = next;
            }
            level = null;
            constant = null;
            grid = null;
        }

        private static boolean sameGrid(Shape a, Shape b) {
            return a.get(1) == b.get(1) && a.get(2) == b.get(2);
        }

        /** A sum [B, h, w] spread evenly over the input pixels: [B, H, W]. */
        private NDArray spread(NDArray sum) {
            Shape t = sum.getShape();
            long b = t.get(0);
            long h = t.get(1);
            long w = t.get(2);
            long fy = image.get(2) / h;
            long fx = image.get(3) / w;
            if (fy == 1 && fx == 1) {
                return sum;
            }
            return sum.reshape(b, h, 1, w, 1)
                    .broadcast(b, h, fy, w, fx)
                    .reshape(b, image.get(2), image.get(3))
                    .div(fy * fx);
        }
    }

    private void checkInput(Shape s) {
        if (s.dimension() != 4 || s.get(1) != config.channels()) {
            throw new IllegalArgumentException("The flow expects images [B, " + config.channels()
                    + ", H, W], got shape " + s);
        }
        int m = config.sizeMultiple();
        if (s.get(2) % m != 0 || s.get(3) % m != 0 || s.get(2) == 0 || s.get(3) == 0) {
            throw new IllegalArgumentException("Image height and width must be positive multiples of " + m
                    + " (2^levels) for this flow, got " + s.get(2) + " x " + s.get(3));
        }
    }

    /**
     * Loads parameters saved from a flow of the same configuration, checking every parameter's
     * shape against this flow's.
     *
     * @throws MalformedModelException when the saved flow has a different structure or sizes
     */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is) throws IOException, MalformedModelException {
        Map<Parameter, Shape> expected = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : getParameters()) {
            expected.put(p.getValue(), p.getValue().getShape());
        }
        super.loadParameters(manager, is);
        for (Pair<String, Parameter> p : getParameters()) {
            Shape want = expected.get(p.getValue());
            Shape got = p.getValue().getShape();
            if (want != null && !want.equals(got)) {
                throw new MalformedModelException("Saved parameter " + p.getKey() + " has shape " + got
                        + " but this " + config.architecture().label() + " flow needs " + want
                        + ": the parameters were saved from a flow with other sizes");
            }
        }
    }

    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        if (inputShapes == null) {
            throw new IllegalStateException("Initialise the flow (Block.initialize) before saving its parameters");
        }
        super.saveMetadata(os);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        FlowOutput o = forward(new FlowContext(parameterStore, x.getManager(), training, false), x);
        return new NDList(o.logLikelihood(), o.logPrior(), o.logdet());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape b = new Shape(inputShapes[0].get(0));
        return new Shape[] {b, b, b};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, inputShapes);
        }
    }
}
