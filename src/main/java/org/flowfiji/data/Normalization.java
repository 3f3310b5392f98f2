package org.flowfiji.data;

import java.util.Arrays;

/**
 * Fits the {@link Normalizer} of a model to its training data from robust percentiles.
 *
 * <p>With {@code lo} and {@code hi} the low and high percentiles of the training values (by
 * default 0.1 % and 99.9 %, over every channel of the chosen planes, inside the mask):
 * <ul>
 *   <li>integer data (8/16-bit), whose dequantized values {@code v + u} lie in
 *       {@code [lo, hi + 1)}: {@code offset = (lo + hi + 1) / 2}, {@code scale = hi + 1 - lo}.
 *       8-bit data whose percentiles are 0 and 255 get exactly offset 128 and scale 256, the
 *       usual Glow setting, so bits/dim are comparable with the literature; use
 *       {@link #fullRange(int)} to force that setting whatever the data.</li>
 *   <li>float data (32-bit): {@code offset = (lo + hi) / 2}, {@code scale = hi - lo}
 *       (1 when the data are constant).</li>
 * </ul>
 * Values between the percentiles then map into about [-0.5, 0.5]; the rarer values outside them
 * map a little beyond, which the flow handles like any other value.
 *
 * <p>Percentiles use the nearest rank: with n values sorted ascending, the p-th percentile is the
 * value of rank {@code floor(p / 100 * (n - 1))} for the low one and {@code ceil(...)} for the high
 * one. Integer data are counted in an exact histogram; float data are sampled at an even stride
 * when there are more than {@value #MAX_FLOAT_SAMPLES} values.
 */
public final class Normalization {

    /** Default low percentile, in percent. */
    public static final double LOW_PERCENT = 0.1;
    /** Default high percentile, in percent. */
    public static final double HIGH_PERCENT = 99.9;
    /** Most float values sorted to find percentiles. */
    public static final int MAX_FLOAT_SAMPLES = 4_000_000;

    private Normalization() {}

    /** Fits to all planes of {@code data} with the default percentiles; {@code mask} (H x W, true = use) may be null. */
    public static Normalizer fit(ImageData data, boolean[] mask) {
        return fit(data, allPlanes(data), mask, LOW_PERCENT, HIGH_PERCENT);
    }

    /**
     * Fits to the given planes (the training planes, so that validation data do not leak in).
     *
     * @param mask H x W, true = use; null for every pixel
     * @param lowPercent low percentile in percent, in [0, 50)
     * @param highPercent high percentile in percent, in (50, 100]
     */
    public static Normalizer fit(ImageData data, int[] planes, boolean[] mask, double lowPercent, double highPercent) {
        double[] p = percentiles(data, planes, mask, lowPercent, highPercent);
        double lo = p[0], hi = p[1];
        if (data.isInteger()) return new Normalizer((lo + hi + 1) / 2, hi + 1 - lo);
        double scale = hi - lo;
        if (!(scale > 1e-12 * Math.max(1, Math.abs(hi)))) scale = 1;
        return new Normalizer((lo + hi) / 2, scale);
    }

    /**
     * The normaliser spanning the whole integer range: offset 2^(b-1), scale 2^b (8-bit: 128, 256;
     * 16-bit: 32768, 65536). Not defined for 32-bit data.
     */
    public static Normalizer fullRange(int bitDepth) {
        if (bitDepth != 8 && bitDepth != 16)
            throw new IllegalArgumentException("the full-range normaliser exists for 8- and 16-bit data, not " + bitDepth + "-bit");
        double range = Math.pow(2, bitDepth);
        return new Normalizer(range / 2, range);
    }

    /**
     * The low and high percentiles {@code {lo, hi}} of the values of the given planes inside the mask.
     * Integer data give integer percentiles.
     */
    public static double[] percentiles(ImageData data, int[] planes, boolean[] mask, double lowPercent, double highPercent) {
        if (!(lowPercent >= 0 && lowPercent < 50 && highPercent > 50 && highPercent <= 100))
            throw new IllegalArgumentException("percentiles must satisfy 0 <= low < 50 < high <= 100, got " + lowPercent + " and " + highPercent);
        if (planes == null || planes.length == 0) throw new IllegalArgumentException("no planes to fit the normaliser to");
        if (mask != null && mask.length != data.width() * data.height())
            throw new IllegalArgumentException("mask has " + mask.length + " pixels, the image " + data.width() * data.height());
        int area = data.width() * data.height();
        int c = data.channels();
        long n = 0;
        for (int y = 0; y < area; y++) if (mask == null || mask[y]) n++;
        n *= (long) c * planes.length;
        if (n == 0) throw new IllegalArgumentException("the mask selects no pixels of '" + data.name() + "': draw a larger selection");
        return data.isInteger()
                ? histogramPercentiles(data, planes, mask, n, lowPercent, highPercent)
                : sortedPercentiles(data, planes, mask, n, lowPercent, highPercent);
    }

    private static double[] histogramPercentiles(ImageData data, int[] planes, boolean[] mask, long n, double lowP, double highP) {
        int max = data.bitDepth() == 8 ? 255 : 65535;
        long[] hist = new long[max + 1];
        int area = data.width() * data.height();
        for (int p : planes) {
            float[] v = data.plane(p);
            for (int i = 0; i < v.length; i++) {
                if (mask != null && !mask[i % area]) continue;
                int k = Math.round(v[i]);
                hist[Math.max(0, Math.min(max, k))]++;
            }
        }
        long loRank = (long) Math.floor(lowP / 100 * (n - 1) + 1e-9);
        long hiRank = (long) Math.ceil(highP / 100 * (n - 1) - 1e-9);
        return new double[] {valueAtRank(hist, loRank), valueAtRank(hist, hiRank)};
    }

    private static int valueAtRank(long[] hist, long rank) {
        long seen = 0;
        for (int k = 0; k < hist.length; k++) {
            seen += hist[k];
            if (seen > rank) return k;
        }
        return hist.length - 1;
    }

    private static double[] sortedPercentiles(ImageData data, int[] planes, boolean[] mask, long n, double lowP, double highP) {
        long stride = Math.max(1, (n + MAX_FLOAT_SAMPLES - 1) / MAX_FLOAT_SAMPLES);
        float[] sample = new float[(int) Math.min(n, MAX_FLOAT_SAMPLES)];
        int count = 0;
        long index = 0;
        int area = data.width() * data.height();
        for (int p : planes) {
            float[] v = data.plane(p);
            for (int i = 0; i < v.length; i++) {
                if (mask != null && !mask[i % area]) continue;
                if (index++ % stride == 0 && count < sample.length && Float.isFinite(v[i])) sample[count++] = v[i];
            }
        }
        if (count == 0) throw new IllegalArgumentException("image '" + data.name() + "' has no finite values to fit the normaliser to");
        float[] s = Arrays.copyOf(sample, count);
        Arrays.sort(s);
        int lo = (int) Math.floor(lowP / 100 * (count - 1) + 1e-9);
        int hi = (int) Math.ceil(highP / 100 * (count - 1) - 1e-9);
        return new double[] {s[lo], s[hi]};
    }

    private static int[] allPlanes(ImageData data) {
        int[] p = new int[data.planeCount()];
        for (int i = 0; i < p.length; i++) p[i] = i;
        return p;
    }
}
