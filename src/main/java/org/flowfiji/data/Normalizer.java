package org.flowfiji.data;

/**
 * The affine map from raw intensities to the flow's input: {@code x = (v + u - offset) / scale}.
 *
 * <p>Its log-Jacobian is {@code -log(scale)} per element, always added back so every reported
 * number is in raw intensity units. With 8-bit data, offset 128 and scale 256 this gives exactly
 * the usual Glow bits/dim.
 *
 * @param offset subtracted from the (dequantized) raw value
 * @param scale divides the shifted value; positive
 */
public record Normalizer(double offset, double scale) {

    public Normalizer {
        if (!(scale > 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("normaliser scale must be positive and finite, got " + scale);
        if (!Double.isFinite(offset)) throw new IllegalArgumentException("normaliser offset must be finite");
    }

    /** log|dx/dv| per element. */
    public double logJacobianPerElement() {
        return -Math.log(scale);
    }

    public float normalize(double v) {
        return (float) ((v - offset) / scale);
    }

    public double denormalize(double x) {
        return x * scale + offset;
    }

    /** {@code x = (v - offset) / scale} for every element, in place (add the dequantization u first). */
    public void normalizeInPlace(float[] values) {
        float inv = (float) (1 / scale);
        float off = (float) offset;
        for (int i = 0; i < values.length; i++) values[i] = (values[i] - off) * inv;
    }

    /** {@code v = x * scale + offset} for every element, in place. */
    public void denormalizeInPlace(float[] values) {
        float s = (float) scale;
        float off = (float) offset;
        for (int i = 0; i < values.length; i++) values[i] = values[i] * s + off;
    }
}
