package org.flowfiji.flow;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Activation normalisation (Glow): a per-channel affine map with data-dependent initialisation.
 *
 * <p>Forward: {@code z = (x + b) · exp(logs)} per channel, with {@code b, logs} of shape
 * [1, C, 1, 1]; {@code log|det dz/dx| = H·W·Σ_c logs_c}, map entry {@code logs_c} at every element
 * of channel c. Inverse: {@code x = z · exp(-logs) - b}. Shapes: [B, C, H, W] in and out.
 *
 * <p>Initialisation: the first forward pass with {@link FlowContext#training()} set, before the
 * layer has been initialised, sets {@code b = -mean(x)} and {@code logs = -log(std(x) + 1e-6)} per
 * channel over batch and space, so that this batch leaves the layer with zero mean and unit
 * variance. The initialised flag is saved with the parameters.
 */
public final class ActNorm extends FlowBlock implements DataInitialized {

    private static final byte VERSION = 1;
    private static final double STD_EPS = 1e-6;

    private final int channels;
    private final Parameter bias;
    private final Parameter logScale;
    private boolean dataInitialized;

    /** @param channels C, the number of channels of the input */
    public ActNorm(int channels) {
        super(VERSION);
        if (channels < 1) {
            throw new IllegalArgumentException("ActNorm needs at least one channel, got " + channels);
        }
        this.channels = channels;
        Shape shape = new Shape(1, channels, 1, 1);
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(shape).optInitializer(Initializer.ZEROS).build());
        logScale = addParameter(Parameter.builder().setName("logScale").setType(Parameter.Type.WEIGHT)
                .optShape(shape).optInitializer(Initializer.ZEROS).build());
    }

    @Override
    public boolean isDataInitialized() {
        return dataInitialized;
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        Tensors.requireChannels("ActNorm", x, channels);
        if (!dataInitialized && ctx.training()) {
            initializeFrom(ctx, x);
        }
        NDArray b = Tensors.operand(ctx, bias, x);
        NDArray logs = Tensors.value(ctx, logScale, x);
        NDArray z = x.add(b).mul(logs.exp());
        return Tensors.perChannelStep(ctx, z, logs);
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        Tensors.requireChannels("ActNorm", z, channels);
        NDArray b = Tensors.value(ctx, bias, z);
        NDArray logs = Tensors.value(ctx, logScale, z);
        NDArray x = z.mul(logs.neg().exp()).sub(b);
        return Tensors.perChannelStep(ctx, x, logs.neg());
    }

    private void initializeFrom(FlowContext ctx, NDArray x) {
        NDArray perChannel = Tensors.channelsFirst(x.stopGradient());
        NDArray mean = perChannel.mean(new int[] {1}, true);
        NDArray std = perChannel.sub(mean).square().mean(new int[] {1}).sqrt();
        double[] m = Tensors.doubles(mean);
        double[] s = Tensors.doubles(std);
        double[] b = new double[channels];
        double[] logs = new double[channels];
        for (int c = 0; c < channels; c++) {
            b[c] = -m[c];
            logs[c] = -Math.log(s[c] + STD_EPS);
        }
        Tensors.overwrite(ctx, bias, x, b);
        Tensors.overwrite(ctx, logScale, x, logs);
        dataInitialized = true;
    }

    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        saveInputShapes(os);
        os.writeBoolean(dataInitialized);
    }

    @Override
    protected void loadMetadata(byte loadVersion, DataInputStream is) throws IOException, MalformedModelException {
        loadBaseMetadata(loadVersion, is);
        dataInitialized = is.readBoolean();
    }
}
