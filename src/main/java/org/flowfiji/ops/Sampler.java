package org.flowfiji.ops;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.Dequantization;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
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
        int ch = model.channels();
        int batch = (int) Math.max(1, Math.min(count, BATCH_PIXELS / ((long) w * h)));
        Engines.pytorch().setRandomSeed((int) seed);
        List<float[]> planes = new ArrayList<>(count);
        for (int start = 0; start < count; start += batch) {
            cancel.check();
            int b = Math.min(batch, count - start);
            float[] x;
            try (NDManager scope = model.manager().newSubManager(); Engines.Inference noGrad = Engines.inference()) {
                x = model.flow().sample(model.evalContext(scope, false), b, h, w, (float) temperature).x().toFloatArray();
            }
            int n = ch * h * w;
            model.normalizer().denormalizeInPlace(x);
            Dequantization.quantize(x, model.bitDepth());
            for (int k = 0; k < b; k++) planes.add(java.util.Arrays.copyOfRange(x, k * n, (k + 1) * n));
            progress.progress("Sample", start + b, count);
        }
        return new ImageData("Samples", w, h, ch, model.bitDepth(), planes, model.calibration());
    }
}
