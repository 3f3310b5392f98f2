package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PatchSamplerTest {

    /** Pixel value naming plane, channel, row and column: unique in the test images. */
    private static float named(int p, int c, int y, int x) {
        return p * 1_000_000 + c * 100_000 + y * 1000 + x;
    }

    private static ImageData image(int w, int h, int c, int planes) {
        List<float[]> list = new ArrayList<>();
        for (int p = 0; p < planes; p++) {
            float[] a = new float[c * h * w];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) a[(ch * h + y) * w + x] = named(p, ch, y, x);
            list.add(a);
        }
        return new ImageData("named", w, h, c, 32, list, null);
    }

    /** The (plane, x0, y0, symmetry) that explains a patch, checking every value; fails when none does. */
    private static int[] explain(float[] batch, int b, int c, int p) {
        int off = b * c * p * p;
        for (int s = 0; s < 8; s++) {
            float v00 = batch[off];
            int plane = (int) (v00 / 1_000_000);
            int y = (int) ((v00 % 100_000) / 1000);
            int x = (int) (v00 % 1000);
            // the output corner (0, 0) reads window row a, column bb; undo that to find (x0, y0)
            boolean tr = (s & 4) != 0;
            int a = (s & 2) != 0 ? p - 1 : 0;
            int bb = (s & 1) != 0 ? p - 1 : 0;
            int y0 = y - a, x0 = x - bb;
            boolean ok = true;
            for (int ch = 0; ch < c && ok; ch++)
                for (int r = 0; r < p && ok; r++)
                    for (int q = 0; q < p && ok; q++) {
                        int sa = tr ? q : r, sb = tr ? r : q;
                        if ((s & 2) != 0) sa = p - 1 - sa;
                        if ((s & 1) != 0) sb = p - 1 - sb;
                        ok = batch[off + (ch * p + r) * p + q] == named(plane, ch, y0 + sa, x0 + sb);
                    }
            if (ok) return new int[] {plane, x0, y0, s};
        }
        fail("patch " + b + " is not a window of the image under any symmetry of the square");
        return null;
    }

    @Test
    void patchesAreWindowsOfTheRequestedPlanesAndRegion() {
        ImageData d = image(30, 20, 2, 4);
        Region region = new Region(5, 3, 20, 12);
        PatchSampler s = new PatchSampler(d, new int[] {1, 3}, region, null, 8, false, 7);
        float[] batch = s.sample(50);
        Set<Integer> planes = new HashSet<>();
        for (int b = 0; b < 50; b++) {
            int[] e = explain(batch, b, 2, 8);
            assertEquals(0, e[3], "no augmentation: identity");
            planes.add(e[0]);
            assertTrue(region.contains(e[1], e[2]) && region.contains(e[1] + 7, e[2] + 7), "patch inside the region: " + e[1] + "," + e[2]);
        }
        assertEquals(Set.of(1, 3), planes);
        assertArrayEquals(batch, new PatchSampler(d, new int[] {1, 3}, region, null, 8, false, 7).sample(50), "same seed, same patches");
    }

    @Test
    void augmentationUsesAllEightSymmetries() {
        ImageData d = image(16, 16, 1, 1);
        PatchSampler s = new PatchSampler(d, new int[] {0}, null, null, 5, true, 3);
        float[] batch = s.sample(200);
        Set<Integer> seen = new HashSet<>();
        for (int b = 0; b < 200; b++) seen.add(explain(batch, b, 1, 5)[3]);
        assertEquals(8, seen.size(), "symmetries seen: " + seen);
    }

    @Test
    void maskRestrictsPatchCentres() {
        ImageData d = image(40, 40, 1, 1);
        boolean[] mask = new boolean[40 * 40];
        for (int y = 20; y < 26; y++) for (int x = 10; x < 14; x++) mask[y * 40 + x] = true;
        PatchSampler s = new PatchSampler(d, new int[] {0}, null, mask, 8, false, 11);
        assertEquals(24, s.eligibleCount());
        float[] batch = s.sample(40);
        for (int b = 0; b < 40; b++) {
            int[] e = explain(batch, b, 1, 8);
            assertTrue(mask[(e[2] + 4) * 40 + e[1] + 4], "centre in the mask");
        }
        boolean[] tiny = new boolean[40 * 40];
        tiny[0] = true;
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new PatchSampler(d, new int[] {0}, null, tiny, 8, false, 1));
        assertTrue(ex.getMessage().contains("selection"), ex.getMessage());
    }

    @Test
    void tooLargePatchIsAClearError() {
        ImageData d = image(28, 28, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PatchSampler(d, new int[] {0}, null, null, 64, true, 1));
        assertEquals("patch size 64 is larger than the image 28x28: choose a patch size <= 28", e.getMessage());
    }

    @Test
    void gridPatchesDoNotOverlapAndRespectTheLimit() {
        ImageData d = image(33, 17, 1, 2);
        PatchSampler s = new PatchSampler(d, new int[] {0, 1}, null, null, 8, true, 1);
        float[] g = s.grid(100);
        int n = g.length / s.patchLength();
        assertEquals(2 * 4 * 2, n, "4 x 2 grid cells in each of 2 planes");
        Set<String> cells = new HashSet<>();
        for (int b = 0; b < n; b++) {
            int[] e = explain(g, b, 1, 8);
            assertEquals(0, e[3]);
            assertEquals(0, e[1] % 8);
            assertEquals(0, e[2] % 8);
            assertTrue(cells.add(e[0] + ":" + e[1] + ":" + e[2]), "distinct cells");
        }
        assertEquals(5, s.grid(5).length / s.patchLength());
    }

    @Test
    void multiPlaneSplitHoldsOutWholePlanes() {
        ImageData d = image(10, 10, 1, 10);
        ValidationSplit a = ValidationSplit.of(d, null, 0.2, 4, 5);
        assertEquals(2, a.validationPlanes().length);
        assertEquals(8, a.trainPlanes().length);
        Set<Integer> all = new HashSet<>();
        for (int p : a.trainPlanes()) all.add(p);
        for (int p : a.validationPlanes()) assertTrue(all.add(p), "plane " + p + " on both sides");
        assertEquals(10, all.size());
        ValidationSplit b = ValidationSplit.of(d, null, 0.2, 4, 5);
        assertArrayEquals(a.validationPlanes(), b.validationPlanes(), "deterministic");
        ImageData two = image(10, 10, 1, 2);
        ValidationSplit t = ValidationSplit.of(two, null, 0.01, 4, 1);
        assertEquals(1, t.validationPlanes().length, "at least one validation plane");
        assertEquals(1, t.trainPlanes().length, "at least one training plane");
        ValidationSplit none = ValidationSplit.of(d, null, 0, 4, 1);
        assertFalse(none.hasValidation());
        assertEquals(10, none.trainPlanes().length);
    }

    @Test
    void singlePlaneSplitHoldsOutABandThatTrainingNeverTouches() {
        ImageData d = image(64, 100, 1, 1);
        ValidationSplit s = ValidationSplit.of(d, null, 0.2, 16, 9);
        assertTrue(s.hasValidation());
        assertFalse(s.trainRegion().overlaps(s.validationRegion()));
        assertEquals(20, s.validationRegion().height());
        assertEquals(64, s.validationRegion().width());
        PatchSampler train = new PatchSampler(d, s.trainPlanes(), s.trainRegion(), null, 16, true, 2);
        float[] batch = train.sample(100);
        for (int b = 0; b < 100; b++) {
            int[] e = explain(batch, b, 1, 16);
            assertFalse(new Region(e[1], e[2], 16, 16).overlaps(s.validationRegion()), "training patch overlaps validation");
        }
        PatchSampler val = new PatchSampler(d, s.validationPlanes(), s.validationRegion(), null, 16, false, 2);
        assertTrue(val.grid(10).length > 0);
        ImageData wide = image(100, 40, 1, 1);
        ValidationSplit w = ValidationSplit.of(wide, null, 0.2, 16, 9);
        assertEquals(40, w.validationRegion().height(), "a wide plane holds out columns");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ValidationSplit.of(image(28, 28, 1, 1), null, 0.1, 16, 1));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
    }
}
