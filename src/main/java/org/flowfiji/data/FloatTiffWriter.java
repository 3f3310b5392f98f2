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
 * Writes a 32-bit float (hyper)stack to a TIFF file row by row, so that an output larger than
 * memory never has to be held whole. The file is ImageJ-compatible (its description carries the
 * image count, Z/T layout and unit; the resolution tags the pixel size) and a plain multi-page
 * TIFF for other readers (one IFD per image).
 *
 * <p>Layout: header, the first IFD, then all pixel data contiguous (big-endian floats), then the
 * remaining IFDs. The file is written under a temporary name in the target's folder and renamed
 * by {@link #commit()}; closing without a commit deletes it, so a failed or cancelled run leaves
 * nothing behind. Files are limited to 4 GiB (classic TIFF offsets).
 */
public final class FloatTiffWriter implements AutoCloseable {

    private static final int ENTRIES = 15;
    private static final int IFD_SIZE = 2 + ENTRIES * 12 + 4;

    private final Path target;
    private final Path tmp;
    private final FileChannel ch;
    private final int width;
    private final int height;
    private final int images;
    private final long dataStart;
    private final byte[] description;
    private final long[] resolution;
    private long rowsWritten;
    private boolean committed;

    /**
     * @param target the file to write
     * @param width image width
     * @param height image height
     * @param slices Z planes
     * @param frames T planes (images = slices * frames)
     * @param calibration pixel size and unit, or null
     */
    public FloatTiffWriter(Path target, int width, int height, int slices, int frames, ImageData.Calibration calibration)
            throws IOException {
        this.target = target.toAbsolutePath();
        this.width = width;
        this.height = height;
        this.images = slices * frames;
        long bytes = (long) width * height * 4 * images;
        if (bytes + (long) images * IFD_SIZE + 4096 > 0xFFFF_FFFFL) {
            throw new IOException("output " + target + " would exceed 4 GiB (" + bytes + " bytes of pixels): "
                    + "map fewer planes at a time or crop the image");
        }
        ImageData.Calibration cal = calibration == null ? ImageData.Calibration.NONE : calibration;
        StringBuilder d = new StringBuilder("ImageJ=1.54p\nimages=").append(images).append('\n');
        if (slices > 1) d.append("slices=").append(slices).append('\n');
        if (frames > 1) d.append("frames=").append(frames).append('\n');
        if (slices > 1 && frames > 1) d.append("hyperstack=true\n");
        if (cal.unit() != null && !cal.unit().equals("pixel")) {
            d.append("unit=").append(cal.unit()).append('\n');
            if (slices > 1) d.append("spacing=").append(cal.pixelDepth()).append('\n');
        }
        d.append("loop=false\n");
        this.description = (d + "\0").getBytes(StandardCharsets.US_ASCII);
        this.resolution = new long[] {rational(cal.pixelWidth()), rational(cal.pixelHeight())};
        Path dir = this.target.getParent();
        Files.createDirectories(dir);
        this.tmp = Files.createTempFile(dir, "." + this.target.getFileName(), ".part");
        this.ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
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
        long strip = dataStart + (long) image * width * height * 4;
        b.putShort((short) ENTRIES);
        entry(b, 254, 4, 1, 0);
        entry(b, 256, 4, 1, width);
        entry(b, 257, 4, 1, height);
        entry(b, 258, 3, 1, 32 << 16);
        entry(b, 259, 3, 1, 1 << 16);
        entry(b, 262, 3, 1, 1 << 16);
        entry(b, 270, 2, description.length, descOffset);
        entry(b, 273, 4, 1, strip);
        entry(b, 277, 3, 1, 1 << 16);
        entry(b, 278, 4, 1, height);
        entry(b, 279, 4, 1, (long) width * height * 4);
        entry(b, 282, 5, 1, resOffset);
        entry(b, 283, 5, 1, resOffset + 8);
        entry(b, 296, 3, 1, 1 << 16);
        entry(b, 339, 3, 1, 3 << 16);
        b.putInt((int) next);
    }

    private static void entry(ByteBuffer b, int tag, int type, long count, long value) {
        b.putShort((short) tag).putShort((short) type).putInt((int) count).putInt((int) value);
    }

    /** Appends {@code rows} full rows ({@code rows * width} values) to the current image. */
    public void writeRows(float[] values, int offset, int rows) throws IOException {
        long total = (long) images * height;
        if (rowsWritten + rows > total) throw new IllegalStateException("more rows than the file holds");
        ByteBuffer b = ByteBuffer.allocate(rows * width * 4).order(ByteOrder.BIG_ENDIAN);
        b.asFloatBuffer().put(values, offset, rows * width);
        while (b.hasRemaining()) ch.write(b);
        rowsWritten += rows;
    }

    /** Writes the remaining IFDs and renames the file into place; the file must be complete. */
    public void commit() throws IOException {
        if (rowsWritten != (long) images * height) {
            throw new IllegalStateException("only " + rowsWritten + " of " + (long) images * height + " rows were written");
        }
        if (images > 1) {
            long base = dataStart + (long) width * height * 4 * images;
            ByteBuffer b = ByteBuffer.allocate(IFD_SIZE * (images - 1)).order(ByteOrder.BIG_ENDIAN);
            for (int i = 1; i < images; i++) {
                long next = i < images - 1 ? base + (long) i * IFD_SIZE : 0;
                putIfd(b, i, 8 + IFD_SIZE, 8 + IFD_SIZE + description.length, next);
            }
            b.flip();
            while (b.hasRemaining()) ch.write(b);
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
