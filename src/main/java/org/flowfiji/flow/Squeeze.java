package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Space-to-depth: every 2x2 pixel block becomes four channels; volume preserving (log-det 0).
 *
 * <p>Forward: [B, C, H, W] to [B, 4C, H/2, W/2] with
 * {@code z[b, 4c + 2i + j, y, x] = x[b, c, 2y + i, 2x + j]} for {@code i, j ∈ {0, 1}};
 * inverse: the exact rearrangement back. H and W must be even.
 */
public final class Squeeze extends FlowBlock {

    private static final byte VERSION = 1;

    /** A squeeze; it has no parameters. */
    public Squeeze() {
        super(VERSION);
    }

    @Override
    public Shape outputShape(Shape in) {
        requireEven(in);
        return new Shape(in.get(0), in.get(1) * 4, in.get(2) / 2, in.get(3) / 2);
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        Shape s = x.getShape();
        requireEven(s);
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2) / 2;
        long w = s.get(3) / 2;
        NDArray z = x.reshape(b, c, h, 2, w, 2).transpose(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h, w);
        return Tensors.volumePreserving(ctx, z);
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        Shape s = z.getShape();
        if (s.dimension() != 4 || s.get(1) % 4 != 0) {
            throw new IllegalArgumentException(
                    "Squeeze inverse expects NCHW input with a multiple of 4 channels, got " + s);
        }
        long b = s.get(0);
        long c = s.get(1) / 4;
        long h = s.get(2);
        long w = s.get(3);
        NDArray x = z.reshape(b, c, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, c, h * 2, w * 2);
        return Tensors.volumePreserving(ctx, x);
    }

    private static void requireEven(Shape s) {
        if (s.dimension() != 4 || s.get(2) % 2 != 0 || s.get(3) % 2 != 0) {
            throw new IllegalArgumentException("Squeeze expects NCHW input with even height and width, got " + s);
        }
    }
}
