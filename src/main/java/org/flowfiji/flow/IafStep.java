package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.Random;

/**
 * One inverse autoregressive flow step (Kingma et al. 2016) on an image tensor.
 *
 * <p><b>Autoregressive network.</b> {@code [m, s] = AR(u)}: a masked convolution with mask A
 * ({@code C -> H}, 3x3), ReLU, a masked convolution with mask B ({@code H -> H}, 3x3), ReLU and a
 * zero-initialised masked convolution with mask B ({@code H -> 2C}, 3x3), all with the {@code C}
 * data channels as ordered groups (see {@link MaskedConv2d} for the element order). Output
 * channels {@code 0..C-1} are {@code m}, channels {@code C..2C-1} are {@code s}; {@code m_i} and
 * {@code s_i} depend on the elements {@code u_<i} only.
 *
 * <p><b>Sampling direction</b> ({@link #inverse}, latent {@code u} to data {@code y}), one
 * parallel pass: {@code σ = σ_min + (1 - σ_min) sigmoid(s + 2)} (see {@link #SIGMA_MIN}),
 * {@code y = σ ⊙ u + (1 - σ) ⊙ m},
 * {@code log|det dy/du| = Σ log σ}; the per-element map is {@code log σ}. The shift of +2 starts
 * every step near the identity ({@code σ ≈ 0.88} while the last layer is zero).
 *
 * <p><b>Density direction</b> ({@link #forward}, {@code y} to {@code u}), exact but sequential:
 * {@code u} solves {@code u = g(u) = m(u) + (y - m(u)) / σ(u)}. The solve is the fixed-point
 * (Jacobi) iteration {@code u_0 = y}, {@code u_{k+1} = g(u_k)}. Element {@code i} of {@code g(u)}
 * depends on {@code u_<i} only (in the order of {@link MaskedConv2d}), so the first element is
 * exact after one pass and, inductively, at least the first {@code k} elements are exact after
 * {@code k} passes: {@code D = C·H·W} passes give the exact solution, which is the usual
 * one-network-pass-per-position cost of autoregressive density evaluation. The iteration stops
 * early as soon as one pass changes nothing ({@code max |u_{k+1} - u_k| == 0} exactly): a
 * floating-point fixed point of {@code g} satisfies the triangular system element by element, so
 * it is the same vector forward substitution (and {@code D} passes) would give. Typically far
 * fewer than {@code D} passes are needed, because errors in later elements shrink as earlier ones
 * settle; {@link #solve} and {@link #lastSolvePasses()} report the count. Elements that are not
 * yet solved are kept finite (see {@link #SOLVE_BOUND}); an iterate with clipped elements is never
 * taken for a fixed point. A data point whose true solution lies beyond that range (far outside
 * what the flow can produce, e.g. for a student distilled on its own samples only) gets an
 * {@link ArithmeticException} rather than a wrong number.
 * {@code log|det du/dy| = -Σ log σ(u)} at the solution, map {@code -log σ}.
 *
 * <p><b>Gradients of the density pass.</b> Outside training the solve runs without gradient.
 * When {@link FlowContext#training()} is set, the solve runs without gradient to get {@code u*},
 * stopping once its changes are down to rounding ({@link #TRAINING_STOP_ROUNDINGS}) rather than at
 * the exact fixed point, then {@code k = gradientPasses} further differentiable passes
 * {@code u_{j+1} = g(u_j)} start from {@code u_0 = u*} (detached). Their value is {@code u*} up to
 * that rounding-level difference (exactly {@code u*} at a fixed point); their derivative (with
 * respect to the parameters θ and to {@code y}) is the truncated Neumann series
 * {@code Σ_{j<k} J^j ∂g/∂(θ, y)} with {@code J = ∂g/∂u}, strictly lower triangular, so the series
 * of the exact implicit derivative {@code (I - J)^-1 ∂g/∂(θ, y)} ends after at most {@code D}
 * terms and is exact when {@code k} reaches the longest dependency chain (at most {@code D}).
 * The log-determinant uses {@code σ} of the last differentiable pass, i.e. evaluated at
 * {@code u_{k-1}} (value exact, derivative truncated after {@code k - 1} terms). Sampling-direction
 * gradients (distillation) are exact: that pass is an ordinary network pass.
 *
 * <p><b>Shapes.</b> input and output {@code [B, C, H, W]}; log-determinant {@code [B]}; map
 * {@code [B, C, H, W]}.
 */
public final class IafStep extends FlowBlock {

    private static final byte VERSION = 1;

    /** Added to {@code s} before the sigmoid: {@code σ ≈ sigmoid(s + 2)}, near identity at the start. */
    public static final double SIGMA_SHIFT = 2.0;

    /**
     * Lower bound of {@code σ}: {@code σ = SIGMA_MIN + (1 - SIGMA_MIN) sigmoid(s + 2)}. It keeps every
     * step's density direction well defined ({@code |u| <= |y - (1-σ)m| / SIGMA_MIN}), which maximum
     * likelihood would otherwise drive towards {@code σ -> 0}, and bounds a step's log-determinant
     * by {@code D log SIGMA_MIN}.
     */
    public static final double SIGMA_MIN = 0.01;

    /**
     * Default differentiable passes k of the training density pass (equal to the number of masked
     * layers): a cheap truncation of the gradient series; the value is exact for any k.
     */
    public static final int DEFAULT_GRADIENT_PASSES = 3;

    /**
     * Iterates of the density solve are clipped to {@code ±SOLVE_BOUND·(1 + max|y|)} and NaNs set to 0,
     * so that elements not yet solved (which may be far off while earlier ones are still wrong) stay
     * finite: a masked weight of zero times a finite value is exactly zero, so they can never leak
     * into elements that are already exact. A solution reaching the bound is reported as an error.
     */
    public static final double SOLVE_BOUND = 1e8;

    /**
     * Training passes stop the density solve once no element changes by more than this many units
     * of the data type's rounding ({@code 2^-23} for float32, {@code 2^-52} for float64) times
     * {@code 1 + max|y|}, instead of waiting for a pass that changes nothing. The iteration reaches
     * that level after a few passes (each pass shrinks the changes about tenfold on the shipped
     * models); what remains are changes of one or two units of rounding that travel along the
     * autoregressive order, and they took more than half of a training solve's passes. The
     * {@code k} differentiable passes that follow start from that iterate. Evaluation, maps and
     * validation always solve to the exact fixed point.
     */
    public static final double TRAINING_STOP_ROUNDINGS = 8;

    private final int channels;
    private final int hidden;
    private final int gradientPasses;
    private final MaskedConv2d conv1;
    private final MaskedConv2d conv2;
    private final MaskedConv2d conv3;
    private volatile int lastSolvePasses;

    /** A step for {@code channels} data channels, hidden width {@code hidden}, the default gradient passes. */
    public IafStep(int channels, int hidden, long seed) {
        this(channels, hidden, DEFAULT_GRADIENT_PASSES, seed);
    }

    /**
     * A step for {@code channels} data channels.
     *
     * @param channels data channels C (the autoregressive channel groups)
     * @param hidden hidden width H of the autoregressive network
     * @param gradientPasses differentiable passes k >= 1 of the training density pass
     * @param seed seed of the initial weights
     */
    public IafStep(int channels, int hidden, int gradientPasses, long seed) {
        super(VERSION);
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        if (hidden < 1) throw new IllegalArgumentException("hidden width must be >= 1, got " + hidden);
        if (gradientPasses < 1) {
            throw new IllegalArgumentException("gradient passes must be >= 1, got " + gradientPasses);
        }
        this.channels = channels;
        this.hidden = hidden;
        this.gradientPasses = gradientPasses;
        Random rng = new Random(seed);
        conv1 = addChildBlock("arA",
                new MaskedConv2d(channels, hidden, 3, channels, MaskedConv2d.Mask.A, false, rng.nextLong()));
        conv2 = addChildBlock("arB",
                new MaskedConv2d(hidden, hidden, 3, channels, MaskedConv2d.Mask.B, false, rng.nextLong()));
        conv3 = addChildBlock("arOut",
                new MaskedConv2d(hidden, 2 * channels, 3, channels, MaskedConv2d.Mask.B, true, rng.nextLong()));
    }

    /** Data channels C. */
    public int channels() {
        return channels;
    }

    /** Differentiable passes of the training density pass. */
    public int gradientPasses() {
        return gradientPasses;
    }

    /** Network passes used by the most recent density solve of this step (diagnostics and benchmarks). */
    public int lastSolvePasses() {
        return lastSolvePasses;
    }

    /** The masked weights of one pass, owned by a manager the caller closes. */
    private record ArWeights(MaskedConv2d.Weights w1, MaskedConv2d.Weights w2, MaskedConv2d.Weights w3) {}

    /** {@code m} and the pre-sigmoid {@code a = s + 2} of the autoregressive network. */
    private record Ar(NDArray m, NDArray a) {}

    private ArWeights weights(FlowContext ctx, NDArray like, NDManager manager, boolean detach) {
        return new ArWeights(
                conv1.weights(ctx, like, manager, detach),
                conv2.weights(ctx, like, manager, detach),
                conv3.weights(ctx, like, manager, detach));
    }

    private Ar ar(ArWeights w, NDArray u) {
        NDArray h1 = conv1.applyRelu(w.w1(), u);
        NDArray h = conv2.applyRelu(w.w2(), h1);
        h1.close();
        NDArray y = conv3.apply(w.w3(), h);
        h.close();
        NDArray out = Conv2dBlock.standardLayout(y);
        NDArray m = out.get(new NDIndex(":, 0:{}", channels));
        NDArray a = out.get(new NDIndex(":, {}:", channels)).add(SIGMA_SHIFT);
        return new Ar(m, a);
    }

    /** The largest absolute value of a (NaN when a holds one). */
    private static double maxAbs(NDArray a) {
        return a.abs().max().toType(DataType.FLOAT64, false).getDouble();
    }

    /** The unit of rounding of a floating-point type: 2^-23 for float32, 2^-52 for float64. */
    static double rounding(DataType type) {
        return switch (type) {
            case FLOAT64 -> Math.ulp(1.0);
            case FLOAT32 -> Math.ulp(1.0f);
            default -> throw new IllegalArgumentException("IAF steps compute in float32 or float64, got " + type);
        };
    }

    /** {@code σ = SIGMA_MIN + (1 - SIGMA_MIN) sigmoid(a)}, in [SIGMA_MIN, 1). */
    private static NDArray sigma(NDArray a) {
        return Activation.sigmoid(a).mul(1 - SIGMA_MIN).add(SIGMA_MIN);
    }

    private void checkInput(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != channels) {
            throw new IllegalArgumentException("IafStep expects [B, " + channels + ", H, W], got " + s);
        }
    }

    /**
     * Sampling direction: {@code y = σ ⊙ u + (1 - σ) ⊙ m}, {@code log|det dy/du| = Σ log σ}; one
     * parallel pass.
     */
    @Override
    public Step inverse(FlowContext ctx, NDArray input) {
        checkInput(input);
        NDArray u = Tensors.inScope(ctx, input);
        ArWeights w = weights(ctx, u, ctx.manager(), false);
        Ar r = ar(w, u);
        NDArray sigma = sigma(r.a());
        NDArray y = r.m().add(sigma.mul(u.sub(r.m())));
        NDArray map = sigma.log();
        NDArray logdet = map.sum(new int[] {1, 2, 3});
        return new Step(y, logdet, ctx.wantMap() ? map : null);
    }

    /** Density direction: the exact sequential solve of {@code u} from {@code y}; see the class description. */
    @Override
    public Step forward(FlowContext ctx, NDArray y) {
        Solve solve = solve(ctx, y);
        return solve.step();
    }

    /**
     * The density-direction result with the number of network passes the fixed-point solve used.
     *
     * @param step latent {@code u}, {@code log|det du/dy|} and (if asked) its map
     * @param passes network passes of the solve without gradient, between 1 and {@code D = C·H·W}
     * @param dimension {@code D}, the bound on the passes
     */
    public record Solve(Step step, int passes, long dimension) {}

    /**
     * Solves {@code u} from {@code y} exactly (see the class description) and reports the pass count.
     *
     * @throws ArithmeticException if the solution lies outside the working range
     *     {@code ±SOLVE_BOUND·(1 + max|y|)} (see {@link #SOLVE_BOUND}), or is not determined by
     *     {@code y} because the step's network gives values that are not finite ({@code σ} itself
     *     is at least {@link #SIGMA_MIN})
     */
    public Solve solve(FlowContext ctx, NDArray y) {
        checkInput(y);
        long d = y.getShape().size(1, 2, 3);
        NDManager outer = ctx.manager();
        NDArray u;
        NDArray logSigma;
        int passes = 0;
        try (NDManager scope = outer.newSubManager()) {
            ArWeights w = weights(ctx, y, scope, true);
            NDArray target = y.stopGradient();
            target.attach(scope);
            double inputMax = maxAbs(target);
            double bound = SOLVE_BOUND * (1 + inputMax);
            if (!(bound <= Float.MAX_VALUE)) {
                throw new ArithmeticException("IAF density solve failed: the step input reaches " + inputMax
                        + ", too large for a float working range of " + SOLVE_BOUND + " times it");
            }
            NDArray cur = target.duplicate();
            NDArray lastSigma = null;
            boolean undefined = false;
            double stopChange = ctx.training() ? TRAINING_STOP_ROUNDINGS * rounding(y.getDataType()) * (1 + inputMax) : 0;
            while (true) {
                try (NDManager iter = scope.newSubManager()) {
                    cur.attach(iter);
                    if (lastSigma != null) {
                        lastSigma.attach(iter);
                    }
                    Ar r = ar(w, cur);
                    NDArray sigma = sigma(r.a());
                    NDArray raw = r.m().add(target.sub(r.m()).div(sigma));
                    NDArray next = raw.clip(-bound, bound);
                    passes++;
                    double delta = maxAbs(next.sub(cur));
                    // the maximum is NaN when an element is (clip keeps NaN); only then are they set to 0
                    undefined = Double.isNaN(delta);
                    if (undefined) {
                        next = NDArrays.where(next.isNaN(), next.zerosLike(), next);
                        delta = maxAbs(next.sub(cur));
                    }
                    // a clipped element is not a solution even when it stops changing: go on
                    if (delta <= stopChange && maxAbs(raw) >= bound) {
                        delta = Double.NaN;
                    }
                    lastSigma = sigma;
                    next.attach(scope);
                    lastSigma.attach(scope);
                    cur = next;
                    if (delta <= stopChange || passes >= d) break;
                }
            }
            if (undefined) {
                throw new ArithmeticException("IAF density solve failed after " + passes + " passes: the step's"
                        + " network gives values that are not finite, so u is not determined by y");
            }
            double largest = maxAbs(cur);
            if (!(largest < bound)) {
                throw new ArithmeticException("IAF density solve failed: the solution reaches " + largest
                        + " after " + passes + " passes, beyond the working range ±" + bound
                        + ": sigma is so close to 0 that y no longer determines u in floating point");
            }
            // log σ is finite because σ >= SIGMA_MIN
            logSigma = lastSigma.log();
            logSigma.attach(outer);
            cur.attach(outer);
            u = cur;
        }
        lastSolvePasses = passes;
        if (ctx.training()) {
            NDArray target = Tensors.inScope(ctx, y);
            ArWeights w = weights(ctx, target, ctx.manager(), false);
            NDArray cur = u;
            NDArray sigma = null;
            for (int j = 0; j < gradientPasses; j++) {
                Ar r = ar(w, cur);
                sigma = sigma(r.a());
                cur = r.m().add(target.sub(r.m()).div(sigma));
            }
            u = cur;
            logSigma = sigma.log();
        }
        NDArray map = logSigma.neg();
        NDArray logdet = map.sum(new int[] {1, 2, 3});
        return new Solve(new Step(u, logdet, ctx.wantMap() ? map : null), passes, d);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        conv1.initialize(manager, dataType, s);
        Shape h = new Shape(s.get(0), hidden, s.get(2), s.get(3));
        conv2.initialize(manager, dataType, h);
        conv3.initialize(manager, dataType, h);
    }
}
