package org.flowfiji.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.ShortProcessor;
import java.util.Random;

/** Small structured test images: bright Gaussian blobs on a noisy background. */
public final class TestImages {

    private TestImages() {}

    /** A calibrated 16-bit stack of {@code planes} planes, {@code size} x {@code size} pixels, seeded. */
    public static ImagePlus blobs16(int size, int planes, long seed) {
        Random random = new Random(seed);
        ImageStack stack = new ImageStack(size, size);
        for (int p = 0; p < planes; p++) {
            double[] v = new double[size * size];
            for (int b = 0; b < 3; b++) {
                double cx = random.nextDouble() * size, cy = random.nextDouble() * size;
                double r = 2 + random.nextDouble() * size / 8.0, amp = 800 + random.nextDouble() * 1200;
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        v[y * size + x] += amp * Math.exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * r * r));
            }
            short[] px = new short[size * size];
            for (int i = 0; i < px.length; i++)
                px[i] = (short) Math.max(0, Math.min(65535, Math.round(200 + v[i] + 20 * random.nextGaussian())));
            stack.addSlice("plane " + (p + 1), new ShortProcessor(size, size, px, null));
        }
        ImagePlus imp = new ImagePlus("blobs", stack);
        Calibration cal = imp.getCalibration();
        cal.pixelWidth = 0.325;
        cal.pixelHeight = 0.325;
        cal.pixelDepth = 1.0;
        cal.setUnit("micron");
        return imp;
    }
}
