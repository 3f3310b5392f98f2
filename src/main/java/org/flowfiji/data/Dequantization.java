package org.flowfiji.data;

import java.util.SplittableRandom;

/**
 * Adds the dequantization offset u to raw integer intensities: {@code v -> v + u}.
 *
 * <p>Integer data (8/16-bit) are discrete; a continuous density is fitted to {@code v + u}:
 * <ul>
 *   <li>{@link Mode#UNIFORM}: u ~ U[0, 1) per element, for training (the density's
 *       log-likelihood is then a lower bound of the discrete log-probability);</li>
 *   <li>{@link Mode#MIDPOINT}: u = 0.5, deterministic, for evaluation and maps;</li>
 *   <li>{@link Mode#NONE}: u = 0, for float data (32-bit), which are already continuous.</li>
 * </ul>
 * The uniform noise comes from a seeded {@link SplittableRandom}, so a run is reproducible. An
 * instance is not thread-safe; give each thread its own ({@link #split()}).
 *
 * <p>The way back, from a continuous sample to stored integers, is {@link #quantize}: the
 * integer k stands for the interval [k, k + 1), so a value is floored, then clamped to the bit depth.
 */
public final class Dequantization {

    /** How u is chosen. */
    public enum Mode { UNIFORM, MIDPOINT, NONE }

    private final Mode mode;
    private final SplittableRandom random;

    private Dequantization(Mode mode, SplittableRandom random) {
        this.mode = mode;
        this.random = random;
    }

    /** UNIFORM for integer data, NONE for 32-bit data. */
    public static Dequantization training(int bitDepth, long seed) {
        return new Dequantization(bitDepth == 32 ? Mode.NONE : Mode.UNIFORM, new SplittableRandom(seed));
    }

    /** MIDPOINT for integer data, NONE for 32-bit data. */
    public static Dequantization evaluation(int bitDepth) {
        return new Dequantization(bitDepth == 32 ? Mode.NONE : Mode.MIDPOINT, null);
    }

    /** An explicit mode (the seed matters for UNIFORM only). */
    public static Dequantization of(Mode mode, long seed) {
        return new Dequantization(mode, mode == Mode.UNIFORM ? new SplittableRandom(seed) : null);
    }

    /** How this instance chooses u. */
    public Mode mode() {
        return mode;
    }

    /** An independent instance for another thread (same mode, a new random stream). */
    public Dequantization split() {
        return new Dequantization(mode, random == null ? null : random.split());
    }

    /** Adds u to every value, in place. */
    public void apply(float[] values) {
        apply(values, 0, values.length);
    }

    /** Adds u to {@code values[from .. from + length)}, in place. */
    public void apply(float[] values, int from, int length) {
        switch (mode) {
            case UNIFORM -> {
                for (int i = from; i < from + length; i++) values[i] += (float) random.nextDouble();
            }
            case MIDPOINT -> {
                for (int i = from; i < from + length; i++) values[i] += 0.5f;
            }
            case NONE -> { }
        }
    }

    /**
     * Continuous values back to stored intensities, in place: for 8/16-bit data floor and clamp to
     * [0, 255] or [0, 65535] (NaN becomes 0); 32-bit data are left as they are.
     */
    public static void quantize(float[] values, int bitDepth) {
        if (bitDepth == 32) return;
        float max = bitDepth == 8 ? 255 : 65535;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            values[i] = v >= 0 ? Math.min(max, (float) Math.floor(v)) : 0;
        }
    }
}
