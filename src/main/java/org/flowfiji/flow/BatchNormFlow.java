package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;

/**
 * Batch normalisation as an invertible flow layer (RealNVP).
 *
 * <p>Forward: {@code z = (x - μ) / sqrt(v + ε) · exp(logγ) + β} per channel, with learned
 * logγ, β [1, C, 1, 1] (γ = exp(logγ) is positive, so the layer is always invertible);
 * {@code log|det dz/dx| = H·W·Σ_c (logγ_c - ½·log(v_c + ε))}, the map holding that per-channel
 * term at every element. Inverse: {@code x = (z - β) · exp(-logγ) · sqrt(v + ε) + μ}.
 *
 * <p>Statistics: a forward pass with {@link FlowContext#training()} uses the batch's per-channel mean
 * and (biased) variance (treated as constants in the log-det, as in RealNVP) and updates the running
 * averages {@code μ_run ← (1-m)·μ_run + m·μ} (likewise the variance), momentum m, unless the
 * context says otherwise ({@link FlowContext#updateStatistics()}: a batch split across training
 * threads normalises each part by its own statistics and updates the averages from the first part
 * only). Evaluation
 * passes and every inverse pass use the running statistics, so evaluation is an exact bijection.
 * The running statistics are non-trainable parameters [C] saved with the others.
 */
public final class BatchNormFlow extends FlowBlock {

    private static final byte VERSION = 1;

    private final int channels;
    private final double momentum;
    private final double eps;
    private final Parameter logGamma;
    private final Parameter beta;
    private final Parameter runningMean;
    private final Parameter runningVar;

    /** Batch normalisation over {@code channels} channels with momentum 0.05 and ε = 1e-4. */
    public BatchNormFlow(int channels) {
        this(channels, 0.05, 1e-4);
    }

    /**
     * @param channels C
     * @param momentum weight of the current batch in the running averages, in (0, 1]
     * @param eps variance offset ε &gt; 0
     */
    public BatchNormFlow(int channels, double momentum, double eps) {
        super(VERSION);
        if (channels < 1) {
            throw new IllegalArgumentException("Batch normalisation needs at least one channel, got " + channels);
        }
        if (!(momentum > 0 && momentum <= 1) || !(eps > 0)) {
            throw new IllegalArgumentException(
                    "Batch normalisation needs momentum in (0, 1] and eps > 0, got " + momentum + ", " + eps);
        }
        this.channels = channels;
        this.momentum = momentum;
        this.eps = eps;
        Shape s = new Shape(1, channels, 1, 1);
        logGamma = addParameter(Parameter.builder().setName("logGamma").setType(Parameter.Type.WEIGHT)
                .optShape(s).optInitializer(Initializer.ZEROS).build());
        beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA)
                .optShape(s).optInitializer(Initializer.ZEROS).build());
        runningMean = addParameter(Parameter.builder().setName("runningMean").setType(Parameter.Type.RUNNING_MEAN)
                .optShape(new Shape(channels)).optInitializer(Initializer.ZEROS).optRequiresGrad(false).build());
        runningVar = addParameter(Parameter.builder().setName("runningVar").setType(Parameter.Type.RUNNING_VAR)
                .optShape(new Shape(channels)).optInitializer(Initializer.ONES).optRequiresGrad(false).build());
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        Tensors.requireChannels("BatchNormFlow", x, channels);
        NDArray mean;
        NDArray var;
        if (ctx.training()) {
            NDArray perChannel = Tensors.channelsFirst(x);
            NDArray m = perChannel.mean(new int[] {1}, true);
            var = perChannel.sub(m).square().mean(new int[] {1}).reshape(1, channels, 1, 1);
            mean = m.reshape(1, channels, 1, 1);
            if (ctx.updateStatistics()) updateRunning(ctx, x, mean, var);
        } else {
            mean = Tensors.value(ctx, runningMean, x).reshape(1, channels, 1, 1);
            var = Tensors.value(ctx, runningVar, x).reshape(1, channels, 1, 1);
        }
        NDArray logStd = var.add(eps).log().mul(0.5);
        NDArray lg = Tensors.value(ctx, logGamma, x);
        NDArray logScale = lg.sub(logStd);
        NDArray z = x.sub(mean).mul(logScale.exp()).add(Tensors.value(ctx, beta, x));
        return Tensors.perChannelStep(ctx, z, logScale);
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        Tensors.requireChannels("BatchNormFlow", z, channels);
        NDArray mean = Tensors.value(ctx, runningMean, z).reshape(1, channels, 1, 1);
        NDArray var = Tensors.value(ctx, runningVar, z).reshape(1, channels, 1, 1);
        NDArray logScale = Tensors.value(ctx, logGamma, z).sub(var.add(eps).log().mul(0.5));
        NDArray x = z.sub(Tensors.value(ctx, beta, z)).mul(logScale.neg().exp()).add(mean);
        return Tensors.perChannelStep(ctx, x, logScale.neg());
    }

    private void updateRunning(FlowContext ctx, NDArray x, NDArray mean, NDArray var) {
        double[] m = Tensors.doubles(mean.stopGradient());
        double[] v = Tensors.doubles(var.stopGradient());
        double[] oldM = Tensors.doubles(runningMean.getArray());
        double[] oldV = Tensors.doubles(runningVar.getArray());
        for (int c = 0; c < channels; c++) {
            oldM[c] = (1 - momentum) * oldM[c] + momentum * m[c];
            oldV[c] = (1 - momentum) * oldV[c] + momentum * v[c];
        }
        Tensors.overwrite(ctx, runningMean, x, oldM);
        Tensors.overwrite(ctx, runningVar, x, oldV);
    }
}
