package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.flowfiji.data.Indices;
import org.flowfiji.data.Normalizer;
import org.flowfiji.data.PlaneSource;

/**
 * Moves rectangles of raw planes into normalised NCHW tensors and back, on plain float arrays.
 *
 * <p>A plane is C x H x W raw values in channel-major order (see {@code ImageData}); the region
 * copied is mirror-extended beyond the plane when a padded size is asked for, so that images whose
 * sides are not multiples of 2^levels can be modelled (see {@link Mapper} for how padding enters
 * the numbers).
 */
final class PlaneTensors {
    private PlaneTensors() {}

    /**
     * Copies the region [y0, y0+h) x [x0, x0+w) of a plane (mirror-extended outside it) into
     * {@code dst} at sample {@code b} of a [*, C, h, w] buffer, as normalised values
     * {@code (v + dequant - offset) / scale}.
     */
    static void copyNormalized(PlaneSource src, int y0, int x0, int h, int w, Normalizer n, double dequant,
                               float[] dst, int b) {
        int channels = src.channels();
        int height = src.height();
        int width = src.width();
        double off = n.offset() - dequant;
        double inv = 1.0 / n.scale();
        int base = b * channels * h * w;
        int inX0 = Math.max(0, x0);
        int inX1 = Math.min(width, x0 + w);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                int sy = Indices.mirror(y0 + y, height);
                int d = base + (c * h + y) * w;
                if (inX1 > inX0) src.readRow(c, sy, inX0, inX1 - inX0, dst, d + (inX0 - x0));
                for (int x = 0; x < w; x++) {
                    int sx = x0 + x;
                    if (sx < 0 || sx >= width) src.readRow(c, sy, Indices.mirror(sx, width), 1, dst, d + x);
                }
                for (int x = 0; x < w; x++) dst[d + x] = (float) ((dst[d + x] - off) * inv);
            }
        }
    }

    /** Largest input staged through the reusable buffer; bigger inputs allocate their own. */
    static final int STAGING_MAX_BYTES = 64 << 20;
    private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

    /**
     * A [b, c, h, w] float32 tensor in {@code m} with the first b·c·h·w values of {@code data}.
     *
     * <p>The values pass through a per-thread direct buffer that is reused, instead of a fresh
     * direct buffer per call: those are freed only when the garbage collector runs, so over
     * thousands of tiles they would make native memory climb. The engine's tensor on that buffer
     * shares its memory, so the result is a copy of it in the engine's own memory.
     */
    static NDArray create(NDManager m, float[] data, int b, int c, int h, int w) {
        return create(m, data, 0, b, c, h, w);
    }

    /** A [b, c, h, w] float32 tensor in {@code m} with the b·c·h·w values of {@code data} from {@code offset}. */
    static NDArray create(NDManager m, float[] data, int offset, int b, int c, int h, int w) {
        Shape shape = new Shape(b, c, h, w);
        int n = Math.toIntExact(shape.size());
        long bytes = 4L * n;
        if (bytes > STAGING_MAX_BYTES) {
            return m.create(java.nio.FloatBuffer.wrap(data, offset, n).slice(), shape);
        }
        ByteBuffer staging = STAGING.get();
        if (staging == null || staging.capacity() < bytes) {
            staging = ByteBuffer.allocateDirect((int) Math.max(bytes, 1 << 20)).order(ByteOrder.nativeOrder());
            STAGING.set(staging);
        }
        staging.clear();
        staging.asFloatBuffer().put(data, offset, n);
        staging.limit((int) bytes);
        try (NDArray alias = m.create(staging, shape, DataType.FLOAT32)) {
            NDArray copy = alias.duplicate();
            copy.attach(m);
            return copy;
        }
    }
}
