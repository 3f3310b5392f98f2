package org.flowfiji.flow;

/**
 * The complete, immutable description of a flow's structure: enough to rebuild it exactly.
 *
 * @param architecture which flow
 * @param channels image channels C of the data the flow models
 * @param levels number of scales L; patch sizes must be multiples of 2^L
 * @param steps flow steps K per level (RealNVP: couplings per half-scale, default 3)
 * @param hidden hidden width of the coupling / autoregressive networks
 * @param blocks residual blocks in RealNVP's s/t networks (ignored by the other architectures)
 * @param additiveCoupling Glow: additive instead of affine coupling
 * @param learnedPrior Glow: learned Gaussian priors at the splits and on top (otherwise standard normal)
 * @param actNorm RealNVP: ActNorm instead of batch normalisation between couplings
 */
public record FlowConfig(
        Architecture architecture,
        int channels,
        int levels,
        int steps,
        int hidden,
        int blocks,
        boolean additiveCoupling,
        boolean learnedPrior,
        boolean actNorm) {

    public FlowConfig {
        if (architecture == null) throw new IllegalArgumentException("architecture is required");
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        if (levels < 1 || levels > 6) throw new IllegalArgumentException("levels must be 1..6, got " + levels);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (hidden < 1) throw new IllegalArgumentException("hidden channels must be >= 1, got " + hidden);
        if (blocks < 1) throw new IllegalArgumentException("blocks must be >= 1, got " + blocks);
    }

    /** Laptop-CPU defaults for an architecture and channel count. */
    public static FlowConfig defaults(Architecture arch, int channels) {
        return switch (arch) {
            case REALNVP -> new FlowConfig(arch, channels, 2, 3, 32, 2, false, false, false);
            case GLOW -> new FlowConfig(arch, channels, 2, 8, 64, 1, false, true, true);
            case IAF -> new FlowConfig(arch, channels, 2, 4, 32, 1, false, false, true);
        };
    }

    public FlowConfig withLevels(int l) {
        return new FlowConfig(architecture, channels, l, steps, hidden, blocks, additiveCoupling, learnedPrior, actNorm);
    }

    public FlowConfig withSteps(int k) {
        return new FlowConfig(architecture, channels, levels, k, hidden, blocks, additiveCoupling, learnedPrior, actNorm);
    }

    public FlowConfig withHidden(int h) {
        return new FlowConfig(architecture, channels, levels, steps, h, blocks, additiveCoupling, learnedPrior, actNorm);
    }

    /** The side length every image size must be a multiple of: 2^levels. */
    public int sizeMultiple() {
        return 1 << levels;
    }
}
