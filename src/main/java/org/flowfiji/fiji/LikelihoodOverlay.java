package org.flowfiji.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.plugin.LutLoader;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;
import java.awt.image.IndexColorModel;
import java.util.Arrays;
import java.util.Locale;

/**
 * Puts a likelihood map on its input image as an overlay: one LUT-coloured {@link ImageRoi} per plane at a
 * set opacity, positioned on the plane's slice and frame (all channels). All planes share one display
 * range (the 1st to 99th percentile of the whole map) so colours compare across planes. Earlier
 * likelihood overlays on the image are replaced.
 */
public final class LikelihoodOverlay {

    /** Name of the overlay ROIs; used to replace them on the next run. */
    public static final String ROI_NAME = "flow log-likelihood";

    /** LUT choices offered by the command (ImageJ's built-in LUTs). */
    public static final String[] LUTS = {"Fire", "Ice", "Spectrum", "Grays", "Red/Green"};

    private LikelihoodOverlay() {}

    /**
     * Adds the overlay of {@code map} (one 32-bit plane per Z/T plane of {@code image}) to {@code image}.
     *
     * @param opacityPercent 0 (invisible) to 100 (opaque)
     * @param lut one of {@link #LUTS} (any case)
     */
    public static void add(ImagePlus image, ImagePlus map, String lut, double opacityPercent) {
        if (opacityPercent < 0 || opacityPercent > 100)
            throw new IllegalArgumentException("opacity must be between 0 and 100 (percent), got " + opacityPercent);
        IndexColorModel cm = colorModel(lut);
        ImageStack stack = map.getStack();
        double[] range = range(stack);
        Overlay overlay = image.getOverlay() == null ? new Overlay() : image.getOverlay();
        for (int i = overlay.size() - 1; i >= 0; i--)
            if (ROI_NAME.equals(overlay.get(i).getName())) overlay.remove(i);
        int slices = image.getNSlices(), frames = image.getNFrames();
        boolean hyper = image.isHyperStack() || image.getNChannels() > 1;
        for (int p = 0; p < stack.getSize(); p++) {
            ImageProcessor ip = stack.getProcessor(p + 1).duplicate();
            ip.setMinAndMax(range[0], range[1]);
            ByteProcessor bytes = ip.convertToByteProcessor(true);
            bytes.setColorModel(cm);
            ImageRoi roi = new ImageRoi(0, 0, bytes.convertToColorProcessor());
            roi.setOpacity(opacityPercent / 100.0);
            roi.setName(ROI_NAME);
            if (stack.getSize() > 1) {
                if (hyper) roi.setPosition(0, p % slices + 1, Math.min(frames, p / slices + 1));
                else roi.setPosition(p + 1);
            }
            overlay.add(roi);
        }
        image.setOverlay(overlay);
    }

    /** The ImageJ LUT of a choice; throws naming the choices when unknown. */
    static IndexColorModel colorModel(String lut) {
        String name = lut == null ? "" : lut.trim().toLowerCase(Locale.ROOT);
        String file = switch (name) {
            case "fire" -> "fire";
            case "ice" -> "ice";
            case "spectrum" -> "spectrum";
            case "grays", "gray", "grey", "greys" -> "grays";
            case "red/green", "redgreen" -> "redgreen";
            default -> throw new IllegalArgumentException("Unknown lut '" + lut + "': use one of " + String.join(", ", LUTS));
        };
        return LutLoader.getLut(file);
    }

    /** 1st and 99th percentile of all finite values (min and max when they coincide). */
    static double[] range(ImageStack stack) {
        int n = 0;
        for (int i = 1; i <= stack.getSize(); i++) n += stack.getWidth() * stack.getHeight();
        float[] all = new float[n];
        int k = 0;
        for (int i = 1; i <= stack.getSize(); i++)
            for (float v : (float[]) stack.getProcessor(i).convertToFloatProcessor().getPixels())
                if (Float.isFinite(v)) all[k++] = v;
        if (k == 0) return new double[] {0, 1};
        float[] v = Arrays.copyOf(all, k);
        Arrays.sort(v);
        double lo = v[(int) Math.floor(0.01 * (k - 1))], hi = v[(int) Math.ceil(0.99 * (k - 1))];
        if (!(hi > lo)) {
            lo = v[0];
            hi = v[k - 1] > v[0] ? v[k - 1] : v[0] + 1;
        }
        return new double[] {lo, hi};
    }

    /** True when {@code roi} is one of this overlay's ROIs. */
    public static boolean isLikelihoodRoi(Roi roi) {
        return roi instanceof ImageRoi && ROI_NAME.equals(roi.getName());
    }
}
