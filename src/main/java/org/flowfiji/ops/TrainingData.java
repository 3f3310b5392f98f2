package org.flowfiji.ops;

import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.Dequantization;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalization;
import org.flowfiji.data.Normalizer;
import org.flowfiji.data.PatchSampler;
import org.flowfiji.data.Region;
import org.flowfiji.data.ValidationSplit;

/**
 * The patches a training run sees: a split into training and validation data that share no
 * pixel, a normaliser fitted on the training side only, a seeded stream of augmented,
 * dequantized, normalised training batches, and a fixed set of validation patches.
 */
final class TrainingData {

    private final ImageData data;
    private final int patchSize;
    private final Normalizer normalizer;
    private final PatchSampler trainSampler;
    private final Dequantization trainDequant;
    private final float[] validationRaw;
    private final int validationCount;

    private TrainingData(ImageData data, int patchSize, Normalizer normalizer, PatchSampler trainSampler,
                         Dequantization trainDequant, float[] validationRaw, int validationCount) {
        this.data = data;
        this.patchSize = patchSize;
        this.normalizer = normalizer;
        this.trainSampler = trainSampler;
        this.trainDequant = trainDequant;
        this.validationRaw = validationRaw;
        this.validationCount = validationCount;
    }

    static TrainingData prepare(ImageData data, TrainSettings s, int sizeMultiple) {
        int p = s.patchSize();
        if (p > data.width() || p > data.height()) {
            throw new IllegalArgumentException("patch size " + p + " is larger than the image " + data.width() + "x"
                    + data.height() + " of '" + data.name() + "': choose a patch size <= "
                    + (Math.min(data.width(), data.height()) / sizeMultiple) * sizeMultiple);
        }
        boolean[] mask = data.mask();
        ValidationSplit split = ValidationSplit.of(data, mask, s.validationFraction(), p, s.seed());
        boolean[] trainArea = regionMask(data, split.trainRegion(), mask);
        Normalizer norm = Normalization.fit(data, split.trainPlanes(), trainArea, Normalization.LOW_PERCENT,
                Normalization.HIGH_PERCENT);
        PatchSampler sampler = new PatchSampler(data, split.trainPlanes(), split.trainRegion(), mask, p, s.augment(), s.seed());
        float[] val = null;
        int count = 0;
        if (split.hasValidation()) {
            PatchSampler vs = new PatchSampler(data, split.validationPlanes(), split.validationRegion(), mask, p, false, s.seed() + 1);
            val = vs.grid(Trainer.VALIDATION_PATCHES);
            count = val.length / vs.patchLength();
        }
        return new TrainingData(data, p, norm, sampler, Dequantization.training(data.bitDepth(), s.seed() + 2), val, count);
    }

    private static boolean[] regionMask(ImageData data, Region r, boolean[] mask) {
        if (r == null) return mask;
        int w = data.width();
        boolean[] m = new boolean[w * data.height()];
        for (int y = r.y(); y < r.y() + r.height(); y++) {
            for (int x = r.x(); x < r.x() + r.width(); x++) m[y * w + x] = mask == null || mask[y * w + x];
        }
        return m;
    }

    Normalizer normalizer() {
        return normalizer;
    }

    int patchSize() {
        return patchSize;
    }

    boolean hasValidation() {
        return validationCount > 0;
    }

    int validationCount() {
        return validationCount;
    }

    List<String> sourceNames() {
        List<String> names = new ArrayList<>();
        names.add(data.name());
        return names;
    }

    /** Fills {@code buf} with {@code b} augmented, dequantized ({@code u ~ U[0,1)}), normalised patches. */
    void nextTrainingBatch(float[] buf, int b, Normalizer n, boolean integer) {
        trainSampler.sample(buf, b);
        if (integer) trainDequant.apply(buf, 0, b * trainSampler.patchLength());
        n.normalizeInPlace(buf);
    }

    /** The fixed validation patches, dequantized at bin centres and normalised ([N, C, P, P]). */
    float[] validationPatches(Normalizer n, boolean integer) {
        float[] v = validationRaw.clone();
        if (integer) Dequantization.evaluation(data.bitDepth()).apply(v);
        n.normalizeInPlace(v);
        return v;
    }
}
