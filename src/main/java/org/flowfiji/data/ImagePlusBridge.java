package org.flowfiji.data;

import ij.CompositeImage;
import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.awt.Rectangle;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between ImageJ 1.x images and {@link ImageData}, keeping channels, the Z/T layout and
 * the spatial calibration.
 *
 * <p>Reading ({@link #toImageData}):
 * <ul>
 *   <li>8-bit, 16-bit and 32-bit images keep their bit depth; values are the raw stored pixel
 *       values (a 16-bit calibration function, as for signed 16-bit files, is not applied).
 *       8-bit indexed-colour images are read as their 8-bit indices.</li>
 *   <li>RGB images become 8-bit data with three channels per ImageJ channel, in the order red,
 *       green, blue (an RGB image with C channels gives 3·C channels).</li>
 *   <li>Every (Z, T) position of a hyperstack is one {@code ImageData} plane, in ImageJ's order
 *       (Z fastest, then T): plane {@code t * nSlices + z}. Channels stay together as the C axis
 *       of each plane. The Z/T counts are kept so that outputs can restore the layout.</li>
 *   <li>With {@code roiAsMask}, the area selection becomes the H x W training mask
 *       (true inside the selection).</li>
 * </ul>
 *
 * <p>Writing ({@link #toImagePlus}): an 8-, 16- or 32-bit image (composite when C &gt; 1), a
 * hyperstack with the data's C, Z and T counts, and the data's calibration. For 8- and 16-bit
 * data every value is rounded to the nearest integer and clamped to [0, 255] or [0, 65535].
 */
public final class ImagePlusBridge {
    private ImagePlusBridge() {}

    /**
     * All planes of {@code imp} (Z and T), channels kept together.
     *
     * @param imp the image; any of 8-bit, 16-bit, 32-bit or RGB
     * @param roiAsMask when true, the image's area selection becomes the training mask
     * @return the image as {@code ImageData}: planes = Z·T, channels = C (3·C for RGB)
     * @throws IllegalArgumentException when {@code roiAsMask} is set and the image has no area
     *     selection, or the image type is not supported
     */
    public static ImageData toImageData(ImagePlus imp, boolean roiAsMask) {
        if (imp == null) throw new IllegalArgumentException("no image given");
        String title = imp.getTitle();
        int type = imp.getType();
        boolean rgb = type == ImagePlus.COLOR_RGB;
        int bitDepth;
        switch (type) {
            case ImagePlus.GRAY8, ImagePlus.COLOR_256, ImagePlus.COLOR_RGB -> bitDepth = 8;
            case ImagePlus.GRAY16 -> bitDepth = 16;
            case ImagePlus.GRAY32 -> bitDepth = 32;
            default -> throw new IllegalArgumentException("image '" + title + "' has an unsupported type (" + type
                    + "): convert it to 8-bit, 16-bit, 32-bit or RGB first");
        }
        int w = imp.getWidth();
        int h = imp.getHeight();
        int nc = imp.getNChannels();
        int nz = imp.getNSlices();
        int nt = imp.getNFrames();
        ImageStack stack = imp.getStack();
        int channels = rgb ? 3 * nc : nc;
        int area = w * h;
        List<float[]> planes = new ArrayList<>(nz * nt);
        for (int t = 0; t < nt; t++) {
            for (int z = 0; z < nz; z++) {
                float[] plane = new float[channels * area];
                for (int c = 0; c < nc; c++) {
                    Object pixels = stack.getPixels(imp.getStackIndex(c + 1, z + 1, t + 1));
                    if (rgb) copyRgb((int[]) pixels, plane, 3 * c * area, area);
                    else copyGray(pixels, plane, c * area, area);
                }
                planes.add(plane);
            }
        }
        boolean[] mask = roiAsMask ? roiMask(imp) : null;
        ij.measure.Calibration cal = imp.getCalibration();
        ImageData.Calibration calibration = new ImageData.Calibration(
                cal.pixelWidth, cal.pixelHeight, cal.pixelDepth, cal.getUnit());
        return new ImageData(title, w, h, channels, bitDepth, planes, calibration, mask, nz, nt);
    }

    /**
     * A (hyper)stack image in the data's bit depth, with its calibration.
     *
     * @param data the planes to show; plane {@code p} becomes the (Z, T) position
     *     {@code (p % slices, p / slices)} with all of its channels
     * @param title the window title
     * @return a new image (a {@link CompositeImage} when the data have 2 to 7 channels)
     */
    public static ImagePlus toImagePlus(ImageData data, String title) {
        StackBuilder b = new StackBuilder(data.width(), data.height(), data.channels(), data.planeCount(), data.bitDepth());
        for (int p = 0; p < data.planeCount(); p++) b.rows(p, 0, data.height(), data.plane(p));
        return b.image(title, data.slices(), data.frames(), data.calibration());
    }

    /**
     * Builds an image in a bit depth from rows of raw values as they come (rows of one plane, all
     * channels, at a time), without holding the planes as floats first.
     */
    public static final class StackBuilder {
        private final int w;
        private final int channels;
        private final int bitDepth;
        private final ImageStack stack;

        /** An image of {@code planes} planes of {@code channels} channels, every pixel 0 until written. */
        public StackBuilder(int width, int height, int channels, int planes, int bitDepth) {
            this.w = width;
            this.channels = channels;
            this.bitDepth = bitDepth;
            this.stack = new ImageStack(width, height);
            for (int i = 0; i < planes * channels; i++) {
                stack.addSlice(null, switch (bitDepth) {
                    case 8 -> new ByteProcessor(width, height);
                    case 16 -> new ShortProcessor(width, height);
                    default -> new FloatProcessor(width, height);
                });
            }
        }

        /**
         * Rows [y0, y0 + rows) of plane {@code plane}, every channel: [C, rows, W] raw values, rounded
         * and clamped to the bit depth's range for 8 and 16 bits.
         */
        public void rows(int plane, int y0, int rows, float[] values) {
            int n = rows * w;
            for (int c = 0; c < channels; c++) {
                Object px = stack.getPixels(plane * channels + c + 1);
                int from = c * n;
                int to = y0 * w;
                switch (bitDepth) {
                    case 8 -> {
                        byte[] b = (byte[]) px;
                        for (int i = 0; i < n; i++) b[to + i] = (byte) clampRound(values[from + i], 255);
                    }
                    case 16 -> {
                        short[] b = (short[]) px;
                        for (int i = 0; i < n; i++) b[to + i] = (short) clampRound(values[from + i], 65535);
                    }
                    default -> System.arraycopy(values, from, (float[]) px, to, n);
                }
            }
        }

        /** The image of the planes as (Z, T) positions {@code (p % slices, p / slices)}, with a calibration. */
        public ImagePlus image(String title, int slices, int frames, ImageData.Calibration calibration) {
            ImagePlus imp = new ImagePlus(title, stack);
            imp.setDimensions(channels, slices, frames);
            if (channels > 1 || frames > 1) imp.setOpenAsHyperStack(true);
            ImageData.Calibration c = calibration == null ? ImageData.Calibration.NONE : calibration;
            ij.measure.Calibration cal = new ij.measure.Calibration();
            cal.pixelWidth = c.pixelWidth();
            cal.pixelHeight = c.pixelHeight();
            cal.pixelDepth = c.pixelDepth();
            cal.setUnit(c.unit());
            if (channels > 1 && channels <= 7) {
                imp = new CompositeImage(imp, IJ.COMPOSITE);
                imp.setTitle(title);
            }
            imp.setCalibration(cal);
            if (bitDepth != 8) imp.resetDisplayRange();
            return imp;
        }
    }

    /** A raw value as an unsigned integer pixel of range 0..max: rounded, clamped, NaN as 0. */
    static int clampRound(float v, int max) {
        if (!(v > 0)) return 0;
        if (v >= max) return max;
        return Math.round(v);
    }

    private static void copyGray(Object pixels, float[] dst, int from, int n) {
        if (pixels instanceof byte[] b) {
            for (int i = 0; i < n; i++) dst[from + i] = b[i] & 0xff;
        } else if (pixels instanceof short[] s) {
            for (int i = 0; i < n; i++) dst[from + i] = s[i] & 0xffff;
        } else if (pixels instanceof float[] f) {
            System.arraycopy(f, 0, dst, from, n);
        } else {
            throw new IllegalArgumentException("unsupported pixel array " + pixels.getClass().getSimpleName());
        }
    }

    private static void copyRgb(int[] px, float[] dst, int from, int n) {
        for (int i = 0; i < n; i++) {
            int v = px[i];
            dst[from + i] = (v >> 16) & 0xff;
            dst[from + n + i] = (v >> 8) & 0xff;
            dst[from + 2 * n + i] = v & 0xff;
        }
    }

    private static boolean[] roiMask(ImagePlus imp) {
        Roi roi = imp.getRoi();
        if (roi == null || !roi.isArea())
            throw new IllegalArgumentException("image '" + imp.getTitle() + "' has no area selection: draw a rectangle, "
                    + "oval, polygon or freehand selection around the region to use, or switch off 'use ROI'");
        int w = imp.getWidth();
        int h = imp.getHeight();
        boolean[] mask = new boolean[w * h];
        Rectangle b = roi.getBounds();
        ImageProcessor m = roi.getMask();
        int count = 0;
        for (int y = Math.max(0, b.y); y < Math.min(h, b.y + b.height); y++) {
            for (int x = Math.max(0, b.x); x < Math.min(w, b.x + b.width); x++) {
                if (m == null || m.get(x - b.x, y - b.y) != 0) {
                    mask[y * w + x] = true;
                    count++;
                }
            }
        }
        if (count == 0)
            throw new IllegalArgumentException("the selection on image '" + imp.getTitle() + "' lies outside the image: "
                    + "draw it over the region to use");
        return mask;
    }
}
