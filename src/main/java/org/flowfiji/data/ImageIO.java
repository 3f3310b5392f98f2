package org.flowfiji.data;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileInfo;
import ij.io.FileSaver;
import ij.io.Opener;
import ij.io.TiffDecoder;
import ij.io.TiffEncoder;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads image files into {@link ImageData} and writes {@code ImageData} as TIFF, without windows.
 *
 * <p>Reading goes through ImageJ 1.x's {@link Opener} (TIFF, PNG, JPEG, GIF, BMP, PGM, FITS, ZIP
 * of TIFF and the other formats ImageJ opens itself) and works with {@code java.awt.headless=true}.
 * IDX image files ({@code *-idx3-ubyte}, {@code *-idx3-ubyte.gz}) are read by {@link IdxReader}.
 * The conversion rules (bit depths, RGB, hyperstacks, calibration) are those of
 * {@link ImagePlusBridge}.
 */
public final class ImageIO {
    private ImageIO() {}

    /**
     * Reads one image file.
     *
     * @throws IOException naming the file when it is missing, not an image ImageJ can open, or corrupt
     */
    public static ImageData read(Path path) throws IOException {
        if (!Files.exists(path)) throw new FileNotFoundException("image file " + path + " does not exist: check the path");
        if (!Files.isRegularFile(path)) throw new IOException(path + " is not a file: give the path of an image file");
        if (!Files.isReadable(path)) throw new IOException("image file " + path + " cannot be read: check its permissions");
        if (IdxReader.isIdxImageName(path)) return IdxReader.read(path);
        ImagePlus imp = open(path);
        try {
            return ImagePlusBridge.toImageData(imp, false);
        } catch (IllegalArgumentException e) {
            throw new IOException("image file " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens an image file as an ImageJ image without converting its pixels (for processing large
     * images plane by plane in their own bit depth). Not for IDX files.
     *
     * @throws IOException naming the file when it is missing, not an image ImageJ can open, or corrupt
     */
    public static ImagePlus openImagePlus(Path path) throws IOException {
        if (!Files.exists(path)) throw new FileNotFoundException("image file " + path + " does not exist: check the path");
        if (!Files.isRegularFile(path)) throw new IOException(path + " is not a file: give the path of an image file");
        if (!Files.isReadable(path)) throw new IOException("image file " + path + " cannot be read: check its permissions");
        if (IdxReader.isIdxImageName(path)) throw new IOException("image file " + path + " is an IDX file: read it with read()");
        ImagePlus imp = open(path);
        int type = imp.getType();
        if (type != ImagePlus.GRAY8 && type != ImagePlus.GRAY16 && type != ImagePlus.GRAY32 && type != ImagePlus.COLOR_RGB) {
            throw new IOException("image file " + path + " has an unsupported image type (" + type + "): use 8, 16 or 32-bit grey or RGB");
        }
        return imp;
    }

    /**
     * Reads several files and concatenates their planes in the order given.
     *
     * @throws IOException naming the file that is unreadable, or that differs from the first
     *     file in width, height, channels or bit depth
     */
    public static ImageData readAll(List<Path> paths) throws IOException {
        return readAll(paths, 0);
    }

    /**
     * Reads several files, at most {@code limit} planes from each (0 = all), and concatenates
     * their planes in the order given.
     *
     * @throws IOException as {@link #readAll(List)}
     */
    public static ImageData readAll(List<Path> paths, int limit) throws IOException {
        if (paths == null || paths.isEmpty()) throw new IllegalArgumentException("no image files given");
        ImageData first = limited(read(paths.get(0)), limit);
        if (paths.size() == 1) return first;
        List<float[]> planes = new ArrayList<>(first.planes());
        for (int i = 1; i < paths.size(); i++) {
            Path p = paths.get(i);
            ImageData d = limited(read(p), limit);
            if (d.width() != first.width() || d.height() != first.height() || d.channels() != first.channels()
                    || d.bitDepth() != first.bitDepth())
                throw new IOException("image file " + p + " is " + describe(d) + " but " + paths.get(0) + " is "
                        + describe(first) + ": all files must have the same size, channels and bit depth");
            planes.addAll(d.planes());
        }
        String name = paths.size() + " files (" + paths.get(0).getFileName() + ", ...)";
        return new ImageData(name, first.width(), first.height(), first.channels(), first.bitDepth(), planes,
                first.calibration());
    }

    private static ImageData limited(ImageData d, int limit) {
        if (limit <= 0 || d.planeCount() <= limit) return d;
        return new ImageData(d.name(), d.width(), d.height(), d.channels(), d.bitDepth(), d.planes().subList(0, limit),
                d.calibration());
    }

    /**
     * Writes the data as a TIFF (a hyperstack with the data's C/Z/T layout and calibration).
     * The file is written to a temporary file in the same folder and then renamed, so the target
     * is either the complete new file or untouched.
     *
     * @throws IOException naming the file when the folder is missing or not writable, or the write fails
     */
    public static void writeTiff(ImageData data, Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir))
            throw new FileNotFoundException("cannot write " + path + ": the folder " + dir + " does not exist");
        String title = abs.getFileName().toString();
        ImagePlus imp = ImagePlusBridge.toImagePlus(data, title);
        FileInfo fi = imp.getFileInfo();
        FileSaver saver = new FileSaver(imp);
        fi.description = saver.getDescriptionString();
        if (imp.isComposite()) saver.saveDisplayRangesAndLuts(imp, fi);
        Path tmp = dir.resolve("." + title + "." + Long.toHexString(System.nanoTime()) + ".part");
        OutputStream raw;
        try {
            raw = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot write TIFF file " + path + ": " + e.getMessage(), e);
        }
        boolean done = false;
        try {
            try (OutputStream out = new BufferedOutputStream(raw, 1 << 16)) {
                new TiffEncoder(fi).write(out);
            }
            AtomicFiles.moveIntoPlace(tmp, abs);
            done = true;
        } catch (IOException e) {
            throw new IOException("cannot write TIFF file " + path + ": " + e.getMessage(), e);
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /**
     * Fails when an uncompressed TIFF ends before the pixel data its header announces (ImageJ
     * itself would fill the missing pixels with zeros).
     */
    private static void checkTiffComplete(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        String folder = abs.getParent().toString() + java.io.File.separator;
        FileInfo[] info;
        try {
            info = new TiffDecoder(folder, abs.getFileName().toString()).getTiffInfo();
        } catch (IOException | RuntimeException e) {
            throw new IOException("TIFF file " + path + " is corrupt (" + e.getMessage() + "): save it again as TIFF", e);
        }
        if (info == null || info.length == 0)
            throw new IOException("TIFF file " + path + " is corrupt: it has no readable image directory");
        long length = Files.size(path);
        for (FileInfo fi : info) {
            if (fi.compression != FileInfo.COMPRESSION_NONE) continue;
            long bytes = (long) fi.width * fi.height * fi.getBytesPerPixel();
            int n = info.length == 1 ? Math.max(1, fi.nImages) : 1;
            long end = fi.getOffset() + n * bytes + (long) (n - 1) * fi.gapBetweenImages;
            if (end > length)
                throw new IOException("TIFF file " + path + " is truncated: its pixel data should end at byte " + end
                        + " but the file has " + length + " bytes. Copy or save it again.");
        }
    }

    private static String describe(ImageData d) {
        return d.width() + "x" + d.height() + ", " + d.channels() + " channel(s), " + d.bitDepth() + "-bit";
    }

    private static ImagePlus open(Path path) throws IOException {
        Opener opener = new Opener();
        opener.setSilentMode(true);
        String file = path.toAbsolutePath().toString();
        int type = opener.getFileType(file);
        if (type == Opener.UNKNOWN || type == Opener.TEXT || type == Opener.JAVA_OR_TEXT || type == Opener.ROI
                || type == Opener.LUT || type == Opener.TABLE || type == Opener.OJJ)
            throw new IOException("image file " + path + " is not in an image format ImageJ can read "
                    + "(TIFF, PNG, JPEG, GIF, BMP, PGM, FITS or IDX): convert it, e.g. to TIFF");
        if (type == Opener.TIFF) checkTiffComplete(path);
        ImagePlus imp;
        try {
            IJ.redirectErrorMessages(true);
            imp = opener.openImage(file);
        } catch (RuntimeException e) {
            throw new IOException("image file " + path + " is corrupt or unreadable: " + e, e);
        } finally {
            IJ.redirectErrorMessages(false);
        }
        if (imp == null || imp.getStackSize() < 1 || imp.getWidth() < 1 || imp.getHeight() < 1)
            throw new IOException("image file " + path + " is corrupt or unreadable (ImageJ could not open it): "
                    + "check that it opens in Fiji, or save it again as TIFF");
        return imp;
    }
}
