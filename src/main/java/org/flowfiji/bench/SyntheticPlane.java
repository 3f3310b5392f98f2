package org.flowfiji.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.flowfiji.data.ImageData;

/**
 * Fast synthetic 16-bit fluorescence-like images of any size for benchmarks: a flat background,
 * round Gaussian blobs (about one per 4000 pixels, radius 4 to 12) and shot-like noise of standard
 * deviation {@code sqrt(v)}, floored and clipped to [0, 65535].
 *
 * <p>Unlike the sample-image generator this one does no blurring over the whole plane, so an
 * 8192 x 8192 plane takes about a second; the content only needs to look plausible to an untrained
 * model, since benchmarks measure throughput, not likelihood.
 */
public final class SyntheticPlane {

    private SyntheticPlane() {}

    /** One plane of {@code width x height} raw 16-bit values (row-major), made from {@code seed}. */
    public static float[] plane(int width, int height, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = Math.multiplyExact(width, height);
        float[] v = new float[n];
        java.util.Arrays.fill(v, 400f);
        long blobs = Math.max(4, (long) n / 4000);
        for (long b = 0; b < blobs; b++) {
            double cy = rng.nextDouble() * height;
            double cx = rng.nextDouble() * width;
            double r = 4 + rng.nextDouble() * 8;
            double amp = 1500 + rng.nextDouble() * 3000;
            int y0 = (int) Math.max(0, cy - 3 * r);
            int y1 = (int) Math.min(height, cy + 3 * r + 1);
            int x0 = (int) Math.max(0, cx - 3 * r);
            int x1 = (int) Math.min(width, cx + 3 * r + 1);
            double k = -1 / (2 * r * r);
            for (int y = y0; y < y1; y++) {
                double dy2 = (y - cy) * (y - cy);
                int row = y * width;
                for (int x = x0; x < x1; x++) {
                    v[row + x] += (float) (amp * Math.exp(k * (dy2 + (x - cx) * (x - cx))));
                }
            }
        }
        for (int i = 0; i < n; i++) {
            double noisy = v[i] + Math.sqrt(v[i]) * gaussian(rng);
            v[i] = (float) Math.max(0, Math.min(65535, Math.floor(noisy)));
        }
        return v;
    }

    /** A single-channel 16-bit image of {@code planes} planes made with seeds {@code seed, seed + 1, ...}. */
    public static ImageData image(String name, int width, int height, int planes, long seed) {
        List<float[]> list = new ArrayList<>(planes);
        for (int p = 0; p < planes; p++) {
            list.add(plane(width, height, seed + p));
        }
        return new ImageData(name, width, height, 1, 16, list, ImageData.Calibration.NONE);
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        double w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }
}
