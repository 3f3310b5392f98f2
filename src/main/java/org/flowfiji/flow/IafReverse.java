package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * Reverses the autoregressive element order between two {@link IafStep}s by flipping the
 * channel, row and column axes.
 *
 * <p><b>Math.</b> {@code z[c, i, j] = x[C-1-c, H-1-i, W-1-j]}; in the raster-then-channel order
 * of {@link MaskedConv2d} (with one group per channel) element position {@code p} goes to
 * {@code D-1-p}, so the next step conditions every element on the ones the previous step saw last.
 * It is its own inverse; a permutation, so {@code log|det| = 0} and the map is zero.
 *
 * <p><b>Shapes.</b> input and output {@code [B, C, H, W]}; log-determinant {@code [B]}.
 */
public final class IafReverse extends FlowBlock {

    private static final byte VERSION = 1;

    /** A parameter-free order reversal. */
    public IafReverse() {
        super(VERSION);
    }

    private static Step flip(FlowContext ctx, NDArray x) {
        if (x.getShape().dimension() != 4) {
            throw new IllegalArgumentException("IafReverse expects [B, C, H, W], got " + x.getShape());
        }
        return Tensors.volumePreserving(ctx, Tensors.inScope(ctx, x).flip(1, 2, 3));
    }

    /** {@code z = flip(x)}, log-determinant 0. */
    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        return flip(ctx, x);
    }

    /** {@code x = flip(z)}, log-determinant 0. */
    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        return flip(ctx, z);
    }
}
