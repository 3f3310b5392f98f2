package org.flowfiji.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX image files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
 *
 * <p>Layout (big-endian): the magic number {@code 0x00000803} (unsigned bytes, 3 dimensions),
 * then the image count N, the rows H and the columns W as 32-bit integers, then N·H·W unsigned
 * bytes, row by row. The result is 8-bit, single-channel data with one plane (W x H) per image.
 * Gzip compression is recognised from the file's first two bytes, not from its name.
 */
public final class IdxReader {

    /** Magic number of an IDX file of unsigned bytes with three dimensions (images x rows x columns). */
    public static final int IMAGE_MAGIC = 0x00000803;

    private IdxReader() {}

    /** True when the file name looks like an IDX image file ({@code *-idx3-ubyte} or {@code *.idx3-ubyte}, optionally {@code .gz}). */
    public static boolean isIdxImageName(Path path) {
        String n = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith("idx3-ubyte") || n.endsWith("idx3-ubyte.gz");
    }

    /** Every image of the file. */
    public static ImageData read(Path path) throws IOException {
        return read(path, Integer.MAX_VALUE);
    }

    /**
     * The first {@code limit} images of the file (all of them when it holds fewer).
     *
     * @throws IOException naming the file when it is missing, has the wrong magic number or
     *     dimensions, or ends before the images it announces
     */
    public static ImageData read(Path path, int limit) throws IOException {
        if (limit < 1) throw new IllegalArgumentException("the image limit must be >= 1, got " + limit);
        if (!Files.isRegularFile(path))
            throw new FileNotFoundException("IDX file " + path + " does not exist or is not a file: check the path");
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(open(path), 1 << 16))) {
            int magic = in.readInt();
            if (magic != IMAGE_MAGIC)
                throw new IOException(String.format("%s is not an IDX image file: magic number 0x%08X, expected 0x%08X "
                        + "(unsigned bytes, 3 dimensions). Label files (idx1) hold no images.", path, magic, IMAGE_MAGIC));
            int n = in.readInt();
            int h = in.readInt();
            int w = in.readInt();
            if (n < 1 || h < 1 || w < 1 || (long) h * w > Integer.MAX_VALUE)
                throw new IOException("IDX file " + path + " announces " + n + " images of " + w + "x" + h + ": the header is corrupt");
            int count = Math.min(n, limit);
            int area = h * w;
            byte[] buf = new byte[area];
            List<float[]> planes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                try {
                    in.readFully(buf);
                } catch (EOFException e) {
                    throw new IOException("IDX file " + path + " is truncated: it announces " + n + " images of "
                            + w + "x" + h + " but ends inside image " + (i + 1) + ". Download or copy it again.", e);
                }
                float[] p = new float[area];
                for (int j = 0; j < area; j++) p[j] = buf[j] & 0xff;
                planes.add(p);
            }
            String name = path.getFileName().toString();
            return new ImageData(name, w, h, 1, 8, planes, ImageData.Calibration.NONE);
        } catch (EOFException e) {
            throw new IOException("IDX file " + path + " is truncated: it ends inside its 16-byte header", e);
        } catch (java.util.zip.ZipException e) {
            throw new IOException("IDX file " + path + " is corrupt (" + e.getMessage() + "): download or copy it again", e);
        }
    }

    private static InputStream open(Path path) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(path));
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                return new GZIPInputStream(raw, 1 << 16);
            } catch (IOException e) {
                raw.close();
                throw new IOException("IDX file " + path + " looks gzip-compressed but cannot be decompressed: " + e.getMessage(), e);
            }
        }
        return raw;
    }
}
