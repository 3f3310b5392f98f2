package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * A diagonal Gaussian density for latents z [B, C, H, W]: standard normal, learned per channel,
 * or conditioned on another tensor through a convolution.
 *
 * <p>{@code log p(z) = Σ -½·log(2π) - log σ - ½·((z - μ)/σ)²} per element, where
 * <ul>
 *   <li>{@link #standard()}: μ = 0, σ = 1;</li>
 *   <li>{@link #learned(int)}: μ, log σ parameters of shape [1, C, 1, 1], zero-initialised
 *       (per channel, so the prior applies to any image size);</li>
 *   <li>{@link #conditional(int, int, long)}: [μ, log σ] = conv3x3(h), a zero-initialised
 *       convolution of the conditioning tensor h [B, Ch, H, W] (the half of the activations that
 *       a split keeps).</li>
 * </ul>
 * Sampling at temperature T draws {@code z = μ + T·σ·ε}, ε ~ N(0, 1).
 */
public final class GaussianPrior extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private enum Kind { STANDARD, LEARNED, CONDITIONAL }

    private final Kind kind;
    private final int channels;
    private final Parameter mean;
    private final Parameter logStd;
    private final Conv2dBlock conv;

    private GaussianPrior(Kind kind, int channels, int condChannels, long seed) {
        super(VERSION);
        this.kind = kind;
        this.channels = channels;
        if (kind == Kind.LEARNED) {
            Shape s = new Shape(1, channels, 1, 1);
            mean = addParameter(Parameter.builder().setName("mean").setType(Parameter.Type.BIAS)
                    .optShape(s).optInitializer(Initializer.ZEROS).build());
            logStd = addParameter(Parameter.builder().setName("logStd").setType(Parameter.Type.WEIGHT)
                    .optShape(s).optInitializer(Initializer.ZEROS).build());
        } else {
            mean = null;
            logStd = null;
        }
        conv = kind == Kind.CONDITIONAL
                ? addChildBlock("conv", new Conv2dBlock(condChannels, 2 * channels, 3, true, seed))
                : null;
    }

    /** N(0, 1) for every element; no parameters. */
    public static GaussianPrior standard() {
        return new GaussianPrior(Kind.STANDARD, 0, 0, 0);
    }

    /** A learned per-channel Gaussian over {@code channels} channels, starting at N(0, 1). */
    public static GaussianPrior learned(int channels) {
        requirePositive(channels);
        return new GaussianPrior(Kind.LEARNED, channels, 0, 0);
    }

    /**
     * A Gaussian over {@code channels} channels whose mean and log-std come from a zero-initialised
     * 3x3 convolution of a conditioning tensor with {@code condChannels} channels.
     */
    public static GaussianPrior conditional(int condChannels, int channels, long seed) {
        requirePositive(channels);
        requirePositive(condChannels);
        return new GaussianPrior(Kind.CONDITIONAL, channels, condChannels, seed);
    }

    /** True for the parameter-free standard normal. */
    public boolean isStandard() {
        return kind == Kind.STANDARD;
    }

    /**
     * Per-element log-density of z [B, C, H, W] (same shape), given the conditioning tensor
     * (ignored unless conditional).
     */
    public NDArray logDensity(FlowContext ctx, NDArray z, NDArray cond) {
        NDArray[] ms = meanLogStd(ctx, z, cond);
        if (ms == null) {
            return z.square().mul(-0.5).sub(HALF_LOG_2PI);
        }
        NDArray u = z.sub(ms[0]).mul(ms[1].neg().exp());
        return u.square().mul(-0.5).sub(ms[1]).sub(HALF_LOG_2PI);
    }

    /**
     * The draw z = mean + exp(logStd) T eps for given standard normal values {@code eps} [B, C, H, W]
     * (moved to the conditioning tensor's device and data type when there is one).
     */
    public NDArray fromNoise(FlowContext ctx, NDArray eps, NDArray cond, float temperature) {
        if (cond != null) {
            eps = eps.toDevice(cond.getDevice(), false).toType(cond.getDataType(), false);
        }
        NDArray[] ms = meanLogStd(ctx, eps, cond);
        if (ms == null) {
            return eps.mul(temperature);
        }
        return eps.mul(ms[1].exp()).mul(temperature).add(ms[0]);
    }

    private NDArray[] meanLogStd(FlowContext ctx, NDArray like, NDArray cond) {
        switch (kind) {
            case LEARNED:
                Tensors.requireChannels("Prior", like, channels);
                return new NDArray[] {Tensors.value(ctx, mean, like), Tensors.value(ctx, logStd, like)};
            case CONDITIONAL:
                Tensors.requireChannels("Prior", like, channels);
                if (cond == null) {
                    throw new IllegalArgumentException("A conditional prior needs its conditioning tensor");
                }
                NDList parts = conv.apply(ctx, cond).split(2, 1);
                return new NDArray[] {parts.get(0), parts.get(1)};
            default:
                return null;
        }
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray z = inputs.head();
        NDArray cond = inputs.size() > 1 ? inputs.get(1) : null;
        FlowContext ctx = new FlowContext(parameterStore, z.getManager(), training, false);
        return new NDList(logDensity(ctx, z, cond));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, inputShapes);
        }
    }

    private static void requirePositive(int channels) {
        if (channels < 1) {
            throw new IllegalArgumentException("A prior needs at least one channel, got " + channels);
        }
    }
}
