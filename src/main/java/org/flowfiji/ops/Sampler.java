package org.flowfiji.ops;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.flowfiji.data.Dequantization;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
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
 * <p>RealNVP and Glow draw their priors' standard normal values from {@link LatentNoise}, keyed by
 * image, level, channel and position, and are local like their maps: images larger than a tile are
 * made tile by tile, each decoded with a margin of the flow's receptive radius from its own region
 * of the latents, and equal the image made whole (up to float rounding), so the engine's memory
 * stays bounded by a tile whatever the image size. When memory runs out, the batch, then the tile,
 * is halved and the work goes on, with the same images. IAF samples whole images from the engine's
 * generator.
 */
public final class Sampler {
    private Sampler() {}

    static final long BATCH_PIXELS = 512L * 512L;

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
        if (progress == null) progress = ProgressListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        int w = width > 0 ? width : model.patchSize();
        int h = height > 0 ? height : model.patchSize();
        int m = model.config().sizeMultiple();
        if (count < 1) throw new IllegalArgumentException("count must be >= 1, got " + count);
        if (w % m != 0 || h % m != 0) {
            throw new IllegalArgumentException("sample size " + w + "x" + h + " must be a multiple of 2^levels = " + m
                    + " (e.g. " + Indices.roundUp(w, m) + "x" + Indices.roundUp(h, m) + ")");
        }
        if (!(temperature > 0) || temperature > 10) {
            throw new IllegalArgumentException("temperature must be in (0, 10], got " + temperature);
        }
        List<float[]> planes = new ArrayList<>(count);
        int tile = Indices.roundUp(Math.max(m, tileSize), m);
        if (!(model.flow() instanceof MultiScaleFlow flow)) {
            engineDraws(model, count, w, h, (float) temperature, seed, planes, progress, cancel);
        } else if (w <= tile && h <= tile) {
            wholeImages(model, flow, count, w, h, (float) temperature, new LatentNoise(seed), planes, progress, cancel);
        } else {
            for (int k = 0; k < count; k++) {
                planes.add(tiledImage(model, flow, k, count, w, h, tile, (float) temperature, new LatentNoise(seed),
                        progress, cancel));
            }
        }
        return new ImageData("Samples", w, h, model.channels(), model.bitDepth(), planes, model.calibration());
    }

    /** Whole images in batches from the engine's generator (IAF). */
    private static void engineDraws(FlowModel model, int count, int w, int h, float temperature, long seed,
                                    List<float[]> planes, ProgressListener progress, Cancellation cancel) {
        int batch = (int) Math.max(1, Math.min(count, BATCH_PIXELS / ((long) w * h)));
        Engines.pytorch().setRandomSeed((int) seed);
        for (int start = 0; start < count; start += batch) {
            cancel.check();
            int b = Math.min(batch, count - start);
            float[] x;
            try (NDManager scope = model.manager().newSubManager(); Engines.Inference noGrad = Engines.inference()) {
                x = model.flow().sample(model.evalContext(scope, false), b, h, w, temperature).x().toFloatArray();
            }
            addImages(model, x, b, planes);
            progress.progress("Sample", start + b, count);
        }
    }

    /** Whole images in batches, each image's latents from its own keys, so the batch does not matter. */
    private static void wholeImages(FlowModel model, MultiScaleFlow flow, int count, int w, int h, float temperature,
                                    LatentNoise noise, List<float[]> planes, ProgressListener progress,
                                    Cancellation cancel) {
        int batch = (int) Math.max(1, Math.min(count, BATCH_PIXELS / ((long) w * h)));
        int start = 0;
        while (start < count) {
            cancel.check();
            int b = Math.min(batch, count - start);
            float[] x;
            try {
                x = decode(model, flow, noise, start, b, 0, 0, h, w, temperature);
            } catch (RuntimeException e) {
                if (!Mapper.isOutOfMemory(e) || b == 1) throw e;
                batch = b / 2;
                progress.message("Memory ran out sampling " + b + " images at a time: going on with " + batch
                        + " at a time (the same images, more slowly).");
                continue;
            }
            addImages(model, x, b, planes);
            start += b;
            progress.progress("Sample", start, count);
        }
    }

    /**
     * Image {@code k} in tiles of side {@code tile}: each tile is decoded from its region of the
     * latents widened by the flow's receptive radius (clipped at the image's border), and its
     * interior is kept.
     */
    private static float[] tiledImage(FlowModel model, MultiScaleFlow flow, int k, int count, int w, int h, int tile,
                                      float temperature, LatentNoise noise, ProgressListener progress,
                                      Cancellation cancel) {
        int ch = model.channels();
        int m = model.config().sizeMultiple();
        int r = Mapper.receptiveRadius(model.config());
        float[] plane = new float[ch * h * w];
        int y0 = 0;
        while (y0 < h) {
            int band = Math.min(tile, h - y0);
            int iy0 = Math.max(0, y0 - r);
            int ih = Math.min(h, y0 + band + r) - iy0;
            try {
                for (int x0 = 0; x0 < w; x0 += tile) {
                    cancel.check();
                    int tw = Math.min(tile, w - x0);
                    int ix0 = Math.max(0, x0 - r);
                    int iw = Math.min(w, x0 + tw + r) - ix0;
                    float[] x = decode(model, flow, noise, k, 1, iy0, ix0, ih, iw, temperature);
                    for (int c = 0; c < ch; c++) {
                        for (int y = 0; y < band; y++) {
                            System.arraycopy(x, (c * ih + y0 - iy0 + y) * iw + x0 - ix0, plane, (c * h + y0 + y) * w + x0,
                                    tw);
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
            y0 += band;
            progress.progress("Sample", (long) k * h + y0, (long) count * h);
        }
        return finish(model, plane);
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

    /** Raw values of {@code b} images [b, C, h, w] in normalised units, one plane each, added to {@code planes}. */
    private static void addImages(FlowModel model, float[] x, int b, List<float[]> planes) {
        int n = x.length / b;
        finish(model, x);
        for (int k = 0; k < b; k++) planes.add(Arrays.copyOfRange(x, k * n, (k + 1) * n));
    }

    /** Normalised values to raw units in place: the normaliser's inverse, then the bit depth's quantisation. */
    private static float[] finish(FlowModel model, float[] x) {
        model.normalizer().denormalizeInPlace(x);
        Dequantization.quantize(x, model.bitDepth());
        return x;
    }
}
