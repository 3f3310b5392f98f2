package org.flowfiji.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded, pure-Java generator of fluorescence-microscopy-like 16-bit images of cell nuclei, with a
 * test stack containing labelled anomalies.
 *
 * <p>Image model, per plane (all sizes in pixels, intensities in camera units, ADU):
 * <ol>
 *   <li>Objects: 10-18 nuclei (per 128 x 128) as soft-edged ellipses, semi-axes 7-12 and 0.65-1 times
 *       that, random orientation, brightness 500-1300, a mildly domed profile, chromatin texture
 *       (a smooth noise field, ±25 %) and 1-3 nucleoli (small brighter or darker spots).
 *       Nuclei may touch but barely overlap, and may be cut by the image border.</li>
 *   <li>Optics: the object image is blurred with a Gaussian point-spread function, sigma 1.3.</li>
 *   <li>Background: an autofluorescence haze (smooth, 20-40) plus a linear gradient (0-50 across
 *       the image in a random direction).</li>
 *   <li>Camera: Poisson-Gaussian noise, {@code v = 100 + g·Poisson(s / g) + N(0, 4²)} with gain
 *       g = 2 ADU per photo-electron, offset 100 and read noise 4 ADU, rounded and clamped to 16 bits.</li>
 * </ol>
 *
 * <p>Anomalies of the test stack (each marked 255 in an 8-bit mask of the same layout, 0 elsewhere):
 * bright debris specks (radius 1-2, 4000-8000, masked with a 2-pixel rim), bright thin fibres
 * (curved, 1.5-2.5 thousand, masked 2.5 pixels either side), out-of-focus regions (a disk around a
 * nucleus where the optics blur with sigma 5 instead of 1.3, masked where the blend is over half),
 * and odd shapes: crescents and rings of nuclear brightness. Test plane k shows the anomaly kinds
 * of row k mod 6 of: none (a clean control plane); specks and a fibre; an out-of-focus region and
 * specks; crescents and rings; a fibre and an out-of-focus region; a ring, specks and a fibre.
 *
 * <p>Everything uses {@link StrictMath} and {@link SplittableRandom}, so a seed gives the same pixels
 * on every platform.
 */
public final class SyntheticMicroscopy {

    /** Pixel size of the generated images, in micrometres (a 20x objective on a 6.5 um camera pixel). */
    public static final double PIXEL_SIZE_UM = 0.325;
    /** Planes of {@code train.tif} written by {@link #generate}. */
    public static final int TRAIN_PLANES = 12;
    /** Planes of {@code test.tif} and {@code test-anomaly-mask.tif}. */
    public static final int TEST_PLANES = 6;
    /** Side of the generated planes. */
    public static final int SIZE = 128;

    private static final double PSF_SIGMA = 1.3;
    private static final double OUT_OF_FOCUS_SIGMA = 5;
    private static final double CAMERA_OFFSET = 100;
    private static final double GAIN = 2;
    private static final double READ_NOISE = 4;
    private static final long TEST_STREAM = 0x5DEECE66DL;

    private SyntheticMicroscopy() {}

    /**
     * A test stack and its ground truth.
     *
     * @param image 16-bit, one channel
     * @param anomalyMask 8-bit, same layout, 255 on anomalies and 0 elsewhere
     */
    public record TestStack(ImageData image, ImageData anomalyMask) {}

    /**
     * Writes {@code train.tif} (12 planes), {@code test.tif} (6 planes) and {@code test-anomaly-mask.tif}
     * (6 planes), all 128 x 128 and calibrated at {@value #PIXEL_SIZE_UM} um per pixel, into
     * {@code folder} (created when missing).
     */
    public static void generate(Path folder, long seed) throws IOException {
        Files.createDirectories(folder);
        ImageIO.writeTiff(trainStack(TRAIN_PLANES, SIZE, seed), folder.resolve("train.tif"));
        TestStack test = testStack(TEST_PLANES, SIZE, seed);
        ImageIO.writeTiff(test.image(), folder.resolve("test.tif"));
        ImageIO.writeTiff(test.anomalyMask(), folder.resolve("test-anomaly-mask.tif"));
    }

    /** Normal images only: {@code planes} planes of {@code size} x {@code size}. */
    public static ImageData trainStack(int planes, int size, long seed) {
        check(planes, size);
        SplittableRandom root = new SplittableRandom(seed);
        List<float[]> list = new ArrayList<>();
        for (int p = 0; p < planes; p++) list.add(new Plane(size, root.split()).render(0).pixels);
        return new ImageData("train", size, size, 1, 16, list, calibration());
    }

    /** Images with anomalies (see the class description) and their masks. */
    public static TestStack testStack(int planes, int size, long seed) {
        check(planes, size);
        SplittableRandom root = new SplittableRandom(seed ^ TEST_STREAM);
        List<float[]> images = new ArrayList<>();
        List<float[]> masks = new ArrayList<>();
        for (int p = 0; p < planes; p++) {
            Plane plane = new Plane(size, root.split()).render(p % 6);
            images.add(plane.pixels);
            masks.add(plane.mask);
        }
        return new TestStack(new ImageData("test", size, size, 1, 16, images, calibration()),
                new ImageData("test-anomaly-mask", size, size, 1, 8, masks, calibration()));
    }

    private static void check(int planes, int size) {
        if (planes < 1) throw new IllegalArgumentException("plane count must be >= 1, got " + planes);
        if (size < 32) throw new IllegalArgumentException("image size must be >= 32, got " + size);
    }

    private static ImageData.Calibration calibration() {
        return new ImageData.Calibration(PIXEL_SIZE_UM, PIXEL_SIZE_UM, 1, "micron");
    }

    /** One plane being built: object image, anomaly layers and mask. */
    private static final class Plane {
        final int n;
        final SplittableRandom rnd;
        final float[] objects;
        final float[] mask;
        float[] pixels;
        /** Nuclei as {cx, cy, a, b, angle, brightness}. */
        final List<double[]> nuclei = new ArrayList<>();

        Plane(int n, SplittableRandom rnd) {
            this.n = n;
            this.rnd = rnd;
            this.objects = new float[n * n];
            this.mask = new float[n * n];
        }

        double uniform(double lo, double hi) {
            return lo + (hi - lo) * rnd.nextDouble();
        }

        Plane render(int kind) {
            float[] texture = smoothNoise(1.5);
            placeNuclei();
            boolean oddShapes = kind == 3 || kind == 5;
            int odd = kind == 3 ? 3 : kind == 5 ? 1 : 0;
            for (int i = 0; i < nuclei.size(); i++) {
                double[] k = nuclei.get(i);
                if (oddShapes && i < odd) drawOddShape(k, kind == 5 || i % 2 == 1);
                else drawNucleus(k, texture);
            }
            if (oddShapes) dilateMask(1);
            if (kind == 1 || kind == 2 || kind == 5) drawSpecks(kind == 2 ? 3 : 4);
            if (kind == 1 || kind == 4 || kind == 5) drawFibre();
            float[] focused = blur(objects, PSF_SIGMA);
            if (kind == 2 || kind == 4) defocusRegion(focused);
            pixels = camera(focused);
            return this;
        }

        void placeNuclei() {
            int target = (int) Math.round(n * n / 16384.0 * uniform(10, 18));
            for (int tries = 0; tries < 4000 && nuclei.size() < target; tries++) {
                double a = uniform(7, 12);
                double b = a * uniform(0.65, 1.0);
                double cx = uniform(-a / 2, n + a / 2);
                double cy = uniform(-a / 2, n + a / 2);
                boolean free = true;
                for (double[] o : nuclei) {
                    double d = StrictMath.hypot(cx - o[0], cy - o[1]);
                    if (d < 0.9 * (a + o[2])) {
                        free = false;
                        break;
                    }
                }
                if (free) nuclei.add(new double[] {cx, cy, a, b, uniform(0, StrictMath.PI), uniform(500, 1300)});
            }
        }

        /** Normalised elliptical radius of (x, y) for nucleus k: 1 on its boundary. */
        static double radius(double[] k, double x, double y) {
            double dx = x - k[0], dy = y - k[1];
            double c = StrictMath.cos(k[4]), s = StrictMath.sin(k[4]);
            double u = (c * dx + s * dy) / k[2];
            double v = (-s * dx + c * dy) / k[3];
            return StrictMath.sqrt(u * u + v * v);
        }

        /** Soft inside-ness: about 1 inside, 0 outside, over an edge about a pixel wide. */
        static double edge(double r, double a) {
            return 1 / (1 + StrictMath.exp(-(1 - r) * a / 0.7));
        }

        void drawNucleus(double[] k, float[] texture) {
            int nucleoli = 1 + rnd.nextInt(3);
            double[][] spots = new double[nucleoli][];
            for (int i = 0; i < nucleoli; i++) {
                double ang = uniform(0, 2 * StrictMath.PI), rr = uniform(0, 0.55);
                double c = StrictMath.cos(k[4]), s = StrictMath.sin(k[4]);
                double u = rr * k[2] * StrictMath.cos(ang), v = rr * k[3] * StrictMath.sin(ang);
                spots[i] = new double[] {k[0] + c * u - s * v, k[1] + s * u + c * v, uniform(1.2, 2.2),
                        rnd.nextBoolean() ? 0.45 : -0.35};
            }
            forBox(k, (x, y) -> {
                double r = radius(k, x, y);
                double in = edge(r, k[2]);
                if (in < 1e-4) return;
                double value = k[5] * in * (0.85 + 0.15 * Math.max(0, 1 - r * r)) * (1 + 0.25 * texture[y * n + x]);
                for (double[] sp : spots) {
                    double d2 = (x - sp[0]) * (x - sp[0]) + (y - sp[1]) * (y - sp[1]);
                    value *= 1 + sp[3] * StrictMath.exp(-d2 / (2 * sp[2] * sp[2]));
                }
                objects[y * n + x] += (float) Math.max(0, value);
            });
        }

        /** A crescent (ellipse minus a shifted one) or a ring, with the nucleus's brightness. */
        void drawOddShape(double[] k, boolean ring) {
            double shift = uniform(0.35, 0.6);
            double ang = uniform(0, 2 * StrictMath.PI);
            double[] hole = ring
                    ? new double[] {k[0], k[1], k[2] * 0.62, k[3] * 0.62, k[4], 0}
                    : new double[] {k[0] + shift * k[2] * StrictMath.cos(ang), k[1] + shift * k[2] * StrictMath.sin(ang),
                            k[2] * 0.95, k[3] * 0.95, k[4], 0};
            forBox(k, (x, y) -> {
                double outer = edge(radius(k, x, y), k[2]);
                double inner = edge(radius(hole, x, y), hole[2]);
                double shape = Math.max(0, outer - inner);
                if (shape < 1e-4) return;
                objects[y * n + x] += (float) (k[5] * 1.1 * shape);
                if (shape > 0.3) mark(x, y);
            });
        }

        void drawSpecks(int count) {
            for (int i = 0; i < count; i++) {
                double cx = uniform(4, n - 4), cy = uniform(4, n - 4);
                double r = uniform(0.8, 1.8);
                double amp = uniform(4000, 8000);
                int reach = (int) StrictMath.ceil(r * 3);
                for (int y = (int) cy - reach; y <= (int) cy + reach; y++)
                    for (int x = (int) cx - reach; x <= (int) cx + reach; x++) {
                        if (x < 0 || y < 0 || x >= n || y >= n) continue;
                        double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                        objects[y * n + x] += (float) (amp * StrictMath.exp(-d2 / (2 * r * r)));
                        if (d2 <= (r + 2) * (r + 2)) mark(x, y);
                    }
            }
        }

        /** A quadratic Bezier curve, its ends inside the image, stamped with small Gaussians every half pixel. */
        void drawFibre() {
            double len = Math.min(uniform(40, 90), 0.7 * n);
            double dir = uniform(0, 2 * StrictMath.PI);
            double hx = len / 2 * StrictMath.cos(dir), hy = len / 2 * StrictMath.sin(dir);
            double mx = uniform(Math.abs(hx) + 2, n - Math.abs(hx) - 2), my = uniform(Math.abs(hy) + 2, n - Math.abs(hy) - 2);
            double x0 = mx - hx, y0 = my - hy, x2 = mx + hx, y2 = my + hy;
            double bend = uniform(-0.4, 0.4) * len;
            double x1 = (x0 + x2) / 2 - bend * StrictMath.sin(dir), y1 = (y0 + y2) / 2 + bend * StrictMath.cos(dir);
            double amp = uniform(1500, 2500);
            double width = uniform(0.6, 0.9);
            int steps = (int) (len * 2);
            float[] stamp = new float[n * n];
            boolean[] near = new boolean[n * n];
            for (int s = 0; s <= steps; s++) {
                double t = s / (double) steps;
                double px = (1 - t) * (1 - t) * x0 + 2 * (1 - t) * t * x1 + t * t * x2;
                double py = (1 - t) * (1 - t) * y0 + 2 * (1 - t) * t * y1 + t * t * y2;
                for (int y = (int) StrictMath.floor(py) - 3; y <= (int) StrictMath.floor(py) + 3; y++)
                    for (int x = (int) StrictMath.floor(px) - 3; x <= (int) StrictMath.floor(px) + 3; x++) {
                        if (x < 0 || y < 0 || x >= n || y >= n) continue;
                        double d2 = (x - px) * (x - px) + (y - py) * (y - py);
                        stamp[y * n + x] = (float) Math.max(stamp[y * n + x], amp * StrictMath.exp(-d2 / (2 * width * width)));
                        if (d2 <= 2.5 * 2.5) near[y * n + x] = true;
                    }
            }
            for (int i = 0; i < n * n; i++) {
                objects[i] += stamp[i];
                if (near[i]) mask[i] = 255;
            }
        }

        /** Blends a heavily blurred version into a disk around a nucleus. */
        void defocusRegion(float[] focused) {
            double[] k = nuclei.isEmpty() ? new double[] {n / 2.0, n / 2.0} : nuclei.get(rnd.nextInt(nuclei.size()));
            double cx = Math.max(10, Math.min(n - 10, k[0])), cy = Math.max(10, Math.min(n - 10, k[1]));
            double radius = uniform(18, 28);
            float[] soft = blur(objects, OUT_OF_FOCUS_SIGMA);
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) {
                    double d = StrictMath.hypot(x - cx, y - cy);
                    double wgt = 1 / (1 + StrictMath.exp((d - radius) / 2.0));
                    int i = y * n + x;
                    focused[i] = (float) (wgt * soft[i] + (1 - wgt) * focused[i]);
                    if (wgt > 0.5) mask[i] = 255;
                }
        }

        float[] camera(float[] signal) {
            float[] haze = smoothNoise(16);
            double hazeLevel = uniform(20, 40);
            double slope = uniform(0, 50);
            double phi = uniform(0, 2 * StrictMath.PI);
            double gx = StrictMath.cos(phi) * slope / n, gy = StrictMath.sin(phi) * slope / n;
            float[] out = new float[n * n];
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) {
                    int i = y * n + x;
                    double background = hazeLevel * (1 + 0.3 * haze[i]) + slope / 2 + gx * (x - n / 2.0) + gy * (y - n / 2.0);
                    double photons = Math.max(0, signal[i] + background) / GAIN;
                    double v = CAMERA_OFFSET + GAIN * poisson(photons) + READ_NOISE * rnd.nextGaussian();
                    out[i] = (float) Math.max(0, Math.min(65535, StrictMath.rint(v)));
                }
            return out;
        }

        double poisson(double lambda) {
            if (lambda <= 0) return 0;
            if (lambda > 30) return Math.max(0, StrictMath.rint(lambda + StrictMath.sqrt(lambda) * rnd.nextGaussian()));
            double limit = StrictMath.exp(-lambda), p = 1;
            int k = 0;
            do {
                k++;
                p *= rnd.nextDouble();
            } while (p > limit);
            return k - 1;
        }

        /** White noise blurred with sigma, scaled to unit standard deviation. */
        float[] smoothNoise(double sigma) {
            float[] w = new float[n * n];
            for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
            float[] s = blur(w, sigma);
            double sum = 0, sum2 = 0;
            for (float v : s) {
                sum += v;
                sum2 += v * v;
            }
            double mean = sum / s.length, sd = StrictMath.sqrt(Math.max(1e-12, sum2 / s.length - mean * mean));
            for (int i = 0; i < s.length; i++) s[i] = (float) ((s[i] - mean) / sd);
            return s;
        }

        void mark(int x, int y) {
            mask[y * n + x] = 255;
        }

        void dilateMask(int r) {
            float[] copy = mask.clone();
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) {
                    if (copy[y * n + x] == 0) continue;
                    for (int dy = -r; dy <= r; dy++)
                        for (int dx = -r; dx <= r; dx++) {
                            int xx = x + dx, yy = y + dy;
                            if (xx >= 0 && yy >= 0 && xx < n && yy < n) mask[yy * n + xx] = 255;
                        }
                }
        }

        interface PixelVisitor {
            void visit(int x, int y);
        }

        /** Visits the pixels of the image within the nucleus's bounding box plus a 3-pixel rim. */
        void forBox(double[] k, PixelVisitor v) {
            int reach = (int) StrictMath.ceil(k[2]) + 3;
            for (int y = Math.max(0, (int) k[1] - reach); y <= Math.min(n - 1, (int) k[1] + reach); y++)
                for (int x = Math.max(0, (int) k[0] - reach); x <= Math.min(n - 1, (int) k[0] + reach); x++) v.visit(x, y);
        }

        /** Separable Gaussian blur with mirrored borders. */
        float[] blur(float[] in, double sigma) {
            int r = (int) StrictMath.ceil(3 * sigma);
            double[] kernel = new double[2 * r + 1];
            double sum = 0;
            for (int i = -r; i <= r; i++) sum += kernel[i + r] = StrictMath.exp(-i * i / (2 * sigma * sigma));
            for (int i = 0; i < kernel.length; i++) kernel[i] /= sum;
            int[] index = new int[n + 2 * r];
            for (int i = 0; i < index.length; i++) index[i] = Indices.mirror(i - r, n);
            float[] tmp = new float[n * n];
            float[] out = new float[n * n];
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) {
                    double acc = 0;
                    for (int i = 0; i < kernel.length; i++) acc += kernel[i] * in[y * n + index[x + i]];
                    tmp[y * n + x] = (float) acc;
                }
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) {
                    double acc = 0;
                    for (int i = 0; i < kernel.length; i++) acc += kernel[i] * tmp[index[y + i] * n + x];
                    out[y * n + x] = (float) acc;
                }
            return out;
        }
    }
}
