package org.flowfiji.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An image or stack as the engine sees it: a list of planes, each C x H x W raw intensities.
 *
 * <p>Every Z/T plane of a (hyper)stack is one plane here, channels kept together. Intensities are
 * raw values (not normalised), stored as float in channel-major order: element (c, y, x) of a
 * plane is at {@code (c * height + y) * width + x}. The bit depth (8, 16 or 32) says whether the
 * data are integers (8/16, dequantized when training) or floats (32).
 */
public final class ImageData {

    private final String name;
    private final int width;
    private final int height;
    private final int channels;
    private final int bitDepth;
    private final List<float[]> planes;
    private final Calibration calibration;
    /** Optional training mask, H x W, true = use; null when there is none. */
    private final boolean[] mask;
    /** Optional hyperstack layout (slices, frames) so outputs can keep it; slices*frames == planes. */
    private final int slices;
    private final int frames;

    public ImageData(String name, int width, int height, int channels, int bitDepth,
                     List<float[]> planes, Calibration calibration, boolean[] mask, int slices, int frames) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1");
        if (bitDepth != 8 && bitDepth != 16 && bitDepth != 32)
            throw new IllegalArgumentException("bit depth must be 8, 16 or 32, got " + bitDepth);
        if (planes == null || planes.isEmpty()) throw new IllegalArgumentException("image '" + name + "' has no planes");
        int n = channels * height * width;
        for (float[] p : planes)
            if (p.length != n) throw new IllegalArgumentException("plane has " + p.length + " values, expected " + n);
        if (mask != null && mask.length != width * height) throw new IllegalArgumentException("mask size does not match the image");
        if (slices * frames != planes.size()) {
            slices = planes.size();
            frames = 1;
        }
        this.name = name;
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.bitDepth = bitDepth;
        this.planes = Collections.unmodifiableList(new ArrayList<>(planes));
        this.calibration = calibration == null ? Calibration.NONE : calibration;
        this.mask = mask;
        this.slices = slices;
        this.frames = frames;
    }

    /** A simple stack: planes along Z, no mask. */
    public ImageData(String name, int width, int height, int channels, int bitDepth, List<float[]> planes, Calibration calibration) {
        this(name, width, height, channels, bitDepth, planes, calibration, null, planes.size(), 1);
    }

    public String name() { return name; }
    public int width() { return width; }
    public int height() { return height; }
    public int channels() { return channels; }
    public int bitDepth() { return bitDepth; }
    public boolean isInteger() { return bitDepth != 32; }
    public int planeCount() { return planes.size(); }
    public float[] plane(int i) { return planes.get(i); }
    public List<float[]> planes() { return planes; }
    public Calibration calibration() { return calibration; }
    public boolean[] mask() { return mask; }
    public int slices() { return slices; }
    public int frames() { return frames; }
    /** Elements per plane: C * H * W. */
    public int planeSize() { return channels * height * width; }

    /** The same data with a training mask (H x W, true = use). */
    public ImageData withMask(boolean[] m) {
        return new ImageData(name, width, height, channels, bitDepth, planes, calibration, m, slices, frames);
    }

    /** Spatial calibration: pixel size and unit, kept from input to output. */
    public record Calibration(double pixelWidth, double pixelHeight, double pixelDepth, String unit) {
        public static final Calibration NONE = new Calibration(1, 1, 1, "pixel");
    }
}
