package org.flowfiji.ops;

import java.util.SplittableRandom;

/**
 * Standard normal values for the priors of a sample, keyed by position: the value for image
 * {@code k}, prior level {@code l}, channel {@code c}, latent row {@code y} and column {@code x}
 * depends on the seed and these indices only, not on the region that is drawn. So a tile of a
 * large sample drawn with a margin sees the same latents as the whole image, and image k of a run
 * is the same whatever the batch it is drawn in.
 *
 * <p>Each row is drawn in runs of {@link #RUN} columns; a run comes from its own
 * {@link SplittableRandom} seeded by a mix of the seed and (k, l, c, y, x / RUN), so a region
 * costs its own values plus at most one run per row and edge.
 */
final class LatentNoise {

    /** Columns drawn from one generator. */
    static final int RUN = 64;

    private final long seed;

    LatentNoise(long seed) {
        this.seed = seed;
    }

    /**
     * Values of prior level {@code level} for images [k0, k0 + b), {@code channels} channels, latent
     * rows [y0, y0 + h) and columns [x0, x0 + w): [b, channels, h, w] in that order.
     */
    float[] region(int level, int k0, int b, int channels, int y0, int x0, int h, int w) {
        float[] out = new float[b * channels * h * w];
        int i = 0;
        for (int k = 0; k < b; k++) {
            for (int c = 0; c < channels; c++) {
                for (int y = y0; y < y0 + h; y++) {
                    for (int run = Math.floorDiv(x0, RUN); run * RUN < x0 + w; run++) {
                        SplittableRandom r = new SplittableRandom(key(level, k0 + k, c, y, run));
                        int end = Math.min(x0 + w, (run + 1) * RUN);
                        for (int x = run * RUN; x < end; x++) {
                            float v = (float) r.nextGaussian();
                            if (x >= x0) out[i++] = v;
                        }
                    }
                }
            }
        }
        return out;
    }

    private long key(int level, int k, int c, int y, int run) {
        long h = mix(seed);
        h = mix(h ^ level);
        h = mix(h ^ k);
        h = mix(h ^ c);
        h = mix(h ^ y);
        return mix(h ^ run);
    }

    /** A 64-bit finaliser (the one SplittableRandom uses): every input bit moves every output bit. */
    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
