package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ij.ImagePlus;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleConsumer;
import java.util.function.IntFunction;
import org.flowfiji.data.TiffStackWriter;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
import org.flowfiji.data.PlaneSource;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.flow.FlowOutput;
import org.flowfiji.flow.MultiScaleFlow;
import org.flowfiji.model.Engines;
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
 * Flows of two levels or more run such planes in two stages with margins of their own radii
 * (level 0, then the rest; see {@link StagedBands}). IAF's density pass is a sequential solve
 * whose dependencies reach across the whole plane, so IAF maps are computed on whole planes.
 *
 * <p><b>Streaming.</b> {@link #mapToTiff} reads planes from an ImageJ image (a virtual stack
 * reads one plane at a time) and writes the map band by band into a TIFF file, so neither the
 * input as floats nor the output map is ever held whole: memory is bounded by one input plane in
 * its own bit depth and a few bands of tiles.
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
    static final int DEFAULT_TILE = 2048;
    /** Pixels (with margins) of the tiles run together in one batch: four 512 x 512 tiles, or one big tile. */
    static final long TILE_BATCH_PIXELS = 4L * 512 * 512;
    private static final double LN2 = Math.log(2);

    /** Receives consecutive map rows of a plane: {@code count} rows of width W from {@code values[offset]}. */
    @FunctionalInterface
    interface RowSink {
        void rows(int y0, float[] values, int offset, int count) throws IOException;
    }

    /**
     * Maps every plane of {@code data}; returns a 32-bit image with the input's size, planes and
     * calibration (one channel).
     */
    public static MapResult map(FlowModel model, FlowModel reference, ImageData data, MapSettings settings,
                                ProgressListener progress, Cancellation cancel) {
        int n = data.planeCount();
        int w = data.width();
        List<float[]> out = new ArrayList<>(n);
        PlaneResults r;
        try {
            r = run(model, reference, n, p -> PlaneSource.of(data, p), data.planeSize(), settings, progress, cancel,
                    p -> {
                        float[] plane = new float[w * data.height()];
                        out.add(plane);
                        return (y0, values, offset, count) -> System.arraycopy(values, offset, plane, y0 * w, count * w);
                    });
        } catch (IOException e) {
            throw new IllegalStateException("in-memory map failed", e);
        }
        ImageData result = new ImageData("LogLikelihood of " + data.name(), w, data.height(), 1, 32, out,
                data.calibration(), null, data.slices(), data.frames());
        return new MapResult(result, r.ll, r.sums, r.bpd);
    }

    /**
     * Maps every plane of an ImageJ image straight into a 32-bit TIFF at {@code out} (written
     * atomically; nothing is left behind on failure or cancel). The result carries the per-plane
     * figures and no image.
     */
    public static MapResult mapToTiff(FlowModel model, FlowModel reference, ImagePlus imp, MapSettings settings,
                                      Path out, ProgressListener progress, Cancellation cancel) throws IOException {
        int slices = imp.getNSlices();
        int frames = imp.getNFrames();
        int n = slices * frames;
        int w = imp.getWidth();
        int h = imp.getHeight();
        ij.measure.Calibration c = imp.getCalibration();
        ImageData.Calibration cal = new ImageData.Calibration(c.pixelWidth, c.pixelHeight, c.pixelDepth, c.getUnit());
        int channels = imp.getType() == ImagePlus.COLOR_RGB ? 3 * imp.getNChannels() : imp.getNChannels();
        try (TiffStackWriter writer = new TiffStackWriter(out, w, h, slices, frames, cal)) {
            PlaneResults r = run(model, reference, n, p -> PlaneSource.of(imp, p), (long) channels * w * h, settings,
                    progress, cancel, p -> (y0, values, offset, count) -> writer.writeRows(values, offset, count));
            writer.commit();
            return new MapResult(null, r.ll, r.sums, r.bpd);
        }
    }

    private record PlaneResults(List<Double> ll, List<Double> sums, List<Double> bpd) {}

    @FunctionalInterface
    private interface Planes {
        PlaneSource plane(int p);
    }

    @FunctionalInterface
    private interface Sinks {
        RowSink forPlane(int p);
    }

    private static PlaneResults run(FlowModel model, FlowModel reference, int n, Planes planes, long dims,
                                    MapSettings settings, ProgressListener progress, Cancellation cancel, Sinks sinks)
            throws IOException {
        try (Engines.Inference noGrad = Engines.inference()) {
            return runPlanes(model, reference, n, planes, dims, settings, progress, cancel, sinks);
        }
    }

    private static PlaneResults runPlanes(FlowModel model, FlowModel reference, int n, Planes planes, long dims,
                                          MapSettings settings, ProgressListener progress, Cancellation cancel, Sinks sinks)
            throws IOException {
        if (settings == null) settings = MapSettings.defaults();
        if (progress == null) progress = ProgressListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        List<Double> ll = new ArrayList<>(n);
        List<Double> sums = new ArrayList<>(n);
        List<Double> bpd = new ArrayList<>(n);
        float scale = settings.units() == MapSettings.Units.BITS ? (float) (1 / LN2) : 1f;
        for (int p = 0; p < n; p++) {
            cancel.check();
            PlaneSource src = planes.plane(p);
            checkCompatible(model, src.channels(), "plane " + (p + 1));
            if (reference != null) checkCompatible(reference, src.channels(), "plane " + (p + 1));
            ProgressListener sub = scaled(progress, "Likelihood map", p, n);
            RowSink sink = sinks.forPlane(p);
            double[] totals = new double[2];
            RowSink scaled = (y0, values, offset, count) -> {
                int len = count * src.width();
                for (int i = offset; i < offset + len; i++) totals[1] += values[i];
                if (scale != 1f) for (int i = offset; i < offset + len; i++) values[i] *= scale;
                sink.rows(y0, values, offset, count);
            };
            if (settings.mode() == MapSettings.Mode.EXACT) {
                totals[0] = exactBands(model, reference, src, settings.tileSize(), sub, cancel, scaled);
            } else {
                float[] map = windowPlane(model, src, settings.windowStride(), sub, cancel);
                double logp = exactBands(model, null, src, settings.tileSize(), ProgressListener.NONE, cancel, null);
                if (reference != null) {
                    float[] ref = windowPlane(reference, src, settings.windowStride(), ProgressListener.NONE, cancel);
                    for (int i = 0; i < map.length; i++) map[i] -= ref[i];
                    logp -= exactBands(reference, null, src, settings.tileSize(), ProgressListener.NONE, cancel, null);
                }
                totals[0] = logp;
                scaled.rows(0, map, 0, src.height());
            }
            ll.add(totals[0]);
            sums.add(totals[1]);
            bpd.add(-totals[0] / (dims * LN2));
        }
        progress.progress("Likelihood map", n, n);
        return new PlaneResults(ll, sums, bpd);
    }

    /** Sum in double precision. */
    static double sum(float[] a) {
        double s = 0;
        for (float v : a) s += v;
        return s;
    }

    static void checkCompatible(FlowModel model, ImageData data) {
        checkCompatible(model, data.channels(), "image '" + data.name() + "'");
    }

    private static void checkCompatible(FlowModel model, int channels, String what) {
        if (model.channels() != channels) {
            throw new IllegalArgumentException("The model expects " + model.channels() + " channel(s) but " + what
                    + " has " + channels + ": use an image with the channels the model was trained on.");
        }
    }

    private static ProgressListener scaled(ProgressListener p, String task, long part, long parts) {
        return p.withProgress((t, done, total) -> p.progress(task, part * 1000 + (total == 0 ? 0 : done * 1000 / total),
                parts * 1000));
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
        return receptiveRadius(c, 0, c.levels());
    }

    /**
     * Receptive radius, in input pixels, of levels {@code from} to {@code to - 1} alone (with the
     * split priors after them), measured on their input (at scale {@code 2^from}): how far from its
     * block any of their map values or kept outputs can look. See {@link #receptiveRadius(FlowConfig)}.
     */
    static int receptiveRadius(FlowConfig c, int from, int to) {
        int r = 0;
        int s = 1 << from;
        int steps = c.steps();
        for (int l = from; l < to; l++) {
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
        return Indices.roundUp(r + (1 << to), c.sizeMultiple());
    }

    /** The exact map of one in-memory plane, H x W, nats per pixel, raw units; sums to log p(plane). */
    static float[] exactPlane(FlowModel model, ImageData data, int p, int tileSize, ProgressListener progress,
                              Cancellation cancel) {
        int w = data.width();
        float[] map = new float[w * data.height()];
        try (Engines.Inference noGrad = Engines.inference()) {
            exactBands(model, null, PlaneSource.of(data, p), tileSize, progress, cancel,
                    (y0, values, offset, count) -> System.arraycopy(values, offset, map, y0 * w, count * w));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return map;
    }

    /**
     * Whether an error means memory ran out: a Java OutOfMemoryError, or an engine error that says
     * so. CUDA says "out of memory"; libtorch's CPU allocator says "can't allocate memory" (Linux,
     * macOS) or "not enough memory" (Windows).
     */
    static boolean isOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String msg = t.getMessage() == null ? "" : t.getMessage().toLowerCase();
            if (t instanceof OutOfMemoryError || msg.contains("out of memory") || msg.contains("can't allocate memory")
                    || msg.contains("not enough memory")) return true;
        }
        return false;
    }

    /**
     * The exact map (model minus reference, when there is one) of a plane, computed in horizontal
     * bands of tiles and handed to {@code sink} band by band (rows in order; {@code sink} may be
     * null). Returns the plane's log-likelihood: the sum of the map.
     */
    static double exactBands(FlowModel model, FlowModel reference, PlaneSource src, int tileSize, ProgressListener progress,
                             Cancellation cancel, RowSink sink) throws IOException {
        int h = src.height();
        int w = src.width();
        int m = model.config().sizeMultiple();
        if (reference != null) m = Math.max(m, reference.config().sizeMultiple());
        boolean whole = model.config().architecture() == Architecture.IAF
                || (reference != null && reference.config().architecture() == Architecture.IAF);
        int tile = whole ? Indices.roundUp(Math.max(h, w), m) : Indices.roundUp(tileSize > 0 ? tileSize : DEFAULT_TILE, m);
        // a run of tiles never spans two bands: a batch larger than a band's tiles would only delay a back-off
        int perBand = (Indices.roundUp(w, m) + tile - 1) / tile;
        int batch = (int) Math.max(1, Math.min(perBand, TILE_BATCH_PIXELS / ((long) tile * tile)));
        // a plane that fits in one tile has no margins to save: one pass
        boolean tiled = Indices.roundUp(h, m) > tile || Indices.roundUp(w, m) > tile;
        StagedBands staged = tiled && staged(model) ? new StagedBands(model, src) : null;
        StagedBands stagedReference = tiled && reference != null && staged(reference)
                ? new StagedBands(reference, src) : null;
        double total = 0;
        int y0 = 0;
        while (y0 < h) {
            cancel.check();
            int band = Math.min(tile, Indices.roundUp(h, m) - y0);
            float[] rows;
            int top = y0;
            int models = reference == null ? 1 : 2;
            // the share f of model k's tiles of this band done: rows top .. top + band, split between the models
            IntFunction<DoubleConsumer> done = k -> f -> progress.progress("Likelihood map",
                    Math.min(h, top + (int) (band * (k + f) / models)), h);
            try {
                rows = staged != null ? staged.band(y0, band, tile, batch, cancel, done.apply(0))
                        : band(model, src, y0, band, tile, batch, cancel, done.apply(0));
                if (reference != null) {
                    float[] ref = stagedReference != null
                            ? stagedReference.band(y0, band, tile, batch, cancel, done.apply(1))
                            : band(reference, src, y0, band, tile, batch, cancel, done.apply(1));
                    for (int i = 0; i < rows.length; i++) rows[i] -= ref[i];
                }
            } catch (RuntimeException e) {
                if (!isOutOfMemory(e) || (batch == 1 && (whole || tile <= 2 * m))) throw e;
                if (staged != null) staged.clear();
                if (stagedReference != null) stagedReference.clear();
                String was = tiling(batch, tile);
                if (batch > 1) batch /= 2;
                else tile = Indices.roundUp(tile / 2, m);
                progress.message("Memory ran out mapping " + was + " (rows from " + y0 + "): going on with "
                        + tiling(batch, tile) + ". Maps in smaller tiles take longer; the values are the same.");
                continue;
            }
            int count = Math.min(band, h - y0);
            for (int i = 0; i < count * w; i++) total += rows[i];
            if (sink != null) sink.rows(y0, rows, 0, count);
            y0 += band;
            progress.progress("Likelihood map", Math.min(y0, h), h);
        }
        return total;
    }

    /** How a map runs its tiles, for messages: "4 tiles of 256 px at a time" or "tiles of 1024 px". */
    private static String tiling(int batch, int tile) {
        return batch > 1 ? batch + " tiles of " + tile + " px at a time" : "tiles of " + tile + " px";
    }

    /** A tile's columns: [tx0, tx0 + tw) kept, read from ix0 with width iw (the margins clipped). */
    record Tile(int tx0, int tw, int ix0, int iw) {}

    /** Tiles of side {@code tile} across a padded width {@code wp}, each read with {@code margin} (clipped). */
    static List<Tile> tiles(int wp, int tile, int margin) {
        List<Tile> tiles = new ArrayList<>();
        for (int tx0 = 0; tx0 < wp; tx0 += tile) {
            int tw = Math.min(tile, wp - tx0);
            int ix0 = Math.max(0, tx0 - margin);
            int ix1 = Math.min(wp, tx0 + tw + margin);
            tiles.add(new Tile(tx0, tw, ix0, ix1 - ix0));
        }
        return tiles;
    }

    /** The tiles in order, in runs that share a read width and hold at most {@code batch} tiles: one pass each. */
    private static List<List<Tile>> batches(List<Tile> tiles, int batch) {
        List<List<Tile>> parts = new ArrayList<>();
        int i = 0;
        while (i < tiles.size()) {
            int j = i + 1;
            while (j < tiles.size() && j - i < batch && tiles.get(j).iw() == tiles.get(i).iw()) j++;
            parts.add(tiles.subList(i, j));
            i = j;
        }
        return parts;
    }

    /**
     * The normalised input of a run of tiles of one read width, each {@code ih} rows from row
     * {@code iy0}: [tiles, C, ih, iw] values.
     */
    private static float[] tileInput(FlowModel model, PlaneSource src, List<Tile> part, int iy0, int ih) {
        int ch = src.channels();
        int iw = part.get(0).iw();
        double dequant = model.isInteger() ? 0.5 : 0.0;
        float[] buf = new float[part.size() * ch * ih * iw];
        for (int k = 0; k < part.size(); k++) {
            PlaneTensors.copyNormalized(src, iy0, part.get(k).ix0(), ih, iw, model.normalizer(), dequant, buf, k);
        }
        return buf;
    }

    /**
     * Whether a model's exact maps of planes larger than a tile run in two stages
     * ({@link StagedBands}): RealNVP and Glow of two levels or more.
     */
    static boolean staged(FlowModel model) {
        FlowConfig c = model.config();
        return c.architecture() != Architecture.IAF && c.levels() > 1 && model.flow() instanceof MultiScaleFlow;
    }

    /**
     * The exact map of one plane in two stages, band of rows after band. A single tiled pass would
     * compute every level over margins of the whole flow's receptive radius, most of which (for the
     * default Glow, 72 of 108 pixels) comes from the coarser levels; yet the first level costs most,
     * since it runs at the finest grid. So the first stage runs level 0 and the split after it, in
     * tiles read with level 0's own radius as margin, and keeps, for whole bands of rows, the half
     * the split keeps (at half resolution) and level 0's share of the map. The second stage runs the
     * remaining levels in tiles over those kept halves, read with the remaining levels' radius as
     * margin, and adds their share. A band of first-stage rows is kept until no later band's
     * second stage reads it (a band and a margin above and below), so memory stays bounded by a
     * few bands of the plane's width. Both stages reproduce the whole-plane pass, up to float
     * rounding, for the same reason single-pass tiles do (tile origins at multiples of 2^levels,
     * margins at least the radius, zero padding only at the plane's border).
     */
    private static final class StagedBands {
        private final FlowModel model;
        private final MultiScaleFlow flow;
        private final PlaneSource src;
        private final int hp;
        private final int wp;
        private final int w;
        /** Margins of the two stages in input pixels. */
        private final int r1;
        private final int r2;
        private final List<FirstStageRows> done = new ArrayList<>();
        /** The first input row whose first stage is still to run. */
        private int next;

        /** Rows [y0, y0 + rows) after level 0: the kept half [C1, rows/2, wp/2] and level 0's map share [rows, w]. */
        private static final class FirstStageRows {
            final int y0;
            final int rows;
            final int channels;
            final float[] kept;
            float[] map;

            FirstStageRows(int y0, int rows, int channels, float[] kept, float[] map) {
                this.y0 = y0;
                this.rows = rows;
                this.channels = channels;
                this.kept = kept;
                this.map = map;
            }
        }

        StagedBands(FlowModel model, PlaneSource src) {
            FlowConfig c = model.config();
            int m = c.sizeMultiple();
            this.model = model;
            this.flow = (MultiScaleFlow) model.flow();
            this.src = src;
            this.hp = Indices.roundUp(src.height(), m);
            this.wp = Indices.roundUp(src.width(), m);
            this.w = src.width();
            this.r1 = receptiveRadius(c, 0, 1);
            this.r2 = receptiveRadius(c, 1, c.levels());
        }

        /** Forgets the first stage's rows (after an out-of-memory retry with other tiles). */
        void clear() {
            done.clear();
        }

        /** The map of rows [y0, y0 + band), full width, as {@link #band} of the single pass returns it. */
        float[] band(int y0, int band, int tile, int batch, Cancellation cancel, DoubleConsumer progress) {
            int need0 = Math.max(0, y0 - r2);
            int need1 = Math.min(hp, y0 + band + r2);
            done.removeIf(e -> e.y0 + e.rows <= need0);
            if (done.isEmpty()) next = need0;
            while (next < need1) {
                int rows = Math.min(tile, hp - next);
                done.add(firstStage(next, rows, tile, batch, cancel));
                next += rows;
            }
            float[] out = new float[band * w];
            // rows past this model's own padded height (a reference's may be taller) lie beyond the plane
            int rows = Math.min(band, hp - y0);
            for (int y = y0; y < y0 + rows; y++) {
                FirstStageRows e = rowsAt(y);
                System.arraycopy(e.map, (y - e.y0) * w, out, (y - y0) * w, w);
                if (y == e.y0 + e.rows - 1) e.map = null;
            }
            secondStage(y0, rows, tile, batch, cancel, out, progress);
            return out;
        }

        private FirstStageRows rowsAt(int y) {
            for (FirstStageRows e : done) {
                if (y >= e.y0 && y < e.y0 + e.rows) return e;
            }
            throw new IllegalStateException("row " + y + " of the first stage is not kept");
        }

        private FirstStageRows firstStage(int a, int n, int tile, int batch, Cancellation cancel) {
            int ch = src.channels();
            int iy0 = Math.max(0, a - r1);
            int ih = Math.min(hp, a + n + r1) - iy0;
            float[] map = new float[n * w];
            float[] kept = null;
            int kc = 0;
            for (List<Tile> part : batches(tiles(wp, tile, r1), batch)) {
                cancel.check();
                int b = part.size();
                int iw = part.get(0).iw();
                try (NDManager scope = model.manager().newSubManager()) {
                    NDArray input = PlaneTensors.create(scope, tileInput(model, src, part, iy0, ih), b, ch, ih, iw);
                    MultiScaleFlow.Stage st = flow.encodeLevels(model.evalContext(scope, true), input, 0, 1);
                    float[] pm = st.pixelMap().toFloatArray();
                    float[] kv = st.kept().toFloatArray();
                    kc = (int) st.kept().getShape().get(1);
                    if (kept == null) kept = new float[kc * (n / 2) * (wp / 2)];
                    int kh = ih / 2;
                    int kw = iw / 2;
                    for (int k = 0; k < b; k++) {
                        Tile t = part.get(k);
                        interior(pm, k, ih, iw, t, iy0, a, n, w, map, false, 0f);
                        for (int c = 0; c < kc; c++) {
                            for (int y = 0; y < n / 2; y++) {
                                int s0 = ((k * kc + c) * kh + (a - iy0) / 2 + y) * kw + (t.tx0() - t.ix0()) / 2;
                                System.arraycopy(kv, s0, kept, (c * (n / 2) + y) * (wp / 2) + t.tx0() / 2, t.tw() / 2);
                            }
                        }
                    }
                }
            }
            return new FirstStageRows(a, n, kc, kept, map);
        }

        private void secondStage(int y0, int band, int tile, int batch, Cancellation cancel, float[] out,
                                 DoubleConsumer progress) {
            int iy0 = Math.max(0, y0 - r2);
            int ih = Math.min(hp, y0 + band + r2) - iy0;
            int kc = done.get(0).channels;
            int kh = ih / 2;
            int kwp = wp / 2;
            float perPixel = (float) (src.channels() * model.normalizer().logJacobianPerElement());
            List<Tile> tiles = tiles(wp, tile, r2);
            int tilesDone = 0;
            for (List<Tile> part : batches(tiles, batch)) {
                cancel.check();
                int b = part.size();
                int iw = part.get(0).iw();
                int kw = iw / 2;
                float[] buf = new float[b * kc * kh * kw];
                for (int k = 0; k < b; k++) {
                    int kx0 = part.get(k).ix0() / 2;
                    for (int yy = 0; yy < kh; yy++) {
                        int row = iy0 / 2 + yy;
                        FirstStageRows e = rowsAt(2 * row);
                        int kn = e.rows / 2;
                        for (int c = 0; c < kc; c++) {
                            System.arraycopy(e.kept, (c * kn + row - e.y0 / 2) * kwp + kx0,
                                    buf, ((k * kc + c) * kh + yy) * kw, kw);
                        }
                    }
                }
                try (NDManager scope = model.manager().newSubManager()) {
                    NDArray input = PlaneTensors.create(scope, buf, b, kc, kh, kw);
                    MultiScaleFlow.Stage st = flow.encodeLevels(model.evalContext(scope, true), input, 1,
                            model.config().levels());
                    float[] pm = st.pixelMap().toFloatArray();
                    for (int k = 0; k < b; k++) {
                        interior(pm, k, ih, iw, part.get(k), iy0, y0, band, w, out, true, perPixel);
                    }
                }
                tilesDone += b;
                progress.accept((double) tilesDone / tiles.size());
            }
        }
    }

    /**
     * Map rows [y0, y0+band) of the plane padded to multiples of 2^levels (mirror), full width;
     * returns band x W values (rows beyond the plane included, columns cropped to W). Rows past the
     * model's own padded height (when a reference with more levels pads the plane further) stay 0:
     * they lie beyond the plane and are never handed on.
     */
    private static float[] band(FlowModel model, PlaneSource src, int y0, int band, int tile, int batch,
                                Cancellation cancel, DoubleConsumer done) {
        FlowConfig c = model.config();
        int m = c.sizeMultiple();
        int h = src.height();
        int w = src.width();
        int hp = Indices.roundUp(h, m);
        int wp = Indices.roundUp(w, m);
        boolean iaf = c.architecture() == Architecture.IAF;
        int margin = iaf ? 0 : receptiveRadius(c);
        int iy0 = Math.max(0, y0 - margin);
        int iy1 = Math.min(hp, y0 + band + margin);
        int tileW = iaf ? wp : tile;
        float[] rows = new float[band * w];
        List<Tile> tiles = tiles(wp, tileW, margin);
        int tilesDone = 0;
        for (List<Tile> part : batches(tiles, batch)) {
            cancel.check();
            runBatch(model, src, part, y0, Math.min(band, hp - y0), iy0, iy1 - iy0, rows);
            tilesDone += part.size();
            done.accept((double) tilesDone / tiles.size());
        }
        return rows;
    }

    private static void runBatch(FlowModel model, PlaneSource src, List<Tile> tiles, int y0, int band, int iy0, int ih,
                                 float[] rows) {
        int b = tiles.size();
        int ch = src.channels();
        int w = src.width();
        int iw = tiles.get(0).iw();
        float perPixel = (float) (ch * model.normalizer().logJacobianPerElement());
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray input = PlaneTensors.create(scope, tileInput(model, src, tiles, iy0, ih), b, ch, ih, iw);
            FlowOutput out = model.flow().forward(model.evalContext(scope, true), input);
            float[] pm = out.pixelMap().toFloatArray();
            for (int k = 0; k < b; k++) {
                interior(pm, k, ih, iw, tiles.get(k), iy0, y0, band, w, rows, false, perPixel);
            }
        }
    }

    /**
     * Puts the interior of tile {@code k} of a batch's maps [b, ih, iw] (read from input row
     * {@code iy0}) into rows [y0, y0 + n) of a band of width {@code w}, plus {@code offset}: set,
     * or added to what the band holds. Columns beyond the plane (padding) are left out.
     */
    private static void interior(float[] maps, int k, int ih, int iw, Tile t, int iy0, int y0, int n, int w,
                                 float[] band, boolean add, float offset) {
        int xEnd = Math.min(t.tx0() + t.tw(), w);
        for (int y = 0; y < n; y++) {
            int s = k * ih * iw + (y0 + y - iy0) * iw + (t.tx0() - t.ix0());
            int d = y * w + t.tx0();
            for (int x = t.tx0(); x < xEnd; x++, s++, d++) band[d] = (add ? band[d] : 0f) + maps[s] + offset;
        }
    }

    /** Window map of one plane: log p(window)/D around each pixel, nats per dimension, raw units. */
    static float[] windowPlane(FlowModel model, PlaneSource src, int strideSetting, ProgressListener progress,
                               Cancellation cancel) {
        int patch = model.patchSize();
        int h = src.height();
        int w = src.width();
        int ch = src.channels();
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
                PlaneTensors.copyNormalized(src, cy - patch / 2, cx - patch / 2, patch, patch, model.normalizer(), dequant, buf, k);
            }
            try (NDManager scope = model.manager().newSubManager()) {
                float[] arr = b == batch ? buf : Arrays.copyOf(buf, b * ch * patch * patch);
                NDArray x = PlaneTensors.create(scope, arr, b, ch, patch, patch);
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
