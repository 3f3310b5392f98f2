package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class TilerTest {

    private static float[] named(int w, int h, int c) {
        float[] a = new float[c * h * w];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) a[(ch * h + y) * w + x] = ch * 100_000 + y * 300 + x;
        return a;
    }

    private static void identityRoundTrip(int w, int h, int c, int t, int m, int mult) {
        Tiler tiler = new Tiler(w, h, t, m, mult);
        assertEquals(0, tiler.inputWidth() % mult);
        assertEquals(0, tiler.inputHeight() % mult);
        float[] image = named(w, h, c);
        float[] out = new float[image.length];
        java.util.Arrays.fill(out, Float.NaN);
        int[] writes = new int[w * h];
        int batch = tiler.tiles().size();
        float[] inputs = new float[batch * c * tiler.inputHeight() * tiler.inputWidth()];
        int per = c * tiler.inputHeight() * tiler.inputWidth();
        for (Tiler.Tile tile : tiler.tiles()) tiler.extract(image, c, tile, inputs, tile.index() * per);
        for (Tiler.Tile tile : tiler.tiles()) {
            tiler.stitch(inputs, tile.index() * per, c, tile, out);
            Region r = tile.write();
            for (int y = r.y(); y < r.y() + r.height(); y++)
                for (int x = r.x(); x < r.x() + r.width(); x++) {
                    writes[y * w + x]++;
                    boolean leftOk = x - tile.inputX() >= m || tile.inputX() < 0;
                    boolean topOk = y - tile.inputY() >= m || tile.inputY() < 0;
                    boolean rightOk = tile.inputX() + tiler.inputWidth() - 1 - x >= m || tile.inputX() + tiler.inputWidth() > w;
                    boolean bottomOk = tile.inputY() + tiler.inputHeight() - 1 - y >= m || tile.inputY() + tiler.inputHeight() > h;
                    assertTrue(leftOk && topOk && rightOk && bottomOk, "pixel (" + x + ", " + y + ") has its margin in tile " + tile);
                }
        }
        for (int i = 0; i < w * h; i++) assertEquals(1, writes[i], "pixel (" + i % w + ", " + i / w + ") written once");
        for (int i = 0; i < image.length; i++)
            if (image[i] != out[i]) fail("element " + i + " (c " + i / (w * h) + ", y " + (i / w) % h + ", x " + i % w + "): expected " + image[i] + " but was " + out[i]);
    }

    @Test
    void identityModelReproducesAwkwardImagesExactly() {
        identityRoundTrip(37, 53, 1, 16, 4, 8);
        identityRoundTrip(37, 53, 2, 16, 4, 16);
        identityRoundTrip(64, 64, 1, 32, 0, 32);
        identityRoundTrip(5, 7, 3, 16, 6, 4);
        identityRoundTrip(1, 9, 1, 8, 3, 8);
    }

    @Test
    void bordersAreMirroredWithoutRepeatingTheEdge() {
        assertEquals(1, Tiler.mirror(-1, 10));
        assertEquals(2, Tiler.mirror(-2, 10));
        assertEquals(8, Tiler.mirror(10, 10));
        assertEquals(0, Tiler.mirror(18, 10));
        assertEquals(1, Tiler.mirror(-7, 4), "mirrored again past the far edge");
        Tiler tiler = new Tiler(20, 20, 8, 2, 4);
        Tiler.Tile first = tiler.tiles().get(0);
        assertEquals(-2, first.inputX());
        float[] image = named(20, 20, 1);
        float[] in = tiler.extract(image, 1, first);
        assertEquals(12, tiler.inputWidth());
        assertEquals(image[2 * 20 + 2], in[0], "input (0, 0) is image (2, 2)");
        assertEquals(image[2 * 20 + 1], in[1], "input (0, 1) is image (1, 2)");
        assertEquals(image[0], in[2 * 12 + 2], "input (2, 2) is image (0, 0)");
    }

    @Test
    void invalidSizesAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Tiler(100, 100, 30, 4, 8));
        assertTrue(e.getMessage().contains("use 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Tiler(100, 100, 32, -1, 8));
        Tiler t = new Tiler(10, 10, 8, 1, 8);
        assertThrows(IllegalArgumentException.class, () -> t.extract(new float[99], 1, t.tiles().get(0)));
    }
}
