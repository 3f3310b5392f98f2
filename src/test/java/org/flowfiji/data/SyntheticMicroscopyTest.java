package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticMicroscopyTest {

    @TempDir Path dir;

    @Test
    void sameSeedSamePixelsOtherSeedOtherPixels() {
        ImageData a = SyntheticMicroscopy.trainStack(2, 64, 42);
        ImageData b = SyntheticMicroscopy.trainStack(2, 64, 42);
        ImageData c = SyntheticMicroscopy.trainStack(2, 64, 43);
        assertArrayEquals(a.plane(1), b.plane(1));
        assertFalse(java.util.Arrays.equals(a.plane(1), c.plane(1)));
    }

    @Test
    void trainImagesLookLikeNucleiOnANoisyBackground() {
        ImageData d = SyntheticMicroscopy.trainStack(4, 128, 7);
        assertEquals(16, d.bitDepth());
        assertEquals(1, d.channels());
        assertEquals(SyntheticMicroscopy.PIXEL_SIZE_UM, d.calibration().pixelWidth());
        for (float[] p : d.planes()) {
            float[] sorted = p.clone();
            java.util.Arrays.sort(sorted);
            float background = sorted[sorted.length / 10];
            float bright = sorted[sorted.length * 99 / 100];
            assertTrue(background > 110 && background < 260, "background level " + background);
            assertTrue(bright > background + 400, "nuclei much brighter than background: " + bright);
            int nuclear = 0;
            for (float v : p) {
                assertEquals(Math.rint(v), v, "integer values");
                assertTrue(v >= 0 && v <= 65535);
                if (v > background + 250) nuclear++;
            }
            double fraction = nuclear / (double) p.length;
            assertTrue(fraction > 0.08 && fraction < 0.5, "nuclear area fraction " + fraction);
            double noise = 0;
            for (int i = 1; i < 128 * 10; i++) noise += Math.abs(p[i] - p[i - 1]);
            assertTrue(noise / (128 * 10) > 2, "pixels are noisy, not smooth");
        }
    }

    @Test
    void testStackHasAnomaliesAndAMatchingMask() {
        SyntheticMicroscopy.TestStack t = SyntheticMicroscopy.testStack(6, 128, 42);
        assertEquals(8, t.anomalyMask().bitDepth());
        assertEquals(6, t.anomalyMask().planeCount());
        for (int p = 0; p < 6; p++) {
            int marked = 0;
            for (float v : t.anomalyMask().plane(p)) {
                assertTrue(v == 0 || v == 255, "mask is binary");
                if (v == 255) marked++;
            }
            if (p == 0) assertEquals(0, marked, "plane 0 is the clean control");
            else assertTrue(marked > 20 && marked < 128 * 128 / 2, "plane " + p + " marks " + marked + " pixels");
        }
        float max = 0;
        float[] image = t.image().plane(1), mask = t.anomalyMask().plane(1);
        for (int i = 0; i < image.length; i++) if (mask[i] == 255) max = Math.max(max, image[i]);
        assertTrue(max > 2500, "debris specks are bright: " + max);
    }

    @Test
    void generateWritesTheThreeSampleFiles() throws IOException {
        SyntheticMicroscopy.generate(dir, 3);
        ImageData train = ImageIO.read(dir.resolve("train.tif"));
        ImageData test = ImageIO.read(dir.resolve("test.tif"));
        ImageData mask = ImageIO.read(dir.resolve("test-anomaly-mask.tif"));
        assertEquals(SyntheticMicroscopy.TRAIN_PLANES, train.planeCount());
        assertEquals(SyntheticMicroscopy.TEST_PLANES, test.planeCount());
        assertEquals(SyntheticMicroscopy.TEST_PLANES, mask.planeCount());
        assertEquals(16, test.bitDepth());
        assertEquals(8, mask.bitDepth());
        assertEquals(128, train.width());
        assertEquals(SyntheticMicroscopy.PIXEL_SIZE_UM, train.calibration().pixelWidth(), 1e-6, "TIFF stores the resolution as a rational");
        assertArrayEquals(SyntheticMicroscopy.trainStack(1, 128, 3).plane(0), train.plane(0), "the files hold the generator's pixels");
    }

    @Test
    void committedSampleImagesAreWhatSeed42Makes() throws IOException {
        Path folder = Path.of("sample-images");
        ImageData train = ImageIO.read(folder.resolve("train.tif"));
        ImageData test = ImageIO.read(folder.resolve("test.tif"));
        ImageData mask = ImageIO.read(folder.resolve("test-anomaly-mask.tif"));
        ImageData expectedTrain = SyntheticMicroscopy.trainStack(SyntheticMicroscopy.TRAIN_PLANES, SyntheticMicroscopy.SIZE, 42);
        SyntheticMicroscopy.TestStack expectedTest = SyntheticMicroscopy.testStack(SyntheticMicroscopy.TEST_PLANES, SyntheticMicroscopy.SIZE, 42);
        for (int p = 0; p < train.planeCount(); p++) assertArrayEquals(expectedTrain.plane(p), train.plane(p), "train.tif plane " + (p + 1));
        for (int p = 0; p < test.planeCount(); p++) {
            assertArrayEquals(expectedTest.image().plane(p), test.plane(p), "test.tif plane " + (p + 1));
            assertArrayEquals(expectedTest.anomalyMask().plane(p), mask.plane(p), "test-anomaly-mask.tif plane " + (p + 1));
        }
    }
}
