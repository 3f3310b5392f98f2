package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Line;
import ij.process.ColorProcessor;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageIOTest {

    @TempDir Path dir;

    /** A value that names its pixel, plane and channel, within 0..255. */
    private static float named(int p, int c, int y, int x) {
        return (p * 31 + c * 17 + y * 7 + x * 3) % 256;
    }

    private static ImageData namedData(int w, int h, int c, int bitDepth, int slices, int frames) {
        List<float[]> planes = new ArrayList<>();
        for (int p = 0; p < slices * frames; p++) {
            float[] a = new float[c * h * w];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) a[(ch * h + y) * w + x] = named(p, ch, y, x) + (bitDepth == 32 ? 0.25f : 0);
            planes.add(a);
        }
        return new ImageData("named", w, h, c, bitDepth, planes, new ImageData.Calibration(0.5, 0.25, 2, "um"), null, slices, frames);
    }

    private static void assertSamePixels(ImageData expected, ImageData actual) {
        assertEquals(expected.width(), actual.width(), "width");
        assertEquals(expected.height(), actual.height(), "height");
        assertEquals(expected.channels(), actual.channels(), "channels");
        assertEquals(expected.planeCount(), actual.planeCount(), "planes");
        int w = expected.width(), h = expected.height();
        for (int p = 0; p < expected.planeCount(); p++)
            for (int c = 0; c < expected.channels(); c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int i = (c * h + y) * w + x;
                        float e = expected.plane(p)[i], a = actual.plane(p)[i];
                        if (e != a) fail("pixel (plane " + p + ", c " + c + ", y " + y + ", x " + x + "): expected " + e + " but was " + a);
                    }
    }

    @Test
    void hyperstackRoundTripKeepsLayoutCalibrationAndPixels() {
        for (int bits : new int[] {8, 16, 32}) {
            ImageData d = namedData(5, 4, 2, bits, 3, 2);
            ImagePlus imp = ImagePlusBridge.toImagePlus(d, "t");
            assertEquals(2, imp.getNChannels());
            assertEquals(3, imp.getNSlices());
            assertEquals(2, imp.getNFrames());
            assertEquals(bits, imp.getBitDepth());
            assertEquals(0.5, imp.getCalibration().pixelWidth);
            assertEquals("um", imp.getCalibration().getUnit().replace("µ", "u").replace("micron", "um"));
            ImageData back = ImagePlusBridge.toImageData(imp, false);
            assertSamePixels(d, back);
            assertEquals(3, back.slices());
            assertEquals(2, back.frames());
            assertEquals(bits, back.bitDepth());
            assertEquals(0.25, back.calibration().pixelHeight());
        }
    }

    @Test
    void integerOutputIsRoundedAndClamped() {
        float[] v = {-3f, 0.4f, 0.6f, 254.5f, 300f, 70000f};
        ImageData d8 = new ImageData("v", 6, 1, 1, 8, List.of(v.clone()), null);
        ImageData d16 = new ImageData("v", 6, 1, 1, 16, List.of(v.clone()), null);
        assertArrayEquals(new float[] {0, 0, 1, 255, 255, 255}, ImagePlusBridge.toImageData(ImagePlusBridge.toImagePlus(d8, "a"), false).plane(0));
        assertArrayEquals(new float[] {0, 0, 1, 255, 300, 65535}, ImagePlusBridge.toImageData(ImagePlusBridge.toImagePlus(d16, "a"), false).plane(0));
    }

    @Test
    void rgbBecomesThreeChannels() {
        ColorProcessor cp = new ColorProcessor(2, 1);
        cp.set(0, 0, (10 << 16) | (20 << 8) | 30);
        cp.set(1, 0, (200 << 16) | (100 << 8) | 50);
        ImageData d = ImagePlusBridge.toImageData(new ImagePlus("rgb", cp), false);
        assertEquals(3, d.channels());
        assertEquals(8, d.bitDepth());
        assertArrayEquals(new float[] {10, 200, 20, 100, 30, 50}, d.plane(0));
    }

    @Test
    void roiBecomesMaskAndMissingRoiIsAnError() {
        ImagePlus imp = ImagePlusBridge.toImagePlus(namedData(20, 10, 1, 8, 1, 1), "roi");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImagePlusBridge.toImageData(imp, true));
        assertTrue(e.getMessage().contains("no area selection"), e.getMessage());
        imp.setRoi(new Line(0, 0, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> ImagePlusBridge.toImageData(imp, true));
        imp.setRoi(new OvalRoi(2, 1, 10, 6));
        boolean[] m = ImagePlusBridge.toImageData(imp, true).mask();
        assertTrue(m[4 * 20 + 7], "centre of the oval is in the mask");
        assertFalse(m[0], "corner is outside");
        assertFalse(m[4 * 20 + 15], "right of the oval is outside");
    }

    /** An image built from bands of rows, later planes first, holds what the whole planes give. */
    @Test
    void stackBuilderPutsBandsInPlace() {
        for (int bits : new int[] {8, 16, 32}) {
            ImageData d = namedData(7, 5, 2, bits, 3, 1);
            ImagePlusBridge.StackBuilder b = new ImagePlusBridge.StackBuilder(7, 5, 2, 3, bits);
            for (int p = 2; p >= 0; p--) {
                // rows 3..4, then 0..2, each band as [C, rows, W]
                for (int[] band : new int[][] {{3, 2}, {0, 3}}) {
                    float[] rows = new float[2 * band[1] * 7];
                    for (int c = 0; c < 2; c++) {
                        System.arraycopy(d.plane(p), (c * 5 + band[0]) * 7, rows, c * band[1] * 7, band[1] * 7);
                    }
                    b.rows(p, band[0], band[1], rows);
                }
            }
            ImagePlus imp = b.image("bands", 3, 1, d.calibration());
            assertSamePixels(d, ImagePlusBridge.toImageData(imp, false));
            assertEquals(bits, imp.getBitDepth());
            assertEquals(2, imp.getNChannels());
            assertEquals(3, imp.getNSlices());
            assertEquals(0.5, imp.getCalibration().pixelWidth, 1e-12);
        }
    }

    /**
     * The streaming TIFF writer, rows put in place in any order, reads back as the same hyperstack
     * (channels, slices, frames, bit depth, calibration, pixels) for every bit depth.
     */
    @Test
    void tiffStackWriterPutsRowsInPlace() throws IOException {
        for (int bits : new int[] {8, 16, 32}) {
            ImageData d = namedData(7, 5, 2, bits, 3, 2);
            Path f = dir.resolve("streamed" + bits + ".tif");
            try (TiffStackWriter writer = new TiffStackWriter(f, 7, 5, 2, 3, 2, bits, d.calibration())) {
                // the images backwards, each in two parts: rows 2..4, then 0..1
                for (int p = d.planeCount() - 1; p >= 0; p--) {
                    for (int c = 0; c < 2; c++) {
                        writer.writeRows(p * 2 + c, 2, d.plane(p), (c * 5 + 2) * 7, 3);
                        writer.writeRows(p * 2 + c, 0, d.plane(p), c * 5 * 7, 2);
                    }
                }
                writer.commit();
            }
            ImageData back = ImageIO.read(f);
            assertSamePixels(d, back);
            assertEquals(bits, back.bitDepth());
            assertEquals(3, back.slices());
            assertEquals(2, back.frames());
            assertEquals(0.25, back.calibration().pixelHeight(), 1e-12);
            assertEquals("\u00B5m", back.calibration().unit(), "the unit (ImageJ spells um as µm)");
            if (Files.getFileStore(f).supportsFileAttributeView("posix")) {
                Path reference = Files.createFile(dir.resolve("reference"));
                assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(f),
                        "written with the permissions of any new file, not those of a private temporary file");
                Files.delete(reference);
            }
        }
        Path unfinished = dir.resolve("unfinished.tif");
        try (TiffStackWriter writer = new TiffStackWriter(unfinished, 7, 5, 1, 2, 1, 16, null)) {
            writer.writeRows(0, 0, new float[35], 0, 5);
            assertThrows(IllegalStateException.class, writer::commit, "a file with rows missing was committed");
        }
        assertFalse(Files.exists(unfinished), "an unfinished file was left");
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "a temporary file was left");
        }
    }

    @Test
    void tiffWriteReadRoundTripIsAtomic() throws IOException {
        ImageData d = namedData(7, 5, 3, 16, 2, 3);
        Path f = dir.resolve("stack.tif");
        ImageIO.writeTiff(d, f);
        ImageData back = ImageIO.read(f);
        assertSamePixels(d, back);
        assertEquals(16, back.bitDepth());
        assertEquals(2, back.slices());
        assertEquals(3, back.frames());
        assertEquals(0.5, back.calibration().pixelWidth(), 1e-12);
        assertEquals(2.0, back.calibration().pixelDepth(), 1e-12);
        try (var s = Files.list(dir)) {
            assertEquals(List.of("stack.tif"), s.map(p -> p.getFileName().toString()).toList(), "no temporary files left");
        }
        Path blocked = dir.resolve("blocked.tif");
        Files.createDirectories(blocked.resolve("inside"));
        assertThrows(IOException.class, () -> ImageIO.writeTiff(d, blocked), "a non-empty folder cannot be replaced");
        assertTrue(Files.isDirectory(blocked.resolve("inside")), "the existing target is untouched");
        try (var s = Files.list(dir)) {
            assertEquals(List.of("blocked.tif", "stack.tif"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file left after a failed write");
        }
        if (Files.getFileStore(f).supportsFileAttributeView("posix")) {
            Path reference = Files.createFile(dir.resolve("reference"));
            assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(f),
                    "written with the permissions of any new file, not those of a private temporary file");
            Files.delete(reference);
        }
        IOException e = assertThrows(IOException.class, () -> ImageIO.writeTiff(d, dir.resolve("missing/x.tif")));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void singlePlaneFloatAndPngRead() throws IOException {
        ImageData d = namedData(6, 4, 1, 32, 1, 1);
        Path f = dir.resolve("one.tif");
        ImageIO.writeTiff(d, f);
        assertSamePixels(d, ImageIO.read(f));
        ImageData d8 = namedData(6, 4, 1, 8, 1, 1);
        Path png = dir.resolve("one.png");
        assertTrue(new ij.io.FileSaver(ImagePlusBridge.toImagePlus(d8, "p")).saveAsPng(png.toString()));
        ImageData back = ImageIO.read(png);
        assertEquals(8, back.bitDepth());
        assertSamePixels(d8, back);
    }

    @Test
    void readAllConcatenatesAndRejectsMismatches() throws IOException {
        Path a = dir.resolve("a.tif"), b = dir.resolve("b.tif"), c = dir.resolve("c.tif");
        ImageIO.writeTiff(namedData(6, 4, 1, 8, 2, 1), a);
        ImageIO.writeTiff(namedData(6, 4, 1, 8, 3, 1), b);
        ImageIO.writeTiff(namedData(6, 5, 1, 8, 1, 1), c);
        ImageData all = ImageIO.readAll(List.of(a, b));
        assertEquals(5, all.planeCount());
        assertEquals(named(2, 0, 1, 1), all.plane(4)[6 + 1]);
        IOException e = assertThrows(IOException.class, () -> ImageIO.readAll(List.of(a, c)));
        assertTrue(e.getMessage().contains("c.tif") && e.getMessage().contains("same size"), e.getMessage());
    }

    @Test
    void unreadableFilesGiveClearErrors() throws IOException {
        Path missing = dir.resolve("nope.tif");
        IOException e1 = assertThrows(IOException.class, () -> ImageIO.read(missing));
        assertTrue(e1.getMessage().contains("nope.tif") && e1.getMessage().contains("does not exist"), e1.getMessage());
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        IOException e2 = assertThrows(IOException.class, () -> ImageIO.read(text));
        assertTrue(e2.getMessage().contains("notes.txt"), e2.getMessage());
        Path good = dir.resolve("good.tif");
        ImageIO.writeTiff(namedData(64, 64, 1, 16, 4, 1), good);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.tif");
        Files.write(cut, java.util.Arrays.copyOf(bytes, 300));
        IOException e3 = assertThrows(IOException.class, () -> ImageIO.read(cut));
        assertTrue(e3.getMessage().contains("cut.tif"), e3.getMessage());
        Path junk = dir.resolve("junk.tif");
        Files.write(junk, new byte[] {'I', 'I', 42, 0, 1, 2, 3, 4, 5});
        IOException e4 = assertThrows(IOException.class, () -> ImageIO.read(junk));
        assertTrue(e4.getMessage().contains("junk.tif"), e4.getMessage());
    }

    private static byte[] idx(int magic, int n, int h, int w, int bytesToWrite) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bo);
        out.writeInt(magic);
        out.writeInt(n);
        out.writeInt(h);
        out.writeInt(w);
        for (int i = 0; i < bytesToWrite; i++) out.writeByte(i % 251);
        return bo.toByteArray();
    }

    @Test
    void idxReaderReadsPlainAndGzipFilesWithLimit() throws IOException {
        byte[] data = idx(IdxReader.IMAGE_MAGIC, 3, 2, 4, 24);
        Path plain = dir.resolve("tiny-idx3-ubyte");
        Files.write(plain, data);
        Path gz = dir.resolve("tiny-idx3-ubyte.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(data);
        }
        for (Path p : List.of(plain, gz)) {
            ImageData d = ImageIO.read(p);
            assertEquals(3, d.planeCount());
            assertEquals(4, d.width());
            assertEquals(2, d.height());
            assertEquals(8, d.bitDepth());
            assertEquals(1, d.channels());
            assertEquals(8 + 5, d.plane(1)[5], "plane 1, y 1, x 1");
        }
        assertEquals(2, IdxReader.read(gz, 2).planeCount());
    }

    @Test
    void idxReaderRejectsWrongMagicAndTruncation() throws IOException {
        Path labels = dir.resolve("labels-idx3-ubyte");
        Files.write(labels, idx(0x00000801, 3, 2, 4, 3));
        IOException e1 = assertThrows(IOException.class, () -> IdxReader.read(labels));
        assertTrue(e1.getMessage().contains("magic") && e1.getMessage().contains("labels-idx3-ubyte"), e1.getMessage());
        Path cut = dir.resolve("cut-idx3-ubyte");
        Files.write(cut, idx(IdxReader.IMAGE_MAGIC, 3, 2, 4, 20));
        IOException e2 = assertThrows(IOException.class, () -> IdxReader.read(cut));
        assertTrue(e2.getMessage().contains("truncated") && e2.getMessage().contains("image 3"), e2.getMessage());
        assertEquals(2, IdxReader.read(cut, 2).planeCount(), "the complete images before the cut can still be read");
    }

    @Test
    void fashionMnistWhenInstalled() throws IOException {
        Path f = Path.of("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(f), "Fashion-MNIST is not installed");
        ImageData d = IdxReader.read(f, 100);
        assertEquals(100, d.planeCount());
        assertEquals(28, d.width());
        assertEquals(28, d.height());
        double sum = 0;
        float max = 0;
        for (float[] p : d.planes()) for (float v : p) { sum += v; max = Math.max(max, v); }
        assertEquals(255, max, "Fashion-MNIST uses the full 8-bit range");
        double mean = sum / (100.0 * 784);
        assertTrue(mean > 40 && mean < 110, "mean intensity " + mean);
    }
}
