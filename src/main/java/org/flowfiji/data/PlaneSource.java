package org.flowfiji.data;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.ColorProcessor;
import ij.process.ImageProcessor;

/**
 * Row access to the raw values of one plane (C x H x W), wherever they are stored: an
 * {@link ImageData} plane in memory, or the processors of an ImageJ 1.x image (also a virtual
 * stack read from disk plane by plane), so large images are read without a float copy.
 */
public interface PlaneSource {

    int width();

    int height();

    int channels();

    /** Copies channel {@code c}, row {@code y}, columns {@code [x0, x0+n)} into {@code dst[off ..]}. */
    void readRow(int c, int y, int x0, int n, float[] dst, int off);

    /** Plane {@code p} of in-memory data. */
    static PlaneSource of(ImageData data, int p) {
        float[] plane = data.plane(p);
        int w = data.width();
        int h = data.height();
        int ch = data.channels();
        return new PlaneSource() {
            @Override public int width() { return w; }
            @Override public int height() { return h; }
            @Override public int channels() { return ch; }

            @Override
            public void readRow(int c, int y, int x0, int n, float[] dst, int off) {
                System.arraycopy(plane, (c * h + y) * w + x0, dst, off, n);
            }
        };
    }

    /**
     * Plane {@code p} (ImageJ order: Z fastest, then T) of an ImageJ image, channels together;
     * RGB gives three channels. Each channel's processor is fetched once.
     */
    static PlaneSource of(ImagePlus imp, int p) {
        int nc = imp.getNChannels();
        int nz = imp.getNSlices();
        int z = p % nz;
        int t = p / nz;
        ImageStack stack = imp.getStack();
        boolean rgb = imp.getType() == ImagePlus.COLOR_RGB;
        ImageProcessor[] procs = new ImageProcessor[nc];
        for (int c = 0; c < nc; c++) procs[c] = stack.getProcessor(imp.getStackIndex(c + 1, z + 1, t + 1));
        int w = imp.getWidth();
        int h = imp.getHeight();
        int ch = rgb ? 3 * nc : nc;
        return new PlaneSource() {
            @Override public int width() { return w; }
            @Override public int height() { return h; }
            @Override public int channels() { return ch; }

            @Override
            public void readRow(int c, int y, int x0, int n, float[] dst, int off) {
                if (rgb) {
                    int[] px = (int[]) ((ColorProcessor) procs[c / 3]).getPixels();
                    int shift = 16 - 8 * (c % 3);
                    int base = y * w + x0;
                    for (int i = 0; i < n; i++) dst[off + i] = (px[base + i] >> shift) & 0xff;
                    return;
                }
                Object px = procs[c].getPixels();
                int base = y * w + x0;
                if (px instanceof short[] s) {
                    for (int i = 0; i < n; i++) dst[off + i] = s[base + i] & 0xffff;
                } else if (px instanceof byte[] b) {
                    for (int i = 0; i < n; i++) dst[off + i] = b[base + i] & 0xff;
                } else {
                    System.arraycopy((float[]) px, base, dst, off, n);
                }
            }
        };
    }
}
