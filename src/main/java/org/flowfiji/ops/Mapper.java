package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.flow.FlowOutput;
import org.flowfiji.model.FlowModel;

/**
 * Likelihood maps: the log-density of every plane of an image under a model, pixel by pixel.
 *
 * <p><b>Exact mode.</b> One density pass over the plane; every per-element contribution (base
 * density and log-determinant maps at every level, plus the normaliser's {@code -log scale} per
 * element) is carried back to the input pixels it covers and channels are summed, so the map sums
 * to {@code log p(plane)} in raw intensity units. Integer data are evaluated at the centre of each
 * quantisation bin ({@code u = 0.5}).
 *
 * <p><b>Image sizes.</b> The flow is defined on images whose sides are multiples of
 * {@code 2^levels}. Other planes are mirror-extended to the next multiple, mapped, and the map is
 * cropped back; the plane's log-likelihood is then defined as the sum of the cropped map (the
 * padding's share is left out). For sides that are multiples, nothing is padded and the numbers
 * are exactly {@code log p(plane)}.
 *
 * <p><b>Tiles.</b> RealNVP and Glow are local: each map value depends on input pixels within the
 * flow's receptive radius only. Planes larger than a tile are therefore processed in tiles whose
 * origins are multiples of {@code 2^levels} (so squeezes and checkerboards align), each read with
 * a margin of at least that radius and clipped at the plane's border (where the network pads with
 * zeros as it does for the whole plane); the tile centres are stitched. This reproduces the
 * whole-plane pass up to float rounding, with memory bounded by the tile batch, not the image.
 * IAF's density pass is a sequential solve whose dependencies reach across the whole plane, so IAF
 * maps are computed on whole planes.
 *
 * <p><b>Window mode.</b> {@code log p(window) / D} of the patch-sized window around each pixel,
 * sampled with a stride: a local anomaly score in nats (or bits) per dimension.
 *
 * <p><b>Ratio.</b> With a reference model the map is {@code map(model) - map(reference)}, the
 * likelihood ratio that suppresses what both models find simply smooth.
 */
public final class Mapper {
    private Mapper() {}

    /** Default tile side before rounding to a multiple of 2^levels. */
    static final int DEFAULT_TILE = 256;
    static final int DEFAULT_TILE_BATCH = 4;
    private static final double LN2 = Math.log(2);

    /**
     * Maps every plane of {@code data}; returns a 32-bit image with the input's size, planes and
     * calibration (one channel).
     */
    public static MapResult map(FlowModel model, FlowModel reference, ImageData data, MapSettings settings,
                                ProgressListener progress, Cancellation cancel) {
        checkCompatible(model, data);
        if (reference != null) checkCompatible(reference, data);
        if (settings == null) settings = MapSettings.defaults();
        if (progress == null) progress = ProgressListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        int n = data.planeCount();
        List<float[]> out = new ArrayList<>(n);
        List<Double> ll = new ArrayList<>(n);
        List<Double> sums = new ArrayList<>(n);
        List<Double> bpd = new ArrayList<>(n);
        double dims = (double) data.planeSize();
        int stages = reference == null ? 1 : 2;
        for (int p = 0; p < n; p++) {
            cancel.check();
            final int plane = p;
            ProgressListener sub = scaled(progress, "Likelihood map", p * stages, n * stages);
            float[] map;
            double logp;
            if (settings.mode() == MapSettings.Mode.EXACT) {
                map = exactPlane(model, data, p, settings.tileSize(), sub, cancel);
                logp = sum(map);
            } else {
                map = windowPlane(model, data, p, settings.windowStride(), sub, cancel);
                logp = sum(exactPlane(model, data, p, settings.tileSize(), ProgressListener.NONE, cancel));
            }
            if (reference != null) {
                ProgressListener sub2 = scaled(progress, "Reference map", p * stages + 1, n * stages);
                float[] ref = settings.mode() == MapSettings.Mode.EXACT
                        ? exactPlane(reference, data, plane, settings.tileSize(), sub2, cancel)
                        : windowPlane(reference, data, plane, settings.windowStride(), sub2, cancel);
                double refLogp = settings.mode() == MapSettings.Mode.EXACT ? sum(ref)
                        : sum(exactPlane(reference, data, plane, settings.tileSize(), ProgressListener.NONE, cancel));
                for (int i = 0; i < map.length; i++) map[i] -= ref[i];
                logp -= refLogp;
            }
            double mapSum = sum(map);
            if (settings.units() == MapSettings.Units.BITS) {
                float k = (float) (1 / LN2);
                for (int i = 0; i < map.length; i++) map[i] *= k;
            }
            out.add(map);
            ll.add(logp);
            sums.add(mapSum);
            bpd.add(-logp / (dims * LN2));
        }
        progress.progress("Likelihood map", n, n);
        ImageData result = new ImageData("LogLikelihood of " + data.name(), data.width(), data.height(), 1, 32, out,
                data.calibration(), null, data.slices(), data.frames());
        return new MapResult(result, ll, sums, bpd);
    }

    /** Sum in double precision. */
    static double sum(float[] a) {
        double s = 0;
        for (float v : a) s += v;
        return s;
    }

    static void checkCompatible(FlowModel model, ImageData data) {
        if (model.channels() != data.channels()) {
            throw new IllegalArgumentException("The model expects " + model.channels() + " channel(s) but image '"
                    + data.name() + "' has " + data.channels() + ": use an image with the channels the model was trained on.");
        }
    }

    private static ProgressListener scaled(ProgressListener p, String task, long part, long parts) {
        return (t, done, total) -> p.progress(task, part * 1000 + (total == 0 ? 0 : done * 1000 / total), parts * 1000);
    }

    static int roundUp(int v, int m) {
        return ((v + m - 1) / m) * m;
    }

    /**
     * Receptive radius of a RealNVP or Glow flow in input pixels: how far from its own pixel block
     * any map value can look. A coupling network of radius r running at a scale where one position
     * covers s x s pixels adds r*s; a squeeze from scale s adds s; a conditional split prior (3x3
     * convolution) adds s; ActNorm, batch normalisation and 1x1 convolutions add nothing. One
     * coarsest-scale block is added for the spreading of map values over blocks, and the result is
     * rounded up to a multiple of 2^levels. The tiled-versus-whole-plane test checks this bound.
     */
    static int receptiveRadius(FlowConfig c) {
        int r = 0;
        int s = 1;
        int steps = c.steps();
        for (int l = 0; l < c.levels(); l++) {
            boolean last = l == c.levels() - 1;
            switch (c.architecture()) {
                case GLOW -> {
                    r += s;
                    s *= 2;
                    r += steps * 2 * s;
                }
                case REALNVP -> {
                    int net = 2 + 2 * c.blocks();
                    r += (last ? steps + 1 : steps) * net * s;
                    if (!last) {
                        r += s;
                        s *= 2;
                        r += steps * net * s;
                    }
                }
                case IAF -> throw new IllegalArgumentException("IAF maps are computed on whole planes");
            }
            if (!last) r += s;
        }
        return roundUp(r + c.sizeMultiple(), c.sizeMultiple());
    }

    /** The exact map of one plane, H x W, nats per pixel, raw units; sums to log p(plane). */
    static float[] exactPlane(FlowModel model, ImageData data, int p, int tileSize, ProgressListener progress,
                              Cancellation cancel) {
        FlowConfig c = model.config();
        int m = c.sizeMultiple();
        int h = data.height();
        int w = data.width();
        int hp = roundUp(h, m);
        int wp = roundUp(w, m);
        int tile = roundUp(tileSize > 0 ? tileSize : DEFAULT_TILE, m);
        boolean iaf = c.architecture() == Architecture.IAF;
        int margin = iaf ? 0 : receptiveRadius(c);
        float[] map = new float[h * w];
        boolean single = iaf || (hp <= tile + 2 * margin && wp <= tile + 2 * margin);
        if (single) {
            tile = Math.max(hp, wp);
            margin = 0;
        }
        int batch = DEFAULT_TILE_BATCH;
        while (true) {
            try {
                runTiles(model, data, p, hp, wp, tile, margin, batch, map, progress, cancel);
                return map;
            } catch (RuntimeException e) {
                if (!isOutOfMemory(e) || (batch == 1 && (single || tile <= 2 * m))) throw e;
                if (batch > 1) batch /= 2;
                else tile = roundUp(tile / 2, m);
            }
        }
    }

    static boolean isOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String msg = t.getMessage();
            if (t instanceof OutOfMemoryError || (msg != null && msg.toLowerCase().contains("out of memory"))) return true;
        }
        return false;
    }

    private record Tile(int y0, int x0, int ty0, int tx0, int th, int tw, int iy0, int ix0, int ih, int iw) {}

    private static void runTiles(FlowModel model, ImageData data, int p, int hp, int wp, int tile, int margin, int batch,
                                 float[] map, ProgressListener progress, Cancellation cancel) {
        int h = data.height();
        int w = data.width();
        List<Tile> row = new ArrayList<>();
        int rows = (hp + tile - 1) / tile;
        for (int r = 0; r < rows; r++) {
            cancel.check();
            int ty0 = r * tile;
            int th = Math.min(tile, hp - ty0);
            int iy0 = Math.max(0, ty0 - margin);
            int iy1 = Math.min(hp, ty0 + th + margin);
            row.clear();
            for (int tx0 = 0; tx0 < wp; tx0 += tile) {
                int tw = Math.min(tile, wp - tx0);
                int ix0 = Math.max(0, tx0 - margin);
                int ix1 = Math.min(wp, tx0 + tw + margin);
                row.add(new Tile(0, 0, ty0, tx0, th, tw, iy0, ix0, iy1 - iy0, ix1 - ix0));
            }
            // batch tiles of equal input size
            int i = 0;
            while (i < row.size()) {
                int j = i + 1;
                while (j < row.size() && j - i < batch && row.get(j).ih() == row.get(i).ih() && row.get(j).iw() == row.get(i).iw()) j++;
                runBatch(model, data, p, row.subList(i, j), map, h, w);
                i = j;
                cancel.check();
            }
            progress.progress("Likelihood map", r + 1, rows);
        }
    }

    private static void runBatch(FlowModel model, ImageData data, int p, List<Tile> tiles, float[] map, int h, int w) {
        Tile first = tiles.get(0);
        int b = tiles.size();
        int ch = data.channels();
        int ih = first.ih();
        int iw = first.iw();
        double dequant = model.isInteger() ? 0.5 : 0.0;
        float[] buf = new float[b * ch * ih * iw];
        for (int k = 0; k < b; k++) {
            Tile t = tiles.get(k);
            PlaneTensors.copyNormalized(data.plane(p), ch, h, w, t.iy0(), t.ix0(), ih, iw, model.normalizer(), dequant, buf, k);
        }
        float perPixel = (float) (ch * model.normalizer().logJacobianPerElement());
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray input = PlaneTensors.create(scope, buf, b, ch, ih, iw);
            FlowContext ctx = model.evalContext(scope, true);
            FlowOutput out = model.flow().forward(ctx, input);
            float[] pm = out.pixelMap().toFloatArray();
            for (int k = 0; k < b; k++) {
                Tile t = tiles.get(k);
                int base = k * ih * iw;
                int yEnd = Math.min(t.ty0() + t.th(), h);
                int xEnd = Math.min(t.tx0() + t.tw(), w);
                for (int y = t.ty0(); y < yEnd; y++) {
                    int src = base + (y - t.iy0()) * iw + (t.tx0() - t.ix0());
                    int dst = y * w + t.tx0();
                    for (int x = t.tx0(); x < xEnd; x++) map[dst++] = pm[src++] + perPixel;
                }
            }
        }
    }

    /** Window map of one plane: log p(window)/D around each pixel, nats per dimension, raw units. */
    static float[] windowPlane(FlowModel model, ImageData data, int p, int strideSetting, ProgressListener progress,
                               Cancellation cancel) {
        int patch = model.patchSize();
        int h = data.height();
        int w = data.width();
        int ch = data.channels();
        int stride = strideSetting > 0 ? strideSetting : Math.max(1, patch / 4);
        int ny = (h + stride - 1) / stride;
        int nx = (w + stride - 1) / stride;
        float[] cells = new float[ny * nx];
        double dims = (double) ch * patch * patch;
        double logJac = model.normalizer().logJacobianPerElement();
        double dequant = model.isInteger() ? 0.5 : 0.0;
        int batch = Math.max(1, 64 * 32 * 32 / (patch * patch));
        float[] buf = new float[batch * ch * patch * patch];
        int total = ny * nx;
        int done = 0;
        while (done < total) {
            cancel.check();
            int b = Math.min(batch, total - done);
            for (int k = 0; k < b; k++) {
                int cell = done + k;
                int cy = (cell / nx) * stride + stride / 2;
                int cx = (cell % nx) * stride + stride / 2;
                PlaneTensors.copyNormalized(data.plane(p), ch, h, w, cy - patch / 2, cx - patch / 2, patch, patch,
                        model.normalizer(), dequant, buf, k);
            }
            try (NDManager scope = model.manager().newSubManager()) {
                NDArray x = PlaneTensors.create(scope, b == batch ? buf : java.util.Arrays.copyOf(buf, b * ch * patch * patch), b, ch, patch, patch);
                float[] ll = model.flow().forward(model.evalContext(scope, false), x).logLikelihood().toFloatArray();
                for (int k = 0; k < b; k++) cells[done + k] = (float) (ll[k] / dims + logJac);
            }
            done += b;
            progress.progress("Window map", done, total);
        }
        float[] map = new float[h * w];
        for (int y = 0; y < h; y++) {
            int cy = Math.min(ny - 1, y / stride);
            for (int x = 0; x < w; x++) map[y * w + x] = cells[cy * nx + Math.min(nx - 1, x / stride)];
        }
        return map;
    }
}
