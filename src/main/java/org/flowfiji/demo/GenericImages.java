package org.flowfiji.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;

/**
 * Seeded generator of generic 16-bit camera images: varied content with no particular subject,
 * the training data of the demo's "background" reference model.
 *
 * <p>A likelihood ratio {@code log p_model(x) - log p_background(x)} cancels what any image of a
 * camera has (smooth areas, noise, edges, blur) and keeps what is specific to the model's own
 * data (Nalisnick et al. 2019, Schirrmeister et al. 2020, who use a model of general natural
 * images as the background). For 16-bit fluorescence images there is no such general corpus to
 * ship, so the background model learns from images made here: each plane is a random mixture of
 * 2-12 shapes of random kind, size and brightness, seen through random optics and a random camera:
 * <ol>
 *   <li>Scene: a haze level (5-300) with a linear gradient, plus components drawn from: smooth
 *       Gaussian blobs (sigma 2-25), sharp-edged ellipses (semi-axes 3-30, some textured), rotated
 *       rectangles, curved lines (width 0.5-3), texture fields (smooth noise at scale 1-8, over
 *       the whole plane or a disk) and clusters of small spots (sigma 0.7-2). Amplitudes are
 *       log-uniform in 20-6000 camera units, so dim and bright content are equally common.</li>
 *   <li>Optics: a Gaussian blur with sigma 0.5-3.5.</li>
 *   <li>Camera: {@code v = 100 + g·Poisson(s / g) + N(0, r²)}, gain g 0.5-4, read noise r 2-8,
 *       rounded and clamped to 16 bits.</li>
 * </ol>
 * All randomness comes from one {@link SplittableRandom}, so a seed gives the same pixels.
 */
public final class GenericImages {
    private GenericImages() {}

    /** Planes written by {@code flows demo --write-generic-images}. */
    public static final int DEFAULT_PLANES = 64;
    /** Side of the generated planes. */
    public static final int DEFAULT_SIZE = 128;
    /** Seed of the images the shipped background model was trained on. */
    public static final long DEFAULT_SEED = 7;

    private static final double CAMERA_OFFSET = 100;

    /** {@code planes} generic 16-bit planes of {@code size} x {@code size}, one channel. */
    public static ImageData stack(int planes, int size, long seed) {
        if (planes < 1) throw new IllegalArgumentException("plane count must be >= 1, got " + planes);
        if (size < 16) throw new IllegalArgumentException("image size must be >= 16, got " + size);
        SplittableRandom root = new SplittableRandom(seed);
        List<float[]> list = new ArrayList<>(planes);
        for (int p = 0; p < planes; p++) list.add(new Scene(size, root.split()).render());
        return new ImageData("generic", size, size, 1, 16, list, ImageData.Calibration.NONE);
    }

    /** Writes {@link #stack} as a 16-bit TIFF stack. */
    public static void write(Path file, int planes, int size, long seed) throws IOException {
        ImageIO.writeTiff(stack(planes, size, seed), file);
    }

    /** One plane being built. */
    private static final class Scene {
        final int n;
        final SplittableRandom rnd;
        final float[] s;

        Scene(int n, SplittableRandom rnd) {
            this.n = n;
            this.rnd = rnd;
            this.s = new float[n * n];
        }

        double uniform(double lo, double hi) {
            return lo + (hi - lo) * rnd.nextDouble();
        }

        double logUniform(double lo, double hi) {
            return Math.exp(uniform(Math.log(lo), Math.log(hi)));
        }

        float[] render() {
            double haze = logUniform(5, 300);
            double angle = uniform(0, 2 * Math.PI);
            double slope = uniform(0, 1) * haze / n;
            double gx = Math.cos(angle) * slope, gy = Math.sin(angle) * slope;
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    s[y * n + x] = (float) (haze + gx * (x - n / 2.0) + gy * (y - n / 2.0));
                }
            }
            int components = 2 + rnd.nextInt(11);
            for (int i = 0; i < components; i++) {
                double amp = logUniform(20, 6000);
                switch (rnd.nextInt(6)) {
                    case 0 -> blob(amp);
                    case 1 -> ellipse(amp);
                    case 2 -> rectangle(amp);
                    case 3 -> curve(amp);
                    case 4 -> texture(amp);
                    default -> spots(amp);
                }
            }
            float[] blurred = Filters.gaussian(s, n, n, uniform(0.5, 3.5));
            return camera(blurred);
        }

        void blob(double amp) {
            double cx = uniform(0, n), cy = uniform(0, n), sigma = uniform(2, 25);
            double k = -0.5 / (sigma * sigma);
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    double dx = x - cx, dy = y - cy;
                    s[y * n + x] += (float) (amp * Math.exp(k * (dx * dx + dy * dy)));
                }
            }
        }

        void ellipse(double amp) {
            double cx = uniform(0, n), cy = uniform(0, n), a = uniform(3, 30), b = a * uniform(0.4, 1);
            double c = Math.cos(uniform(0, Math.PI)), sn = Math.sin(uniform(0, Math.PI));
            float[] tex = rnd.nextBoolean() ? smoothNoise(uniform(1, 4)) : null;
            double texAmp = uniform(0.1, 0.5);
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    double dx = x - cx, dy = y - cy;
                    double u = (c * dx + sn * dy) / a, v = (-sn * dx + c * dy) / b;
                    double r = Math.sqrt(u * u + v * v);
                    double in = 1 / (1 + Math.exp(-(1 - r) * a / 0.7));
                    if (in < 1e-4) continue;
                    double t = tex == null ? 1 : 1 + texAmp * tex[y * n + x];
                    s[y * n + x] += (float) (amp * in * t);
                }
            }
        }

        void rectangle(double amp) {
            double cx = uniform(0, n), cy = uniform(0, n), hw = uniform(2, 30), hh = uniform(2, 30);
            double ang = uniform(0, Math.PI), c = Math.cos(ang), sn = Math.sin(ang);
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    double dx = x - cx, dy = y - cy;
                    double u = Math.abs(c * dx + sn * dy), v = Math.abs(-sn * dx + c * dy);
                    if (u <= hw && v <= hh) s[y * n + x] += (float) amp;
                }
            }
        }

        /** A curved line; its own layer takes the maximum where the line crosses itself. */
        void curve(double amp) {
            double x = uniform(0, n), y = uniform(0, n), dir = uniform(0, 2 * Math.PI);
            double turn = uniform(-0.08, 0.08), width = uniform(0.5, 3);
            int length = (int) uniform(20, 2 * n);
            float[] layer = new float[n * n];
            int r = (int) Math.ceil(width + 2);
            for (int step = 0; step < length; step++) {
                for (int py = (int) y - r; py <= (int) y + r; py++) {
                    if (py < 0 || py >= n) continue;
                    for (int px = (int) x - r; px <= (int) x + r; px++) {
                        if (px < 0 || px >= n) continue;
                        double d = Math.hypot(px - x, py - y);
                        double in = 1 / (1 + Math.exp((d - width / 2) / 0.4));
                        int i = py * n + px;
                        layer[i] = (float) Math.max(layer[i], amp * in);
                    }
                }
                dir += turn + uniform(-0.05, 0.05);
                x += Math.cos(dir);
                y += Math.sin(dir);
            }
            for (int i = 0; i < s.length; i++) s[i] += layer[i];
        }

        void texture(double amp) {
            float[] tex = smoothNoise(uniform(1, 8));
            boolean disk = rnd.nextBoolean();
            double cx = uniform(0, n), cy = uniform(0, n), r = uniform(10, 50);
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    double w = disk ? 1 / (1 + Math.exp((Math.hypot(x - cx, y - cy) - r) / 2)) : 1;
                    double v = amp * 0.5 * (1 + tex[y * n + x]) * w;
                    s[y * n + x] += (float) Math.max(0, v);
                }
            }
        }

        void spots(double amp) {
            int count = 5 + rnd.nextInt(36);
            double cx = uniform(0, n), cy = uniform(0, n), spread = uniform(5, n);
            for (int i = 0; i < count; i++) {
                double px = cx + uniform(-spread, spread), py = cy + uniform(-spread, spread);
                double sigma = uniform(0.7, 2), a = amp * uniform(0.5, 1.5);
                double k = -0.5 / (sigma * sigma);
                int r = (int) Math.ceil(4 * sigma);
                for (int y = (int) py - r; y <= (int) py + r; y++) {
                    if (y < 0 || y >= n) continue;
                    for (int x = (int) px - r; x <= (int) px + r; x++) {
                        if (x < 0 || x >= n) continue;
                        double dx = x - px, dy = y - py;
                        s[y * n + x] += (float) (a * Math.exp(k * (dx * dx + dy * dy)));
                    }
                }
            }
        }

        /** White noise blurred at {@code scale}, rescaled to zero mean and unit standard deviation. */
        float[] smoothNoise(double scale) {
            float[] w = new float[n * n];
            for (int i = 0; i < w.length; i++) w[i] = (float) gaussian();
            float[] b = Filters.gaussian(w, n, n, scale);
            double mean = 0, sq = 0;
            for (float v : b) mean += v;
            mean /= b.length;
            for (float v : b) sq += (v - mean) * (v - mean);
            double sd = Math.sqrt(sq / b.length);
            for (int i = 0; i < b.length; i++) b[i] = (float) ((b[i] - mean) / sd);
            return b;
        }

        float[] camera(float[] signal) {
            double gain = uniform(0.5, 4), read = uniform(2, 8);
            float[] v = new float[signal.length];
            for (int i = 0; i < v.length; i++) {
                double electrons = poisson(Math.max(0, signal[i]) / gain);
                double value = CAMERA_OFFSET + gain * electrons + read * gaussian();
                v[i] = (float) Math.max(0, Math.min(65535, Math.rint(value)));
            }
            return v;
        }

        double gaussian() {
            double u1 = 1 - rnd.nextDouble(), u2 = rnd.nextDouble();
            return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        }

        /** Poisson deviate: multiplication method for small means, normal approximation above 40. */
        double poisson(double mean) {
            if (mean > 40) return Math.max(0, Math.rint(mean + Math.sqrt(mean) * gaussian()));
            double limit = Math.exp(-mean), p = 1;
            int k = -1;
            do {
                k++;
                p *= rnd.nextDouble();
            } while (p > limit);
            return k;
        }
    }
}
