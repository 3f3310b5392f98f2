package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * Reverses the channel order, {@code z[:, c] = x[:, C-1-c]}: a fixed permutation (log-det 0),
 * its own inverse. Shapes: [B, C, H, W] in and out.
 */
public final class ReverseChannels extends FlowBlock {

    private static final byte VERSION = 1;

    /** A channel reversal; it has no parameters. */
    public ReverseChannels() {
        super(VERSION);
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        return Tensors.volumePreserving(ctx, x.flip(1));
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        return Tensors.volumePreserving(ctx, z.flip(1));
    }
}
