package org.flowfiji.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Which data train a model and which validate it, with no pixel on both sides.
 *
 * <ul>
 *   <li>Two or more planes: whole planes are held out, {@code round(fraction · planes)} of them,
 *       at least one and at most all but one, chosen by the seed. Both regions are the whole image.</li>
 *   <li>One plane: a band along the longer side of the usable area (the mask's bounding box, or the
 *       whole image) is held out: rows at the top or bottom when the area is at least as tall as
 *       wide, otherwise columns at the left or right, the side chosen by the seed. The band is
 *       {@code max(patchSize, round(fraction · length))} pixels thick and the training region is
 *       the rest of the area; since every patch lies wholly inside its region, training and
 *       validation patches never share a pixel.</li>
 *   <li>fraction 0: no validation; everything trains.</li>
 * </ul>
 * Deterministic: the same data, fraction, patch size and seed give the same split.
 *
 * @param trainPlanes planes to draw training patches from, ascending
 * @param validationPlanes planes to draw validation patches from, ascending (empty without validation)
 * @param trainRegion where training patches lie
 * @param validationRegion where validation patches lie (null without validation)
 */
public record ValidationSplit(int[] trainPlanes, int[] validationPlanes, Region trainRegion, Region validationRegion) {

    /** True when there is something to validate on. */
    public boolean hasValidation() {
        return validationPlanes.length > 0;
    }

    /**
     * Splits {@code data} (and its area inside {@code mask}, H x W, true = use; null = all).
     *
     * @throws IllegalArgumentException when a single plane is too small to hold a validation band
     *     and a training region each at least one patch thick
     */
    public static ValidationSplit of(ImageData data, boolean[] mask, double fraction, int patchSize, long seed) {
        if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + fraction);
        int n = data.planeCount();
        Region area = mask == null ? Region.full(data) : boundingBox(mask, data);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        if (fraction == 0) return new ValidationSplit(all, new int[0], area, null);
        SplittableRandom random = new SplittableRandom(seed);
        if (n >= 2) {
            int nVal = (int) Math.max(1, Math.min(n - 1, Math.round(fraction * n)));
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
            int[] val = Arrays.copyOf(all, nVal);
            int[] train = Arrays.copyOfRange(all, nVal, n);
            Arrays.sort(val);
            Arrays.sort(train);
            return new ValidationSplit(train, val, area, area);
        }
        boolean rows = area.height() >= area.width();
        int length = rows ? area.height() : area.width();
        int band = (int) Math.max(patchSize, Math.round(fraction * length));
        if (length - band < patchSize)
            throw new IllegalArgumentException("the single plane of '" + data.name() + "' (usable area " + area.width() + "x"
                    + area.height() + ") is too small to hold out a validation band of " + band + " pixels and still train on "
                    + patchSize + "x" + patchSize + " patches: use a smaller patch size, more planes, or validation fraction 0 "
                    + "(no validation)");
        boolean atStart = random.nextBoolean();
        Region val, train;
        if (rows) {
            int vy = atStart ? area.y() : area.y() + area.height() - band;
            int ty = atStart ? area.y() + band : area.y();
            val = new Region(area.x(), vy, area.width(), band);
            train = new Region(area.x(), ty, area.width(), area.height() - band);
        } else {
            int vx = atStart ? area.x() : area.x() + area.width() - band;
            int tx = atStart ? area.x() + band : area.x();
            val = new Region(vx, area.y(), band, area.height());
            train = new Region(tx, area.y(), area.width() - band, area.height());
        }
        return new ValidationSplit(new int[] {0}, new int[] {0}, train, val);
    }

    private static Region boundingBox(boolean[] mask, ImageData data) {
        int w = data.width(), h = data.height();
        if (mask.length != w * h) throw new IllegalArgumentException("mask has " + mask.length + " pixels, the image " + w * h);
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[y * w + x]) {
                    x0 = Math.min(x0, x);
                    x1 = Math.max(x1, x);
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                }
        if (x1 < 0) throw new IllegalArgumentException("the selection on '" + data.name() + "' is empty: draw a larger selection");
        return new Region(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }
}
