package org.flowfiji.flow;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The inverse autoregressive flow architecture (Kingma et al. 2016) for images: a
 * {@link MultiScaleFlow} whose steps are {@link IafStep}s.
 *
 * <p><b>Structure.</b> L = {@code config.levels()} levels; level l is, in the density direction,
 * [{@link Squeeze}, K x ({@link ActNorm}, {@link IafStep}, {@link IafReverse})] with
 * K = {@code config.steps()} and autoregressive networks of width {@code config.hidden()}; after
 * every level but the last, half of the channels (⌊c/2⌋ kept) is factored out. Priors are standard
 * normal, or with {@code config.learnedPrior()} conditional Gaussians at the splits and a learned
 * per-channel Gaussian on top (as in {@link Flows#glow}). Images [B, C, H, W] need H and W
 * multiples of 2^L; the top latent is [B, C·2^(L+1), H/2^L, W/2^L].
 *
 * <p><b>Cost.</b> Sampling ({@link #sample}) runs every step in its parallel direction: one
 * network pass per step, differentiable, which is what distillation ({@link Distillation}) trains.
 * The density ({@link #forward}) solves every step sequentially by fixed-point iteration (see
 * {@link IafStep}): exact, between 1 and {@code D} network passes per step for a step input of
 * {@code D} elements; {@link #lastDensityPasses()} reports what the last density pass used.
 *
 * <p>{@code log p(x)}, maps and latents are those of {@link MultiScaleFlow}: every term of every
 * level is spread back over the pixels it covers, so the pixel map sums to {@code log p(x)}.
 */
public final class IafFlow extends MultiScaleFlow {

    private final List<IafStep> steps;

    /** An IAF with the default differentiable passes of {@link IafStep#DEFAULT_GRADIENT_PASSES}. */
    public IafFlow(FlowConfig config, long seed) {
        this(config, seed, IafStep.DEFAULT_GRADIENT_PASSES);
    }

    /**
     * An IAF for a configuration, its initial parameters fixed by {@code seed}.
     *
     * @param config sizes (architecture must be {@link Architecture#IAF})
     * @param seed seed of every initial parameter
     * @param gradientPasses differentiable passes of every step's training density pass
     */
    public IafFlow(FlowConfig config, long seed, int gradientPasses) {
        this(config, Parts.build(config, seed, gradientPasses));
    }

    private IafFlow(FlowConfig config, Parts parts) {
        super(config, parts.levels(), parts.splits(), parts.top());
        this.steps = Collections.unmodifiableList(parts.steps());
    }

    /** The autoregressive steps in density order (level by level). */
    public List<IafStep> iafSteps() {
        return steps;
    }

    /** Network passes the most recent density pass used, summed over all steps (diagnostics and benchmarks). */
    public int lastDensityPasses() {
        int sum = 0;
        for (IafStep s : steps) {
            sum += s.lastSolvePasses();
        }
        return sum;
    }

    private record Parts(
            List<List<FlowBlock>> levels, List<GaussianPrior> splits, GaussianPrior top, List<IafStep> steps) {

        static Parts build(FlowConfig config, long seed, int gradientPasses) {
            if (config.architecture() != Architecture.IAF) {
                throw new IllegalArgumentException(
                        "IafFlow builds IAF configurations, got " + config.architecture().label());
            }
            Random rng = new Random(seed);
            List<List<FlowBlock>> levels = new ArrayList<>();
            List<GaussianPrior> splits = new ArrayList<>();
            List<IafStep> steps = new ArrayList<>();
            int c = config.channels();
            for (int l = 0; l < config.levels(); l++) {
                List<FlowBlock> level = new ArrayList<>();
                level.add(new Squeeze());
                c *= 4;
                for (int k = 0; k < config.steps(); k++) {
                    IafStep step = new IafStep(c, config.hidden(), gradientPasses, rng.nextLong());
                    level.add(new ActNorm(c));
                    level.add(step);
                    level.add(new IafReverse());
                    steps.add(step);
                }
                levels.add(level);
                if (l < config.levels() - 1) {
                    int kept = MultiScaleFlow.keptChannels(c);
                    splits.add(config.learnedPrior()
                            ? GaussianPrior.conditional(kept, c - kept, rng.nextLong())
                            : GaussianPrior.standard());
                    c = kept;
                }
            }
            GaussianPrior top = config.learnedPrior() ? GaussianPrior.learned(c) : GaussianPrior.standard();
            return new Parts(levels, splits, top, steps);
        }
    }
}
