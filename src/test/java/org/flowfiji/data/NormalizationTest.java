package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class NormalizationTest {

    private static ImageData ramp(int bitDepth, int n, float start, float step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        return new ImageData("ramp", n, 1, 1, bitDepth, List.of(v), null);
    }

    @Test
    void fullRange8BitDataGiveTheGlowSetting() {
        float[] v = new float[256 * 100];
        for (int i = 0; i < v.length; i++) v[i] = i % 256;
        ImageData d = new ImageData("full", 256, 100, 1, 8, List.of(v), null);
        Normalizer n = Normalization.fit(d, null);
        assertEquals(128, n.offset(), 1e-12);
        assertEquals(256, n.scale(), 1e-12);
        assertEquals(n, Normalization.fullRange(8));
        assertEquals(new Normalizer(32768, 65536), Normalization.fullRange(16));
        assertThrows(IllegalArgumentException.class, () -> Normalization.fullRange(32));
    }

    @Test
    void robustPercentilesIgnoreRareOutliers() {
        float[] v = new float[10000];
        for (int i = 0; i < v.length; i++) v[i] = 100 + (i % 101);
        v[0] = 65535;
        v[1] = 0;
        ImageData d = new ImageData("o", 100, 100, 1, 16, List.of(v), null);
        Normalizer n = Normalization.fit(d, null);
        assertEquals((100 + 200 + 1) / 2.0, n.offset(), 1e-12, "percentiles 100 and 200");
        assertEquals(101, n.scale(), 1e-12);
        assertEquals(-0.5, n.normalize(100), 1e-6, "the dequantized range [100, 201) maps to [-0.5, 0.5)");
        assertEquals(0.5, n.normalize(201), 1e-6);
    }

    @Test
    void maskAndPlaneSelectionRestrictTheData() {
        float[] a = new float[] {0, 10, 20, 30};
        float[] b = new float[] {1000, 1000, 1000, 1000};
        ImageData d = new ImageData("m", 2, 2, 1, 32, List.of(a, b), null);
        boolean[] mask = {false, true, true, false};
        double[] p = Normalization.percentiles(d, new int[] {0}, mask, 0, 100);
        assertArrayEquals(new double[] {10, 20}, p);
        Normalizer n = Normalization.fit(d, new int[] {0}, mask, 0, 100);
        assertEquals(15, n.offset(), 1e-12);
        assertEquals(10, n.scale(), 1e-12);
        assertEquals(1, Normalization.fit(d, new int[] {1}, null, 0.1, 99.9).scale(), "constant float data get scale 1");
        assertThrows(IllegalArgumentException.class, () -> Normalization.fit(d, new int[] {0}, new boolean[4], 0.1, 99.9));
    }

    @Test
    void floatRampUsesNearestRankPercentiles() {
        ImageData d = ramp(32, 1001, -5f, 0.01f);
        double[] p = Normalization.percentiles(d, new int[] {0}, null, 0.1, 99.9);
        assertEquals(-5 + 0.01 * 1, p[0], 1e-5);
        assertEquals(-5 + 0.01 * 999, p[1], 1e-5);
    }

    @Test
    void normalizerArrayMapsInvertEachOther() {
        Normalizer n = new Normalizer(128, 256);
        float[] v = {0, 128, 255.5f};
        n.normalizeInPlace(v);
        assertArrayEquals(new float[] {-0.5f, 0f, 127.5f / 256}, v, 1e-7f);
        n.denormalizeInPlace(v);
        assertArrayEquals(new float[] {0, 128, 255.5f}, v, 1e-4f);
    }

    @Test
    void dequantizationModes() {
        float[] base = new float[1000];
        for (int i = 0; i < base.length; i++) base[i] = i % 7;
        float[] u1 = base.clone(), u2 = base.clone(), u3 = base.clone();
        Dequantization.training(8, 42).apply(u1);
        Dequantization.training(8, 42).apply(u2);
        Dequantization.training(8, 43).apply(u3);
        assertArrayEquals(u1, u2, "same seed, same noise");
        assertFalse(java.util.Arrays.equals(u1, u3), "another seed, other noise");
        double mean = 0;
        for (int i = 0; i < base.length; i++) {
            float u = u1[i] - base[i];
            assertTrue(u >= 0 && u < 1, "u in [0, 1): " + u);
            mean += u;
        }
        assertEquals(0.5, mean / base.length, 0.05);
        float[] mid = base.clone();
        Dequantization.evaluation(16).apply(mid);
        assertEquals(base[3] + 0.5f, mid[3]);
        float[] none = base.clone();
        Dequantization.training(32, 1).apply(none);
        assertArrayEquals(base, none);
        assertEquals(Dequantization.Mode.NONE, Dequantization.evaluation(32).mode());

        float[] q = {-1f, 3.99f, 4.0f, 300f, Float.NaN};
        Dequantization.quantize(q, 8);
        assertArrayEquals(new float[] {0, 3, 4, 255, 0}, q);
    }
}
