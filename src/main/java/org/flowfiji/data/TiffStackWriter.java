package org.flowfiji.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes an 8-bit, 16-bit or 32-bit float (hyper)stack to a TIFF file in rows, so that an output
 * larger than memory never has to be held whole. The file is ImageJ-compatible (its description
 * carries the image count, C/Z/T layout and unit; the resolution tags the pixel size) and a plain
 * multi-page TIFF for other readers (one IFD per image, images in ImageJ's order: channels
 * fastest, then slices, then frames).
 *
 * <p>Layout: header, the first IFD, then all pixel data contiguous (big-endian), then the
 * remaining IFDs. Rows are appended in file order ({@link #writeRows(float[], int, int)}) or put
 * in place ({@link #writeRows(int, int, float[], int, int)}). The file is written under a
 * temporary name in the target's folder and renamed by {@link #commit()}; closing without a commit
 * deletes it, so a failed or cancelled run leaves nothing behind. Files are limited to 4 GiB
 * (classic TIFF offsets).
 */
public final class TiffStackWriter implements AutoCloseable {

    private static final int ENTRIES = 15;
    private static final int IFD_SIZE = 2 + ENTRIES * 12 + 4;

    private final Path target;
    private final Path tmp;
    private final FileChannel ch;
    private final int width;
    private final int height;
    private final int images;
    private final int bitDepth;
    private final int bytesPerPixel;
    private final long dataStart;
    private final byte[] description;
    private final long[] resolution;
    private long rowsWritten;
    private boolean committed;

    /** A 32-bit float stack of {@code slices} x {@code frames} images of one channel. */
    public TiffStackWriter(Path target, int width, int height, int slices, int frames, ImageData.Calibration calibration)
            throws IOException {
        this(target, width, height, 1, slices, frames, 32, calibration);
    }

    /**
     * @param target the file to write
     * @param width image width
     * @param height image height
     * @param channels C planes per slice
     * @param slices Z planes
     * @param frames T planes (images = channels * slices * frames)
     * @param bitDepth 8, 16 (unsigned integers: values are rounded and clamped to the range) or 32 (floats)
     * @param calibration pixel size and unit, or null
     */
    public TiffStackWriter(Path target, int width, int height, int channels, int slices, int frames, int bitDepth,
                           ImageData.Calibration calibration) throws IOException {
        if (bitDepth != 8 && bitDepth != 16 && bitDepth != 32) {
            throw new IllegalArgumentException("TIFF bit depth must be 8, 16 or 32, got " + bitDepth);
        }
        this.target = target.toAbsolutePath();
        this.width = width;
        this.height = height;
        this.images = channels * slices * frames;
        this.bitDepth = bitDepth;
        this.bytesPerPixel = bitDepth / 8;
        long bytes = (long) width * height * bytesPerPixel * images;
        if (bytes + (long) images * IFD_SIZE + 4096 > 0xFFFF_FFFFL) {
            throw new IOException("output " + target + " would exceed 4 GiB (" + bytes + " bytes of pixels): "
                    + "write fewer or smaller images at a time");
        }
        ImageData.Calibration cal = calibration == null ? ImageData.Calibration.NONE : calibration;
        StringBuilder d = new StringBuilder("ImageJ=1.54p\nimages=").append(images).append('\n');
        if (channels > 1) d.append("channels=").append(channels).append('\n');
        if (slices > 1) d.append("slices=").append(slices).append('\n');
        if (frames > 1) d.append("frames=").append(frames).append('\n');
        if ((channels > 1 ? 1 : 0) + (slices > 1 ? 1 : 0) + (frames > 1 ? 1 : 0) > 1) d.append("hyperstack=true\n");
        if (channels > 1) d.append("mode=composite\n");
        if (cal.unit() != null && !cal.unit().equals("pixel")) {
            d.append("unit=").append(cal.unit()).append('\n');
            if (slices > 1) d.append("spacing=").append(cal.pixelDepth()).append('\n');
        }
        d.append("loop=false\n");
        this.description = (d + "\0").getBytes(StandardCharsets.US_ASCII);
        this.resolution = new long[] {rational(cal.pixelWidth()), rational(cal.pixelHeight())};
        Path dir = this.target.getParent();
        Files.createDirectories(dir);
        // a new file (not a temporary file, which would be private to the user): the output gets the
        // permissions of any new file in that folder
        this.tmp = dir.resolve("." + this.target.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".part");
        this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        long extra = 8 + IFD_SIZE + description.length + 16;
        this.dataStart = (extra + 7) & ~7L;
        ByteBuffer head = ByteBuffer.allocate((int) dataStart).order(ByteOrder.BIG_ENDIAN);
        head.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        long descOffset = 8 + IFD_SIZE;
        long resOffset = descOffset + description.length;
        long nextIfd = images > 1 ? dataStart + bytes : 0;
        putIfd(head, 0, descOffset, resOffset, nextIfd);
        head.put(description);
        head.putInt((int) (1_000_000L)).putInt((int) resolution[0]);
        head.putInt((int) (1_000_000L)).putInt((int) resolution[1]);
        head.position((int) dataStart).flip();
        head.limit((int) dataStart);
        while (head.hasRemaining()) ch.write(head);
    }

    /** Denominator of the rational 1e6 / d giving 1 / pixel size. */
    private static long rational(double pixelSize) {
        double p = pixelSize > 0 && Double.isFinite(pixelSize) ? pixelSize : 1;
        return Math.max(1, Math.min(0x7FFF_FFFFL, Math.round(p * 1_000_000)));
    }

    private void putIfd(ByteBuffer b, int image, long descOffset, long resOffset, long next) {
        long strip = dataStart + (long) image * width * height * bytesPerPixel;
        b.putShort((short) ENTRIES);
        entry(b, 254, 4, 1, 0);
        entry(b, 256, 4, 1, width);
        entry(b, 257, 4, 1, height);
        entry(b, 258, 3, 1, (long) bitDepth << 16);
        entry(b, 259, 3, 1, 1 << 16);
        entry(b, 262, 3, 1, 1 << 16);
        entry(b, 270, 2, description.length, descOffset);
        entry(b, 273, 4, 1, strip);
        entry(b, 277, 3, 1, 1 << 16);
        entry(b, 278, 4, 1, height);
        entry(b, 279, 4, 1, (long) width * height * bytesPerPixel);
        entry(b, 282, 5, 1, resOffset);
        entry(b, 283, 5, 1, resOffset + 8);
        entry(b, 296, 3, 1, 1 << 16);
        entry(b, 339, 3, 1, (bitDepth == 32 ? 3L : 1L) << 16);
        b.putInt((int) next);
    }

    private static void entry(ByteBuffer b, int tag, int type, long count, long value) {
        b.putShort((short) tag).putShort((short) type).putInt((int) count).putInt((int) value);
    }

    /** Appends {@code rows} full rows ({@code rows * width} values) to the current image. */
    public void writeRows(float[] values, int offset, int rows) throws IOException {
        long total = (long) images * height;
        if (rowsWritten + rows > total) throw new IllegalStateException("more rows than the file holds");
        put(dataStart + rowsWritten * width * bytesPerPixel, values, offset, rows);
    }

    /**
     * Puts {@code rows} full rows ({@code rows * width} values from {@code offset}) in place as rows
     * {@code y0 ..} of image {@code image} (in ImageJ's order: channels fastest). Every row of the
     * file must be written once, in any order.
     */
    public void writeRows(int image, int y0, float[] values, int offset, int rows) throws IOException {
        if (image < 0 || image >= images || y0 < 0 || y0 + rows > height) {
            throw new IllegalArgumentException("rows " + y0 + ".." + (y0 + rows) + " of image " + image
                    + " are outside the file's " + images + " images of " + height + " rows");
        }
        put(dataStart + ((long) image * height + y0) * width * bytesPerPixel, values, offset, rows);
    }

    private void put(long position, float[] values, int offset, int rows) throws IOException {
        int n = rows * width;
        ByteBuffer b = ByteBuffer.allocate(n * bytesPerPixel).order(ByteOrder.BIG_ENDIAN);
        switch (bitDepth) {
            case 32 -> b.asFloatBuffer().put(values, offset, n);
            case 16 -> {
                for (int i = 0; i < n; i++) b.putShort((short) ImagePlusBridge.clampRound(values[offset + i], 65535));
            }
            default -> {
                for (int i = 0; i < n; i++) b.put((byte) ImagePlusBridge.clampRound(values[offset + i], 255));
            }
        }
        b.rewind();
        long p = position;
        while (b.hasRemaining()) p += ch.write(b, p);
        rowsWritten += rows;
    }

    /** Writes the remaining IFDs and renames the file into place; the file must be complete. */
    public void commit() throws IOException {
        if (rowsWritten != (long) images * height) {
            throw new IllegalStateException("only " + rowsWritten + " of " + (long) images * height + " rows were written");
        }
        if (images > 1) {
            long base = dataStart + (long) width * height * bytesPerPixel * images;
            ByteBuffer b = ByteBuffer.allocate(IFD_SIZE * (images - 1)).order(ByteOrder.BIG_ENDIAN);
            for (int i = 1; i < images; i++) {
                long next = i < images - 1 ? base + (long) i * IFD_SIZE : 0;
                putIfd(b, i, 8 + IFD_SIZE, 8 + IFD_SIZE + description.length, next);
            }
            b.flip();
            long p = base;
            while (b.hasRemaining()) p += ch.write(b, p);
        }
        ch.force(false);
        ch.close();
        AtomicFiles.moveIntoPlace(tmp, target);
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (ch.isOpen()) ch.close();
        if (!committed) Files.deleteIfExists(tmp);
    }
}
