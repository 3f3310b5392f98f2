package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.flowfiji.data.Normalizer;

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

    /** Mirror index into [0, n): ... 2 1 0 1 2 ... n-2 n-1 n-2 ... */
    static int mirror(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        int k = Math.floorMod(i, period);
        return k < n ? k : period - k;
    }

    /**
     * Copies the region [y0, y0+h) x [x0, x0+w) of a plane (mirror-extended outside it) into
     * {@code dst} at sample {@code b} of a [*, C, h, w] buffer, as normalised values
     * {@code (v + dequant - offset) / scale}.
     */
    static void copyNormalized(float[] plane, int channels, int height, int width, int y0, int x0, int h, int w,
                               Normalizer n, double dequant, float[] dst, int b) {
        double off = n.offset() - dequant;
        double inv = 1.0 / n.scale();
        int base = b * channels * h * w;
        for (int c = 0; c < channels; c++) {
            int cb = c * height * width;
            for (int y = 0; y < h; y++) {
                int sy = mirror(y0 + y, height);
                int row = cb + sy * width;
                int d = base + (c * h + y) * w;
                int sx0 = x0;
                if (sx0 >= 0 && sx0 + w <= width) {
                    for (int x = 0; x < w; x++) dst[d + x] = (float) ((plane[row + sx0 + x] - off) * inv);
                } else {
                    for (int x = 0; x < w; x++) dst[d + x] = (float) ((plane[row + mirror(sx0 + x, width)] - off) * inv);
                }
            }
        }
    }

    static NDArray create(NDManager m, float[] data, int b, int c, int h, int w) {
        return m.create(data, new Shape(b, c, h, w));
    }
}
