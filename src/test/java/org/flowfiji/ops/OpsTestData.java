package org.flowfiji.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.flowfiji.data.ImageData;

/** Small 16-bit test stacks with blob-like structure, made deterministically. */
final class OpsTestData {
    private OpsTestData() {}

    static ImageData blobs(int planes, int width, int height, int channels, long seed) {
        Random r = new Random(seed);
        List<float[]> list = new ArrayList<>();
        for (int p = 0; p < planes; p++) {
            float[] v = new float[channels * width * height];
            int blobs = 3 + r.nextInt(3);
            double[] bx = new double[blobs];
            double[] by = new double[blobs];
            for (int b = 0; b < blobs; b++) {
                bx[b] = r.nextDouble() * width;
                by[b] = r.nextDouble() * height;
            }
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        double s = 200;
                        for (int b = 0; b < blobs; b++) {
                            double d2 = (x - bx[b]) * (x - bx[b]) + (y - by[b]) * (y - by[b]);
                            s += 2000 * Math.exp(-d2 / 18.0) / (c + 1);
                        }
                        s += r.nextGaussian() * 30;
                        v[(c * height + y) * width + x] = (float) Math.max(0, Math.min(65535, Math.round(s)));
                    }
                }
            }
            list.add(v);
        }
        return new ImageData("blobs", width, height, channels, 16, list, new ImageData.Calibration(0.3, 0.3, 1, "micron"));
    }
}
