package org.flowfiji.ops;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.flowfiji.data.Dequantization;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.MultiScaleFlow;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;

/**
 * Draws new images from a model, in the training data's bit depth, channels and calibration.
 *
 * <p>Latents are drawn from the priors with standard deviations scaled by the temperature T
 * (T = 1 samples the model; T < 1 gives smoother, more typical images), passed through the flow's
 * sampling direction and mapped back to raw units {@code v = x * scale + offset}. Integer data
 * take {@code floor(v)} (the inverse of uniform dequantization) clamped to the bit depth's range.
 * Images are made in batches whose pixel count is bounded, so memory does not grow with count.
 *
 * <p>The priors' standard normal values come from {@link LatentNoise}, keyed by image, level,
 * channel and position, so an image does not depend on the batch it is made in. RealNVP and Glow
 * are local like their maps: images larger than a tile are made tile by tile, each decoded with a
 * margin of the flow's receptive radius from its own region of the latents, and equal the image
 * made whole (up to float rounding), so the engine's memory stays bounded by a tile whatever the
 * image size. IAF's order reversals flip whole planes, so IAF images are made whole. Whole images
 * of up to {@link #BATCH_PIXELS} pixels are made a batch per engine thread at a time. When memory
 * runs out, the batch, then the tile, is halved and the work goes on, with the same images.
 */
public final class Sampler {
    private Sampler() {}

    static final long BATCH_PIXELS = 512L * 512L;

    /** Receives the samples as they are made: rows of one image at a time, each row once. */
    @FunctionalInterface
    public interface Sink {
        /**
         * Rows [y0, y0 + rows) of image {@code image}, every channel: [C, rows, W] values in raw
         * units ({@code values} may be reused after the call).
         */
        void rows(int image, int y0, int rows, float[] values) throws IOException;
    }

    /**
     * @param width image width, 0 = the model's patch size; a multiple of 2^levels
     * @param height image height, 0 = the model's patch size; a multiple of 2^levels
     */
    public static ImageData sample(FlowModel model, int count, int width, int height, double temperature, long seed,
                                   ProgressListener progress, Cancellation cancel) {
        return sample(model, count, width, height, temperature, seed, Mapper.DEFAULT_TILE, progress, cancel);
    }

    /** As {@link #sample(FlowModel, int, int, int, double, long, ProgressListener, Cancellation)}, with tiles of side {@code tileSize}. */
    static ImageData sample(FlowModel model, int count, int width, int height, double temperature, long seed,
                            int tileSize, ProgressListener progress, Cancellation cancel) {
        int w = side(model, width);
        int h = side(model, height);
        int ch = model.channels();
        List<float[]> planes = new ArrayList<>(count);
        try {
            sample(model, count, w, h, temperature, seed, tileSize, progress, cancel, (k, y0, rows, values) -> {
                if (k == planes.size()) planes.add(new float[ch * h * w]);
                for (int c = 0; c < ch; c++) {
                    System.arraycopy(values, c * rows * w, planes.get(k), (c * h + y0) * w, rows * w);
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return new ImageData("Samples", w, h, ch, model.bitDepth(), planes, model.calibration());
    }

    /**
     * Makes the samples and hands them to {@code sink} as they come (whole images, or bands of rows
     * of images larger than a tile), so that only a band or an image is held at a time; image k's
     * rows come before image k + 1's.
     */
    public static void sample(FlowModel model, int count, int width, int height, double temperature, long seed,
                              ProgressListener progress, Cancellation cancel, Sink sink) throws IOException {
        sample(model, count, width, height, temperature, seed, Mapper.DEFAULT_TILE, progress, cancel, sink);
    }

    static void sample(FlowModel model, int count, int width, int height, double temperature, long seed,
                       int tileSize, ProgressListener progress, Cancellation cancel, Sink sink) throws IOException {
        if (progress == null) progress = ProgressListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        int w = side(model, width);
        int h = side(model, height);
        int m = model.config().sizeMultiple();
        check(model, count, w, h, temperature);
        if (!(model.flow() instanceof MultiScaleFlow flow)) {
            throw new IllegalArgumentException("a " + model.config().architecture().label() + " model cannot be sampled here");
        }
        int tile = Indices.roundUp(Math.max(m, tileSize), m);
        // IAF's order reversals flip whole planes between its steps, so its samples are made whole
        boolean tiled = model.config().architecture() != Architecture.IAF && (w > tile || h > tile);
        LatentNoise noise = new LatentNoise(seed);
        if (!tiled) {
            wholeImages(model, flow, count, w, h, (float) temperature, noise, sink, progress, cancel);
        } else {
            for (int k = 0; k < count; k++) {
                tile = tiledImage(model, flow, k, count, w, h, tile, (float) temperature, noise, sink, progress, cancel);
            }
        }
    }

    /** An image side as asked for: {@code requested}, or the model's patch size for 0. */
    public static int side(FlowModel model, int requested) {
        return requested > 0 ? requested : model.patchSize();
    }

    /**
     * Checks a request before anything is made or allocated for it.
     *
     * @throws IllegalArgumentException naming the setting and what to give instead
     */
    public static void check(FlowModel model, int count, int width, int height, double temperature) {
        int w = side(model, width);
        int h = side(model, height);
        int m = model.config().sizeMultiple();
        if (count < 1) throw new IllegalArgumentException("count must be >= 1, got " + count);
        if (w % m != 0 || h % m != 0) {
            throw new IllegalArgumentException("sample size " + w + "x" + h + " must be a multiple of 2^levels = " + m
                    + " (e.g. " + Indices.roundUp(w, m) + "x" + Indices.roundUp(h, m) + ")");
        }
        if (!(temperature > 0) || temperature > 10) {
            throw new IllegalArgumentException("temperature must be in (0, 10], got " + temperature);
        }
    }

    /**
     * Whole images in batches, each image's latents from its own keys, so the batch does not matter.
     * On a CPU with several engine threads, as many batches as threads are made at the same time,
     * each on a kept worker thread with one engine thread ({@link BatchPasses#lasting}): 16 images
     * of 256 x 256 took 9-12 % less time (IAF, Glow, RealNVP) than one batch after the other with
     * the threads splitting each operation. The batches reach the sink in order. Images larger than
     * {@link #BATCH_PIXELS} are made one at a time with the engine's threads, so that memory stays
     * that of one.
     */
    private static void wholeImages(FlowModel model, MultiScaleFlow flow, int count, int w, int h, float temperature,
                                    LatentNoise noise, Sink sink, ProgressListener progress,
                                    Cancellation cancel) throws IOException {
        // images of up to a batch's pixels only: larger ones, made one at a time, would need twice the memory
        try (BatchPasses workers = BatchPasses.lasting(model.device(), (long) w * h <= BATCH_PIXELS ? count : 1)) {
            int parts = workers.parts();
            int batch = (int) Math.max(1, Math.min((count + parts - 1) / parts, BATCH_PIXELS / ((long) w * h)));
            int start = 0;
            while (start < count) {
                cancel.check();
                int first = start;
                int b = batch;
                List<float[]> xs;
                try {
                    // the first round of batches of this size from this model runs in turn (see BatchPasses)
                    xs = workers.onEachThread(flow, List.of(b, h, w), k -> {
                        int k0 = first + k * b;
                        // each worker also puts its images into raw units, instead of the calling
                        // thread after all of them (IAF: 2.5 % of the time, the workers idle meanwhile)
                        return k0 < count
                                ? finish(model, decode(model, flow, noise, k0, Math.min(b, count - k0), 0, 0, h, w, temperature))
                                : null;
                    });
                } catch (RuntimeException e) {
                    if (!Mapper.isOutOfMemory(e) || b == 1) throw e;
                    batch = b / 2;
                    progress.message("Memory ran out sampling " + b + " images at a time: going on with " + batch
                            + " at a time (the same images, more slowly).");
                    continue;
                }
                for (float[] x : xs) {
                    if (x == null) break;
                    int n = x.length / (model.channels() * h * w);
                    handOver(x, start, n, h, sink);
                    start += n;
                    progress.progress("Sample", start, count);
                }
            }
        }
    }

    /**
     * Image {@code k} in tiles of side {@code tile}: each tile is decoded from its region of the
     * latents widened by the flow's receptive radius (clipped at the image's border), and its
     * interior is kept. Returns the tile side it ended with (smaller after running out of memory),
     * for the next image.
     */
    private static int tiledImage(FlowModel model, MultiScaleFlow flow, int k, int count, int w, int h, int tile,
                                   float temperature, LatentNoise noise, Sink sink, ProgressListener progress,
                                   Cancellation cancel) throws IOException {
        int ch = model.channels();
        int m = model.config().sizeMultiple();
        int r = Mapper.receptiveRadius(model.config());
        int y0 = 0;
        while (y0 < h) {
            int band = Math.min(tile, h - y0);
            float[] rows = new float[ch * band * w];
            int iy0 = Math.max(0, y0 - r);
            int ih = Math.min(h, y0 + band + r) - iy0;
            try {
                for (Mapper.Tile t : Mapper.tiles(w, tile, r)) {
                    cancel.check();
                    float[] x = decode(model, flow, noise, k, 1, iy0, t.ix0(), ih, t.iw(), temperature);
                    for (int c = 0; c < ch; c++) {
                        for (int y = 0; y < band; y++) {
                            System.arraycopy(x, (c * ih + y0 - iy0 + y) * t.iw() + t.tx0() - t.ix0(), rows,
                                    (c * band + y) * w + t.tx0(), t.tw());
                        }
                    }
                }
            } catch (RuntimeException e) {
                if (!Mapper.isOutOfMemory(e) || tile <= 2 * m) throw e;
                int was = tile;
                tile = Indices.roundUp(tile / 2, m);
                progress.message("Memory ran out sampling in tiles of " + was + " px (rows from " + y0
                        + "): going on with tiles of " + tile + " px (the same image, more slowly).");
                continue;
            }
            sink.rows(k, y0, band, finish(model, rows));
            y0 += band;
            progress.progress("Sample", (long) k * h + y0, (long) count * h);
        }
        return tile;
    }

    /**
     * The images [k0, k0 + b) of the region of {@code h} x {@code w} pixels at ({@code y0}, {@code x0})
     * decoded from that region of their latents: [b, C, h, w] values in normalised units.
     */
    private static float[] decode(FlowModel model, MultiScaleFlow flow, LatentNoise noise, int k0, int b, int y0,
                                  int x0, int h, int w, float temperature) {
        try (NDManager scope = model.manager().newSubManager(); Engines.Inference noGrad = Engines.inference()) {
            Shape image = new Shape(b, model.channels(), h, w);
            return flow.sample(model.evalContext(scope, false), image, temperature, false, (manager, level, shape) -> {
                int sy = h / (int) shape.get(2);
                int sx = w / (int) shape.get(3);
                return manager.create(noise.region(level, k0, b, (int) shape.get(1), y0 / sy, x0 / sx,
                        (int) shape.get(2), (int) shape.get(3)), shape);
            }).x().toFloatArray();
        }
    }

    /** Images [start, start + b) of {@code h} rows, [b, C, h, w] in raw units (from {@link #finish}), to {@code sink}. */
    private static void handOver(float[] x, int start, int b, int h, Sink sink) throws IOException {
        int n = x.length / b;
        for (int k = 0; k < b; k++) sink.rows(start + k, 0, h, Arrays.copyOfRange(x, k * n, (k + 1) * n));
    }

    /** Normalised values to raw units in place: the normaliser's inverse, then the bit depth's quantisation. */
    private static float[] finish(FlowModel model, float[] x) {
        model.normalizer().denormalizeInPlace(x);
        Dequantization.quantize(x, model.bitDepth());
        return x;
    }
}
