package org.flowfiji.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.flowfiji.data.ImageData;
import org.junit.jupiter.api.Test;

class GenericImagesTest {

    @Test
    void seededSixteenBitAndVaried() {
        ImageData a = GenericImages.stack(6, 64, 7);
        ImageData b = GenericImages.stack(6, 64, 7);
        assertEquals(16, a.bitDepth());
        assertEquals(1, a.channels());
        assertEquals(6, a.planeCount());
        double[] means = new double[6];
        for (int p = 0; p < 6; p++) {
            assertArrayEquals(a.plane(p), b.plane(p), "same seed, same pixels");
            double sum = 0;
            for (float v : a.plane(p)) {
                assertTrue(v >= 0 && v <= 65535 && v == Math.rint(v), "16-bit integer values");
                sum += v;
            }
            means[p] = sum / a.plane(p).length;
        }
        double lo = Double.MAX_VALUE, hi = 0;
        for (double m : means) {
            lo = Math.min(lo, m);
            hi = Math.max(hi, m);
        }
        assertTrue(hi > 1.5 * lo, "planes differ in brightness: " + lo + " .. " + hi);
        assertFalse(java.util.Arrays.equals(a.plane(0), GenericImages.stack(1, 64, 8).plane(0)), "seed matters");
        assertThrows(IllegalArgumentException.class, () -> GenericImages.stack(0, 64, 1));
    }

    @Test
    void mirrorIndexStaysInside() {
        for (int n = 1; n < 5; n++) {
            for (int i = -20; i < 20; i++) {
                int m = Filters.mirror(i, n);
                assertTrue(m >= 0 && m < n);
            }
        }
        assertEquals(1, Filters.mirror(-1, 5));
        assertEquals(3, Filters.mirror(5, 5));
    }

    @Test
    void gaussianKeepsTheMean() {
        float[] p = new float[32 * 32];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < p.length; i++) p[i] = (float) r.nextDouble(100);
        float[] q = Filters.gaussian(p, 32, 32, 2);
        double sp = 0, sq = 0;
        for (int i = 0; i < p.length; i++) {
            sp += p[i];
            sq += q[i];
        }
        assertEquals(sp / p.length, sq / q.length, 1.5);
    }
}
