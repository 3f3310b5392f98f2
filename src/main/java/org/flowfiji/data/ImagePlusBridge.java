package org.flowfiji.data;

import ij.ImagePlus;

/** Converts between ImageJ 1.x images and {@link ImageData}. */
public final class ImagePlusBridge {
    private ImagePlusBridge() {}

    /** All planes of {@code imp} (Z and T), channels kept together; the ROI becomes the mask when asked. */
    public static ImageData toImageData(ImagePlus imp, boolean roiAsMask) {
        throw new UnsupportedOperationException("not yet built");
    }

    /** A (hyper)stack window-ready image in the data's bit depth, with its calibration. */
    public static ImagePlus toImagePlus(ImageData data, String title) {
        throw new UnsupportedOperationException("not yet built");
    }
}
