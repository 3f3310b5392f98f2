package org.flowfiji.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Splits a W x H image into overlapping tiles for inference, and stitches the tiles' outputs back.
 *
 * <p>Along each axis of length L, with tile side T (a multiple of m = 2^levels), margin M and
 * T' = min(T, L):
 * <ul>
 *   <li>tile i <em>writes</em> the pixels [i·T', min((i+1)·T', L)), for i = 0 .. ceil(L/T')-1; the
 *       write regions partition the image;</li>
 *   <li>its <em>centre</em> is the T'-long window starting at c = min(i·T', L - T') (the last tile is
 *       shifted back inside the image), which contains the write region;</li>
 *   <li>its <em>input</em> is the window starting at c - M of length S = roundUp(T' + 2M, m), the
 *       same for every tile so that tiles can be batched; S is a multiple of m.</li>
 * </ul>
 * Input pixels outside the image are mirrored at the borders without repeating the edge pixel
 * (..., 2, 1, | 0, 1, 2, ..., L-1, | L-2, L-3, ...), repeatedly when the margin exceeds the image.
 * Every written pixel lies at least M pixels from the input window's edges, or closer only where
 * the window reaches past the image border (and the mirror supplies the context).
 *
 * <p>Layouts: a plane is {@code [C, H, W]}, a tile input or output is {@code [C, S_y, S_x]},
 * row-major, as in {@link ImageData}. The model's output must have the input's spatial size.
 */
public final class Tiler {

    private final int width;
    private final int height;
    private final int inputWidth;
    private final int inputHeight;
    private final List<Tile> tiles;

    /**
     * One tile.
     *
     * @param index position in {@link #tiles()}
     * @param inputX left column of the input window in image coordinates (may be negative)
     * @param inputY top row of the input window in image coordinates (may be negative)
     * @param write the image pixels this tile's output provides
     */
    public record Tile(int index, int inputX, int inputY, Region write) {}

    /**
     * @param width image width W
     * @param height image height H
     * @param tileSize T, a positive multiple of {@code multiple}
     * @param margin M >= 0, at least the model's receptive-field radius
     * @param multiple m >= 1 (2^levels): input sides are multiples of it
     */
    public Tiler(int width, int height, int tileSize, int margin, int multiple) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
        if (multiple < 1) throw new IllegalArgumentException("the size multiple must be >= 1, got " + multiple);
        if (tileSize < multiple || tileSize % multiple != 0)
            throw new IllegalArgumentException("tile size " + tileSize + " must be a positive multiple of " + multiple
                    + " (2^levels): use " + Math.max(multiple, roundUp(tileSize, multiple)));
        if (margin < 0) throw new IllegalArgumentException("tile margin must be >= 0, got " + margin);
        this.width = width;
        this.height = height;
        int tx = Math.min(tileSize, width);
        int ty = Math.min(tileSize, height);
        this.inputWidth = roundUp(tx + 2 * margin, multiple);
        this.inputHeight = roundUp(ty + 2 * margin, multiple);
        int nx = (width + tx - 1) / tx;
        int ny = (height + ty - 1) / ty;
        List<Tile> list = new ArrayList<>(nx * ny);
        for (int j = 0; j < ny; j++) {
            int wy = j * ty;
            int cy = Math.min(wy, height - ty);
            for (int i = 0; i < nx; i++) {
                int wx = i * tx;
                int cx = Math.min(wx, width - tx);
                Region write = new Region(wx, wy, Math.min(tx, width - wx), Math.min(ty, height - wy));
                list.add(new Tile(list.size(), cx - margin, cy - margin, write));
            }
        }
        this.tiles = Collections.unmodifiableList(list);
    }

    /** The smallest multiple of m that is >= v. */
    public static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /** The tiles in raster order (rows of tiles top to bottom, left to right within a row). */
    public List<Tile> tiles() {
        return tiles;
    }

    /** S_x: the input window width, the same for every tile. */
    public int inputWidth() {
        return inputWidth;
    }

    /** S_y: the input window height, the same for every tile. */
    public int inputHeight() {
        return inputHeight;
    }

    /** The input window of {@code tile}, {@code [C, S_y, S_x]}, mirrored at the image borders. */
    public float[] extract(float[] plane, int channels, Tile tile) {
        float[] out = new float[channels * inputHeight * inputWidth];
        extract(plane, channels, tile, out, 0);
        return out;
    }

    /** Writes the input window of {@code tile} into {@code out} from {@code offset} (for batching). */
    public void extract(float[] plane, int channels, Tile tile, float[] out, int offset) {
        checkPlane(plane, channels);
        int[] xs = new int[inputWidth];
        for (int i = 0; i < inputWidth; i++) xs[i] = mirror(tile.inputX() + i, width);
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < inputHeight; r++) {
                int src = (c * height + mirror(tile.inputY() + r, height)) * width;
                int dst = offset + (c * inputHeight + r) * inputWidth;
                for (int i = 0; i < inputWidth; i++) out[dst + i] = plane[src + xs[i]];
            }
        }
    }

    /**
     * Copies the write region of {@code tile} from a tile output {@code [C, S_y, S_x]} (read from
     * {@code offset}) into {@code target} {@code [C, H, W]}.
     */
    public void stitch(float[] tileOutput, int offset, int channels, Tile tile, float[] target) {
        checkPlane(target, channels);
        if (tileOutput.length < offset + channels * inputHeight * inputWidth)
            throw new IllegalArgumentException("tile output holds " + (tileOutput.length - offset) + " values from offset "
                    + offset + ", " + channels * inputHeight * inputWidth + " needed");
        Region w = tile.write();
        int dx = w.x() - tile.inputX();
        int dy = w.y() - tile.inputY();
        for (int c = 0; c < channels; c++)
            for (int r = 0; r < w.height(); r++)
                System.arraycopy(tileOutput, offset + (c * inputHeight + dy + r) * inputWidth + dx,
                        target, (c * height + w.y() + r) * width + w.x(), w.width());
    }

    /** {@link #stitch(float[], int, int, Tile, float[])} from offset 0. */
    public void stitch(float[] tileOutput, int channels, Tile tile, float[] target) {
        stitch(tileOutput, 0, channels, tile, target);
    }

    private void checkPlane(float[] plane, int channels) {
        if (plane.length != channels * height * width)
            throw new IllegalArgumentException("plane holds " + plane.length + " values, expected " + channels + "x" + height + "x" + width);
    }

    /** Mirror index without repeating the edge: period 2(L-1). */
    static int mirror(int i, int length) {
        if (length == 1) return 0;
        int period = 2 * (length - 1);
        int k = Math.floorMod(i, period);
        return k < length ? k : period - k;
    }
}
