package org.flowfiji.demo;

/** Small image filters on row-major float planes. */
final class Filters {
    private Filters() {}

    /**
     * Separable Gaussian blur of an {@code h x w} plane with standard deviation {@code sigma}
     * pixels, mirrored at the borders; returns a new array.
     */
    static float[] gaussian(float[] in, int w, int h, double sigma) {
        if (sigma <= 0) return in.clone();
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = Math.exp(-0.5 * i * i / (sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) k[i] /= sum;
        float[] tmp = new float[in.length];
        float[] out = new float[in.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int i = -r; i <= r; i++) acc += k[i + r] * in[y * w + mirror(x + i, w)];
                tmp[y * w + x] = (float) acc;
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int i = -r; i <= r; i++) acc += k[i + r] * tmp[mirror(y + i, h) * w + x];
                out[y * w + x] = (float) acc;
            }
        }
        return out;
    }

    /** Index reflected into {@code [0, n)} (edge pixel not repeated), for any offset. */
    static int mirror(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i = Math.floorMod(i, period);
        return i < n ? i : period - i;
    }
}
