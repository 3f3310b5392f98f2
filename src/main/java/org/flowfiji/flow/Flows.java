package org.flowfiji.flow;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds the image flows from their configuration; the single entry point for creating a flow.
 *
 * <p>Every size comes from {@link FlowConfig}; the seed fixes every initial parameter, so
 * {@code create(config, seed)} twice gives identical flows (which is how a saved model is rebuilt
 * before its parameters are loaded).
 *
 * <p><b>RealNVP</b> ({@link #realNvp}): for each of the first L-1 levels, {@code steps}
 * checkerboard couplings with alternating parity, a squeeze, {@code steps} channel couplings with
 * alternating parity, then a split; the last level has {@code steps + 1} checkerboard couplings.
 * Couplings use the tanh-bounded scale (or are additive) with a ResNet conditioner of width
 * {@code hidden} and {@code blocks} residual blocks; every coupling is followed by batch
 * normalisation ({@link BatchNormFlow}) or, with {@code actNorm}, by {@link ActNorm}. Images shrink
 * by 2^(L-1).
 *
 * <p><b>Glow</b> ({@link #glow}): L levels of [squeeze, {@code steps} x (ActNorm, invertible 1x1
 * convolution, channel-halves affine coupling with sigmoid scale or additive, Glow conditioner of
 * width {@code hidden})], a split after each level but the last. Images shrink by 2^L.
 *
 * <p>Priors: with {@code learnedPrior}, every split's factored-out half has a conditional Gaussian
 * prior (zero-initialised conv3x3 of the kept half) and the top latent a learned per-channel
 * Gaussian; otherwise all latents are standard normal.
 */
public final class Flows {

    private Flows() {}

    /** The flow for a configuration, its initial parameters fixed by {@code seed}. */
    public static ImageFlow create(FlowConfig config, long seed) {
        return switch (config.architecture()) {
            case REALNVP -> realNvp(config, seed);
            case GLOW -> glow(config, seed);
            case IAF -> new IafFlow(config, seed);
        };
    }

    /** A RealNVP flow (see the class description). */
    public static MultiScaleFlow realNvp(FlowConfig config, long seed) {
        Random rng = new Random(seed);
        AffineCoupling.Scale scale =
                config.additiveCoupling() ? AffineCoupling.Scale.ADDITIVE : AffineCoupling.Scale.TANH;
        List<List<FlowBlock>> levels = new ArrayList<>();
        List<GaussianPrior> splits = new ArrayList<>();
        int c = config.channels();
        for (int l = 0; l < config.levels(); l++) {
            List<FlowBlock> level = new ArrayList<>();
            boolean last = l == config.levels() - 1;
            int checkerboard = last ? config.steps() + 1 : config.steps();
            for (int k = 0; k < checkerboard; k++) {
                level.add(new AffineCoupling(c, AffineCoupling.Mask.CHECKERBOARD, k % 2 == 1, scale,
                        AffineCoupling.Net.RESNET, config.hidden(), config.blocks(), rng.nextLong()));
                level.add(normalisation(config, c));
            }
            if (!last) {
                level.add(new Squeeze());
                c *= 4;
                for (int k = 0; k < config.steps(); k++) {
                    level.add(new AffineCoupling(c, AffineCoupling.Mask.CHANNEL, k % 2 == 1, scale,
                            AffineCoupling.Net.RESNET, config.hidden(), config.blocks(), rng.nextLong()));
                    level.add(normalisation(config, c));
                }
                int kept = MultiScaleFlow.keptChannels(c);
                splits.add(splitPrior(config, kept, c - kept, rng.nextLong()));
                c = kept;
            }
            levels.add(level);
        }
        return new MultiScaleFlow(config, levels, splits, topPrior(config, c));
    }

    /** A Glow flow (see the class description). */
    public static MultiScaleFlow glow(FlowConfig config, long seed) {
        Random rng = new Random(seed);
        AffineCoupling.Scale scale =
                config.additiveCoupling() ? AffineCoupling.Scale.ADDITIVE : AffineCoupling.Scale.SIGMOID;
        List<List<FlowBlock>> levels = new ArrayList<>();
        List<GaussianPrior> splits = new ArrayList<>();
        int c = config.channels();
        for (int l = 0; l < config.levels(); l++) {
            List<FlowBlock> level = new ArrayList<>();
            level.add(new Squeeze());
            c *= 4;
            for (int k = 0; k < config.steps(); k++) {
                level.add(new ActNorm(c));
                level.add(new InvertibleConv1x1(c, rng.nextLong()));
                level.add(new AffineCoupling(c, AffineCoupling.Mask.CHANNEL, false, scale, AffineCoupling.Net.GLOW,
                        config.hidden(), 1, rng.nextLong()));
            }
            levels.add(level);
            if (l < config.levels() - 1) {
                int kept = MultiScaleFlow.keptChannels(c);
                splits.add(splitPrior(config, kept, c - kept, rng.nextLong()));
                c = kept;
            }
        }
        return new MultiScaleFlow(config, levels, splits, topPrior(config, c));
    }

    private static FlowBlock normalisation(FlowConfig config, int channels) {
        return config.actNorm() ? new ActNorm(channels) : new BatchNormFlow(channels);
    }

    private static GaussianPrior splitPrior(FlowConfig config, int kept, int out, long seed) {
        return config.learnedPrior() ? GaussianPrior.conditional(kept, out, seed) : GaussianPrior.standard();
    }

    private static GaussianPrior topPrior(FlowConfig config, int channels) {
        return config.learnedPrior() ? GaussianPrior.learned(channels) : GaussianPrior.standard();
    }
}
