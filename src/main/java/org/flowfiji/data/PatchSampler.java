package org.flowfiji.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws square patches of raw intensities from planes of an {@link ImageData}, for training and validation.
 *
 * <p>A patch is a P x P window whose top-left corner (x0, y0) puts it wholly inside the given
 * {@link Region}; with a mask it is eligible only when its centre pixel (x0 + P/2, y0 + P/2) lies in
 * the mask. {@link #sample} draws eligible patches uniformly (plane, then position) with a seeded
 * random stream; with augmentation each patch is also mapped by one of the 8 symmetries of the
 * square (identity, rotations by 90, 180, 270 degrees, and their mirror images), chosen uniformly.
 * {@link #grid} gives a fixed, non-overlapping set of patches for validation.
 *
 * <p>Output layout: a float array {@code [B, C, P, P]} (batch, channel, row, column; row-major),
 * raw intensities (not dequantized, not normalised).
 */
public final class PatchSampler {

    private final ImageData data;
    private final int[] planes;
    private final Region region;
    private final int size;
    private final boolean augment;
    private final SplittableRandom random;
    /** Eligible top-left corners as y0 * width + x0, or null when every position in the region is eligible. */
    private final int[] positions;
    private final int nx;
    private final int ny;

    /**
     * @param data the image
     * @param planes the planes to draw from (e.g. {@link ValidationSplit#trainPlanes()})
     * @param region where patches lie (e.g. {@link ValidationSplit#trainRegion()}); null = whole image
     * @param mask H x W, true = use; null = everywhere
     * @param patchSize P
     * @param augment apply a random symmetry of the square to each patch
     * @param seed seed of the random stream
     * @throws IllegalArgumentException when P does not fit, or no patch has its centre in the mask
     */
    public PatchSampler(ImageData data, int[] planes, Region region, boolean[] mask, int patchSize, boolean augment, long seed) {
        int w = data.width(), h = data.height();
        if (patchSize < 1) throw new IllegalArgumentException("patch size must be >= 1, got " + patchSize);
        if (patchSize > w || patchSize > h)
            throw new IllegalArgumentException("patch size " + patchSize + " is larger than the image " + w + "x" + h
                    + ": choose a patch size <= " + Math.min(w, h));
        if (planes == null || planes.length == 0) throw new IllegalArgumentException("no planes to draw patches from");
        for (int p : planes)
            if (p < 0 || p >= data.planeCount())
                throw new IndexOutOfBoundsException("plane " + p + " does not exist: '" + data.name() + "' has " + data.planeCount() + " planes");
        if (region == null) region = Region.full(data);
        if (!region.fitsIn(w, h)) throw new IllegalArgumentException("region " + region + " lies outside the image " + w + "x" + h);
        if (patchSize > region.width() || patchSize > region.height())
            throw new IllegalArgumentException("patch size " + patchSize + " does not fit in the region " + region
                    + ": choose a patch size <= " + Math.min(region.width(), region.height()));
        if (mask != null && mask.length != w * h)
            throw new IllegalArgumentException("mask has " + mask.length + " pixels, the image " + w * h);
        this.data = data;
        this.planes = planes.clone();
        this.region = region;
        this.size = patchSize;
        this.augment = augment;
        this.random = new SplittableRandom(seed);
        this.nx = region.width() - patchSize + 1;
        this.ny = region.height() - patchSize + 1;
        this.positions = mask == null ? null : eligible(mask, w);
        if (positions != null && positions.length == 0)
            throw new IllegalArgumentException("no " + patchSize + "x" + patchSize + " patch inside " + region
                    + " has its centre in the selection of '" + data.name() + "': draw a larger selection or choose a smaller patch size");
    }

    private int[] eligible(boolean[] mask, int w) {
        int half = size / 2;
        int count = 0;
        int[] all = new int[nx * ny];
        for (int j = 0; j < ny; j++) {
            int y0 = region.y() + j;
            for (int i = 0; i < nx; i++) {
                int x0 = region.x() + i;
                if (mask[(y0 + half) * w + x0 + half]) all[count++] = y0 * w + x0;
            }
        }
        return java.util.Arrays.copyOf(all, count);
    }

    /** P. */
    public int patchSize() {
        return size;
    }

    /** C. */
    public int channels() {
        return data.channels();
    }

    /** Values per patch: C·P·P. */
    public int patchLength() {
        return data.channels() * size * size;
    }

    /** The number of eligible (plane, position) pairs. */
    public long eligibleCount() {
        return (long) planes.length * (positions == null ? (long) nx * ny : positions.length);
    }

    /** A new batch {@code [batchSize, C, P, P]} of random patches. */
    public float[] sample(int batchSize) {
        float[] out = new float[batchSize * patchLength()];
        sample(out, batchSize);
        return out;
    }

    /** Fills {@code out[0 .. batchSize·C·P·P)} with random patches. */
    public void sample(float[] out, int batchSize) {
        if (out.length < batchSize * patchLength())
            throw new IllegalArgumentException("batch array holds " + out.length + " values, " + batchSize * patchLength() + " needed");
        int w = data.width();
        for (int b = 0; b < batchSize; b++) {
            int plane = planes[random.nextInt(planes.length)];
            int x0, y0;
            if (positions == null) {
                x0 = region.x() + random.nextInt(nx);
                y0 = region.y() + random.nextInt(ny);
            } else {
                int p = positions[random.nextInt(positions.length)];
                x0 = p % w;
                y0 = p / w;
            }
            int symmetry = augment ? random.nextInt(8) : 0;
            copy(data.plane(plane), x0, y0, symmetry, out, b * patchLength());
        }
    }

    /**
     * A fixed set of non-overlapping patches (no augmentation): the P-spaced grid of the region in
     * every plane, keeping the eligible ones, thinned evenly to at most {@code maxCount}.
     *
     * @return {@code [N, C, P, P]} with N = length / {@link #patchLength()}, 1 &lt;= N &lt;= maxCount
     *     (grid positions whose centre misses the mask are skipped; when every one misses, all
     *     eligible positions in raster order take their place)
     */
    public float[] grid(int maxCount) {
        if (maxCount < 1) throw new IllegalArgumentException("maxCount must be >= 1, got " + maxCount);
        int w = data.width();
        List<int[]> chosen = new ArrayList<>();
        for (int p : planes)
            for (int y0 = region.y(); y0 + size <= region.y() + region.height(); y0 += size)
                for (int x0 = region.x(); x0 + size <= region.x() + region.width(); x0 += size)
                    if (isEligible(x0, y0)) chosen.add(new int[] {p, x0, y0});
        if (chosen.isEmpty()) {
            for (int p : planes)
                for (int i = 0; i < positions.length; i++) chosen.add(new int[] {p, positions[i] % w, positions[i] / w});
        }
        int n = Math.min(maxCount, chosen.size());
        float[] out = new float[n * patchLength()];
        for (int k = 0; k < n; k++) {
            int[] c = chosen.get((int) ((long) k * chosen.size() / n));
            copy(data.plane(c[0]), c[1], c[2], 0, out, k * patchLength());
        }
        return out;
    }

    private boolean isEligible(int x0, int y0) {
        if (positions == null) return true;
        int key = y0 * data.width() + x0;
        return java.util.Arrays.binarySearch(positions, key) >= 0;
    }

    /**
     * Copies the patch at (x0, y0), mapped by symmetry s: bit 0 mirrors columns, bit 1 mirrors rows,
     * bit 2 transposes (applied first). Output (r, q) reads source row/column (a, b) with
     * (a, b) = s&amp;4 ? (q, r) : (r, q), then a = P-1-a if s&amp;2, b = P-1-b if s&amp;1.
     */
    private void copy(float[] plane, int x0, int y0, int s, float[] out, int offset) {
        int w = data.width(), h = data.height(), c = data.channels(), p = size;
        for (int ch = 0; ch < c; ch++) {
            int src = ch * h * w;
            int dst = offset + ch * p * p;
            if (s == 0) {
                for (int r = 0; r < p; r++) System.arraycopy(plane, src + (y0 + r) * w + x0, out, dst + r * p, p);
                continue;
            }
            boolean transpose = (s & 4) != 0, flipRows = (s & 2) != 0, flipCols = (s & 1) != 0;
            for (int r = 0; r < p; r++)
                for (int q = 0; q < p; q++) {
                    int a = transpose ? q : r;
                    int b = transpose ? r : q;
                    if (flipRows) a = p - 1 - a;
                    if (flipCols) b = p - 1 - b;
                    out[dst + r * p + q] = plane[src + (y0 + a) * w + x0 + b];
                }
        }
    }
}
