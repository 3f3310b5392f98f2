package org.flowfiji.demo;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.flowfiji.model.FlowModel;
import org.flowfiji.model.TrainingSummary;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.MapResult;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.Mapper;
import org.flowfiji.ops.ProgressListener;
import org.flowfiji.ops.Sampler;

/**
 * The one-command tour: loads the shipped models, samples images, maps the test stack's
 * likelihood (plain and as a ratio against the background model), scores every map against the
 * ground-truth anomaly mask, and writes TIFFs, PNG previews and a Markdown report.
 *
 * <p>Inputs (in {@link Settings#models()}): {@code glow.flow}, {@code realnvp.flow}, {@code iaf.flow}
 * and {@code background.flow}; (in {@link Settings#images()}) {@code train.tif}, {@code test.tif}
 * and {@code test-anomaly-mask.tif}. Every map is scored by its pixel ROC AUC, with the anomaly
 * score {@code -map}: a pixel is suspicious when the model finds it unlikely.
 *
 * <p>Outputs (in {@link Settings#output()}): {@code samples-<model>.tif} and {@code samples.png};
 * {@code map-<name>.tif} (32-bit, log-likelihood in nats per pixel, one plane per test plane) with
 * {@code overlay-<name>.png}; {@code maps.png} (all maps side by side), {@code roc.png},
 * {@code training.png} (loss curves from the models' stored training histories),
 * {@code results.json} and {@code report.md}.
 */
public final class Demo {
    private Demo() {}

    static final double LN2 = Math.log(2);

    /**
     * What the demo reads and writes.
     *
     * @param models folder with glow.flow, realnvp.flow, iaf.flow and background.flow
     * @param images folder with train.tif, test.tif and test-anomaly-mask.tif
     * @param output folder for the results (created; files of earlier runs are overwritten)
     * @param planes test planes to map (0 = all)
     * @param samples images sampled per model
     * @param sampleSize side of the sampled images (a multiple of 2^levels of every model)
     * @param temperature sampling temperature
     * @param seed sampling seed
     * @param windowStride stride of the window-mode maps in pixels
     * @param device "auto", "cpu", "gpu" or "gpu:N"
     */
    public record Settings(Path models, Path images, Path output, int planes, int samples, int sampleSize,
                           double temperature, long seed, int windowStride, String device) {

        public Settings {
            if (planes < 0) throw new IllegalArgumentException("planes must be >= 0 (0 = all), got " + planes);
            if (samples < 1) throw new IllegalArgumentException("samples must be >= 1, got " + samples);
            if (windowStride < 1) throw new IllegalArgumentException("window stride must be >= 1, got " + windowStride);
        }

        /** models/, sample-images/ and demo-output/ in the working folder; every test plane. */
        public static Settings defaults() {
            return new Settings(Path.of("models"), Path.of("sample-images"), Path.of("demo-output"), 0, 8, 64, 0.8, 1,
                    8, "auto");
        }
    }

    /**
     * One likelihood map of the test stack and its score.
     *
     * @param name short name, used in file names
     * @param title what it is, for people
     * @param auc pixel ROC AUC of {@code -map} against the anomaly mask
     * @param roc the full curve
     * @param bitsPerDim per test plane: bits/dim under the model (for a ratio map: the difference)
     * @param seconds time to compute the map
     */
    public record MapScore(String name, String title, double auc, Roc roc, List<Double> bitsPerDim, double seconds) {}

    /**
     * What a demo run produced.
     *
     * @param maps the scored maps, in the order computed
     * @param seconds wall-clock time of the whole run
     * @param report the Markdown report
     * @param files every file written, relative to the output folder
     */
    public record Result(List<MapScore> maps, double seconds, Path report, List<String> files) {}

    /** The models the demo uses, by file stem. */
    static final List<String> MODELS = List.of("glow", "realnvp", "iaf", "background");

    /**
     * How each map is made: model, reference (or null), mode, Gaussian smoothing of the map in
     * pixels (0 = none), title.
     */
    private record MapPlan(String name, String model, String reference, MapSettings.Mode mode, double smoothing,
                           String title) {}

    /** Smoothing of the smoothed ratio map, in pixels (Gaussian sigma). */
    static final double SMOOTHING = 2;

    private static final List<MapPlan> MAPS = List.of(
            new MapPlan("glow", "glow", null, MapSettings.Mode.EXACT, 0, "Glow, exact"),
            new MapPlan("glow-ratio", "glow", "background", MapSettings.Mode.EXACT, 0, "Glow / background, exact"),
            new MapPlan("glow-ratio-smooth", "glow", "background", MapSettings.Mode.EXACT, SMOOTHING,
                    "Glow / background, blurred"),
            new MapPlan("glow-window", "glow", null, MapSettings.Mode.WINDOW, 0, "Glow, window"),
            new MapPlan("glow-ratio-window", "glow", "background", MapSettings.Mode.WINDOW, 0, "Glow / background, window"),
            new MapPlan("realnvp", "realnvp", null, MapSettings.Mode.EXACT, 0, "RealNVP, exact"));

    /**
     * Runs the demo.
     *
     * @param progress receives the progress of the whole run as one task per stage
     * @param log receives one line per finished stage
     * @throws IOException when an input is missing or unreadable, or an output cannot be written
     */
    public static Result run(Settings s, ProgressListener progress, Consumer<String> log, Cancellation cancel)
            throws IOException {
        if (progress == null) progress = ProgressListener.NONE;
        if (log == null) log = m -> {};
        if (cancel == null) cancel = new Cancellation();
        long t0 = System.nanoTime();
        Files.createDirectories(s.output());
        List<String> files = new ArrayList<>();

        ImageData train = ImageIO.read(input(s.images(), "train.tif"));
        ImageData test = limit(ImageIO.read(input(s.images(), "test.tif")), s.planes());
        ImageData mask = limit(ImageIO.read(input(s.images(), "test-anomaly-mask.tif")), s.planes());
        if (mask.planeCount() != test.planeCount() || mask.width() != test.width() || mask.height() != test.height()) {
            throw new IOException("test-anomaly-mask.tif does not match test.tif in size or plane count");
        }

        Stages stages = new Stages(progress, 3 + MAPS.size() + 2 * (int) MAPS.stream()
                .filter(m -> m.mode() == MapSettings.Mode.WINDOW).count() + 1);
        Map<String, FlowModel> models = new LinkedHashMap<>();
        try {
            for (String name : MODELS) {
                Path file = s.models().resolve(name + ".flow");
                if (!Files.isRegularFile(file)) {
                    throw new java.io.FileNotFoundException("model " + file + " not found: run the demo from the project "
                            + "folder (it reads models/ and sample-images/ there) or give --models");
                }
                models.put(name, FlowModel.load(file, s.device()));
            }
            log.accept(String.format(Locale.ROOT, "Loaded %d models from %s, %d test plane(s) from %s",
                    models.size(), s.models(), test.planeCount(), s.images()));

            List<String> sampled = List.of("realnvp", "glow", "iaf");
            List<ImageData> samples = new ArrayList<>();
            for (String name : sampled) {
                cancel.check();
                ImageData img = Sampler.sample(models.get(name), s.samples(), s.sampleSize(), s.sampleSize(),
                        s.temperature(), s.seed(), stages.next("Sampling " + name, 1), cancel);
                samples.add(img);
                String file = "samples-" + name + ".tif";
                ImageIO.writeTiff(img, s.output().resolve(file));
                files.add(file);
            }
            Pictures.writePng(sampleGrid(train, sampled, samples, s), s.output().resolve("samples.png"));
            files.add("samples.png");
            log.accept(String.format(Locale.ROOT, "Sampled %d images of %dx%d from each of %s (temperature %.2f)",
                    s.samples(), s.sampleSize(), s.sampleSize(), String.join(", ", sampled), s.temperature()));

            List<MapScore> scores = new ArrayList<>();
            List<List<float[]>> scoreMaps = new ArrayList<>();
            Map<String, MapResult> computed = new LinkedHashMap<>();
            for (MapPlan plan : MAPS) {
                cancel.check();
                long m0 = System.nanoTime();
                String key = plan.model() + "/" + plan.reference() + "/" + plan.mode();
                MapResult r = computed.get(key);
                ProgressListener stage = stages.next("Map " + plan.name(), plan.mode() == MapSettings.Mode.WINDOW ? 3 : 1);
                if (r == null) {
                    MapSettings ms = new MapSettings(plan.mode(), MapSettings.Units.NATS, 0, s.windowStride());
                    r = Mapper.map(models.get(plan.model()), plan.reference() == null ? null : models.get(plan.reference()),
                            test, ms, stage, cancel);
                    computed.put(key, r);
                }
                ImageData map = plan.smoothing() > 0 ? smooth(r.map(), plan.smoothing()) : r.map();
                double seconds = (System.nanoTime() - m0) * 1e-9;
                String file = "map-" + plan.name() + ".tif";
                ImageIO.writeTiff(map, s.output().resolve(file));
                files.add(file);
                List<float[]> score = negate(map.planes());
                Roc roc = Roc.of(score, mask.planes());
                scores.add(new MapScore(plan.name(), plan.title(), roc.auc(), roc, r.bitsPerDim(), seconds));
                scoreMaps.add(score);
                String png = "overlay-" + plan.name() + ".png";
                Pictures.writePng(overlayFigure(test, mask, score, plan.title()), s.output().resolve(png));
                files.add(png);
                log.accept(String.format(Locale.ROOT, "Map %-18s pixel ROC AUC %s  (%.1f s)", plan.name(),
                        formatAuc(roc.auc()), seconds));
            }
            ProgressListener last = stages.next("Pictures and report", 1);
            last.progress("", 0, 1);
            Pictures.writePng(mapsFigure(test, mask, scores, scoreMaps), s.output().resolve("maps.png"));
            files.add("maps.png");
            Pictures.writePng(rocFigure(scores), s.output().resolve("roc.png"));
            files.add("roc.png");
            BufferedImage curves = trainingFigure(models);
            Pictures.writePng(curves, s.output().resolve("training.png"));
            files.add("training.png");

            List<Double> testBits = scores.get(0).bitsPerDim();
            double seconds = (System.nanoTime() - t0) * 1e-9;
            writeJson(s, scores, testBits, seconds, s.output().resolve("results.json"));
            files.add("results.json");
            Path report = s.output().resolve("report.md");
            files.add("report.md");
            Files.writeString(report, report(s, models, test, scores, testBits, files, seconds), StandardCharsets.UTF_8);
            progress.progress(String.format(Locale.ROOT, "%-24s", "Done"), 1, 1);
            return new Result(scores, seconds, report, files);
        } finally {
            for (FlowModel m : models.values()) m.close();
        }
    }

    /** The AUC as printed on the terminal and in the report (same text in both). */
    public static String formatAuc(double auc) {
        return String.format(Locale.ROOT, "%.4f", auc);
    }

    private static Path input(Path folder, String name) throws IOException {
        Path p = folder.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new java.io.FileNotFoundException("image " + p + " not found: run the demo from the project folder "
                    + "(it reads models/ and sample-images/ there) or give --images");
        }
        return p;
    }

    private static ImageData limit(ImageData d, int planes) {
        if (planes <= 0 || planes >= d.planeCount()) return d;
        return new ImageData(d.name(), d.width(), d.height(), d.channels(), d.bitDepth(), d.planes().subList(0, planes),
                d.calibration());
    }

    /** The map blurred plane by plane with a Gaussian of {@code sigma} pixels. */
    static ImageData smooth(ImageData map, double sigma) {
        List<float[]> planes = new ArrayList<>(map.planeCount());
        for (float[] p : map.planes()) planes.add(Filters.gaussian(p, map.width(), map.height(), sigma));
        return new ImageData(map.name(), map.width(), map.height(), map.channels(), map.bitDepth(), planes,
                map.calibration(), null, map.slices(), map.frames());
    }

    private static List<float[]> negate(List<float[]> planes) {
        List<float[]> out = new ArrayList<>(planes.size());
        for (float[] p : planes) {
            float[] q = new float[p.length];
            for (int i = 0; i < p.length; i++) q[i] = -p[i];
            out.add(q);
        }
        return out;
    }

    /** Progress of the whole run, split into stages of given weights. */
    private static final class Stages {
        private final ProgressListener out;
        private final long total;
        private long base;

        Stages(ProgressListener out, int totalWeight) {
            this.out = out;
            this.total = totalWeight * 1000L;
        }

        ProgressListener next(String task, int weight) {
            long start = base;
            long span = weight * 1000L;
            base += span;
            String label = String.format(Locale.ROOT, "%-24s", task);
            return out.withProgress((t, done, n) -> out.progress(label,
                    Math.min(total, start + (n <= 0 ? 0 : done * span / n)), total));
        }
    }

    // ---------------------------------------------------------------- pictures

    /** Display range of raw images: 0.5 and 99.8 percentiles. */
    private static double[] displayRange(List<float[]> planes) {
        return Pictures.percentiles(planes, 0.5, 99.8);
    }

    private static BufferedImage sampleGrid(ImageData train, List<String> names, List<ImageData> samples, Settings s) {
        int size = s.sampleSize();
        int count = s.samples();
        int gap = 4, labelW = 120, top = 8;
        SplittableRandom rnd = new SplittableRandom(s.seed());
        List<float[]> crops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] plane = train.plane(rnd.nextInt(train.planeCount()));
            int cs = Math.min(size, Math.min(train.width(), train.height()));
            int x0 = rnd.nextInt(train.width() - cs + 1), y0 = rnd.nextInt(train.height() - cs + 1);
            float[] c = new float[size * size];
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) c[y * size + x] = plane[(y0 + Math.min(y, cs - 1)) * train.width() + x0 + Math.min(x, cs - 1)];
            }
            crops.add(c);
        }
        double[] range = displayRange(train.planes());
        int rows = 1 + samples.size();
        int w = labelW + count * (size + gap);
        int h = top + rows * (size + gap) + 22;
        BufferedImage img = Pictures.canvas(w, h);
        Graphics2D g = Pictures.graphics(img);
        List<String> labels = new ArrayList<>();
        labels.add("training data");
        for (String n : names) labels.add(label(n) + " samples");
        for (int r = 0; r < rows; r++) {
            int y = top + r * (size + gap);
            g.setColor(Pictures.INK);
            g.drawString(labels.get(r), 6, y + size / 2 + 4);
            for (int i = 0; i < count; i++) {
                float[] p = r == 0 ? crops.get(i) : samples.get(r - 1).plane(i);
                g.drawImage(Pictures.grey(p, size, size, range[0], range[1]), labelW + i * (size + gap), y, null);
            }
        }
        g.setFont(Pictures.SMALL);
        g.drawString(String.format(Locale.ROOT, "%dx%d pixels, temperature %.2f, one display range for all (%.0f-%.0f)",
                size, size, s.temperature(), range[0], range[1]), labelW, h - 8);
        g.dispose();
        return img;
    }

    static String label(String model) {
        return switch (model) {
            case "glow" -> "Glow";
            case "realnvp" -> "RealNVP";
            case "iaf" -> "IAF";
            case "background" -> "Background";
            default -> model;
        };
    }

    /** Anomaly-score range of a map for display: 1st to 99.5th percentile. */
    private static double[] scoreRange(List<float[]> score) {
        return Pictures.percentiles(score, 1, 99.5);
    }

    private static BufferedImage overlayFigure(ImageData test, ImageData mask, List<float[]> score, String title) {
        int n = test.planeCount();
        int w = test.width(), h = test.height();
        int cols = Math.min(3, n), rows = (n + cols - 1) / cols;
        int scale = w <= 128 ? 2 : 1;
        int tw = w * scale, th = h * scale, gap = 6, top = 26, bar = 70;
        BufferedImage img = Pictures.canvas(cols * (tw + gap) + gap, top + rows * (th + gap + 14) + bar);
        Graphics2D g = Pictures.graphics(img);
        g.setFont(Pictures.TITLE);
        Pictures.centred(g, "Anomaly score -log p, " + title + ", over the test image (cyan: true anomalies)",
                img.getWidth() / 2, 18);
        g.setFont(Pictures.SMALL);
        double[] ir = displayRange(test.planes());
        double[] sr = scoreRange(score);
        for (int p = 0; p < n; p++) {
            int x = gap + (p % cols) * (tw + gap);
            int y = top + (p / cols) * (th + gap + 14);
            BufferedImage o = Pictures.overlay(test.plane(p), ir[0], ir[1], score.get(p), sr[0], sr[1], w, h,
                    Pictures.Lut.HEAT, 0.85);
            Pictures.outline(o, mask.plane(p), w, h, new Color(0, 230, 255));
            g.drawImage(Pictures.enlarge(o, scale), x, y + 12, null);
            g.setColor(Pictures.INK);
            g.drawString("plane " + (p + 1), x, y + 10);
        }
        int bw = Math.min(360, img.getWidth() - 40);
        Pictures.colourBar(g, (img.getWidth() - bw) / 2, img.getHeight() - bar + 12, bw, 12, Pictures.Lut.HEAT,
                sr[0], sr[1], "anomaly score -log p (nats per pixel; blended in proportion to the score)");
        g.dispose();
        return img;
    }

    private static BufferedImage mapsFigure(ImageData test, ImageData mask, List<MapScore> scores, List<List<float[]>> maps) {
        int n = test.planeCount();
        int w = test.width(), h = test.height();
        int gap = 6, top = 40, left = 54, bar = 62;
        int cols = 1 + maps.size();
        BufferedImage img = Pictures.canvas(left + cols * (w + gap), top + n * (h + gap) + bar);
        Graphics2D g = Pictures.graphics(img);
        g.setFont(Pictures.SMALL);
        FontMetrics fm = g.getFontMetrics();
        double[] ir = displayRange(test.planes());
        Pictures.centred(g, "test image", left + w / 2, top - 20);
        Pictures.centred(g, "(cyan: anomalies)", left + w / 2, top - 8);
        for (int c = 0; c < maps.size(); c++) {
            int cx = left + (c + 1) * (w + gap) + w / 2;
            Pictures.centred(g, scores.get(c).title(), cx, top - 20);
            Pictures.centred(g, "AUC " + formatAuc(scores.get(c).auc()), cx, top - 8);
        }
        for (int p = 0; p < n; p++) {
            int y = top + p * (h + gap);
            g.drawString("plane " + (p + 1), 4, y + h / 2 + fm.getAscent() / 2);
            BufferedImage in = Pictures.grey(test.plane(p), w, h, ir[0], ir[1]);
            Pictures.outline(in, mask.plane(p), w, h, new Color(0, 230, 255));
            g.drawImage(in, left, y, null);
            for (int c = 0; c < maps.size(); c++) {
                double[] sr = scoreRange(maps.get(c));
                g.drawImage(Pictures.coloured(maps.get(c).get(p), w, h, sr[0], sr[1], Pictures.Lut.HEAT),
                        left + (c + 1) * (w + gap), y, null);
            }
        }
        int by = top + n * (h + gap) + 4;
        for (int c = 0; c < maps.size(); c++) {
            double[] sr = scoreRange(maps.get(c));
            Pictures.colourBar(g, left + (c + 1) * (w + gap) + 4, by, w - 8, 10, Pictures.Lut.HEAT, sr[0], sr[1],
                    "-log p, nats/pixel");
        }
        g.dispose();
        return img;
    }

    private static BufferedImage rocFigure(List<MapScore> scores) {
        List<Pictures.Series> series = new ArrayList<>();
        for (int i = 0; i < scores.size(); i++) {
            MapScore m = scores.get(i);
            series.add(new Pictures.Series(m.title() + "  (AUC " + formatAuc(m.auc()) + ")", m.roc().falsePositiveRate(),
                    m.roc().truePositiveRate(), Pictures.SERIES[i % Pictures.SERIES.length], false));
        }
        return Pictures.lineChart("Pixel ROC of the anomaly score -log p on the test stack", "false positive rate",
                "true positive rate", series, 560, 460, true);
    }

    private static BufferedImage trainingFigure(Map<String, FlowModel> models) {
        List<Pictures.Series> series = new ArrayList<>();
        int i = 0;
        for (String name : List.of("glow", "realnvp")) {
            TrainingSummary t = models.get(name).summary();
            if (t == null || t.history().isEmpty()) continue;
            List<TrainingSummary.HistoryPoint> hist = t.history();
            double[] it = new double[hist.size()];
            double[] tr = new double[hist.size()];
            double[] va = new double[hist.size()];
            for (int k = 0; k < hist.size(); k++) {
                it[k] = hist.get(k).iteration();
                tr[k] = hist.get(k).trainBitsPerDim();
                va[k] = hist.get(k).validationBitsPerDim();
            }
            Color c = Pictures.SERIES[i++ % Pictures.SERIES.length];
            series.add(new Pictures.Series(label(name) + " training", it, tr, c, true));
            series.add(new Pictures.Series(label(name) + " validation", it, va, c, false));
        }
        return Pictures.lineChart("Training curves of the shipped models (sample-images/train.tif)", "iteration",
                "bits/dim (raw 16-bit intensities)", series, 560, 380, false);
    }

    // ---------------------------------------------------------------- report

    private static void writeJson(Settings s, List<MapScore> scores, List<Double> testBits, double seconds, Path file)
            throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("seconds", seconds);
        o.addProperty("test_planes", testBits.size());
        JsonArray maps = new JsonArray();
        for (MapScore m : scores) {
            JsonObject j = new JsonObject();
            j.addProperty("name", m.name());
            j.addProperty("title", m.title());
            j.addProperty("auc", m.auc());
            j.addProperty("auc_text", formatAuc(m.auc()));
            j.addProperty("file", "map-" + m.name() + ".tif");
            j.addProperty("seconds", m.seconds());
            maps.add(j);
        }
        o.add("maps", maps);
        JsonArray bpd = new JsonArray();
        testBits.forEach(bpd::add);
        o.add("glow_test_bits_per_dim", bpd);
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n", StandardCharsets.UTF_8);
    }

    private static String report(Settings s, Map<String, FlowModel> models, ImageData test, List<MapScore> scores,
                                 List<Double> testBits, List<String> files, double seconds) {
        StringBuilder r = new StringBuilder();
        r.append("# Normalizing flows demo\n\n");
        r.append(String.format(Locale.ROOT, "Models from `%s`, images from `%s`, %d test plane(s) of %dx%d, "
                + "finished in %.0f s.%n%n", s.models(), s.images(), test.planeCount(), test.width(), test.height(), seconds));
        r.append("## Anomaly detection: pixel ROC AUC\n\n");
        r.append("Each map gives every pixel of `test.tif` its log-likelihood; the anomaly score is `-map`, and the "
                + "pixel ROC AUC measures how well it separates the anomalous pixels of `test-anomaly-mask.tif` from the "
                + "rest (1 is perfect, 0.5 is chance).\n\n");
        r.append("| map | what it is | pixel ROC AUC | time (s) | file |\n|---|---|---|---|---|\n");
        for (MapScore m : scores) {
            r.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | `map-%s.tif` |%n", m.name(), m.title(),
                    formatAuc(m.auc()), m.seconds(), m.name()));
        }
        r.append("\n- **exact**: each pixel's share of log p(plane); the map sums to the plane's log-likelihood.\n");
        r.append(String.format(Locale.ROOT, "- **window**: log p of the %dx%d patch around each pixel per dimension, "
                + "computed every %d pixels.%n", models.get("glow").patchSize(), models.get("glow").patchSize(),
                s.windowStride()));
        r.append("- **ratio** (`/ background`): the Glow map minus the map of `background.flow`, a Glow trained on "
                + "generic camera images. What any image has (smooth areas, noise, bright objects) cancels; what is "
                + "unusual for the training data remains.\n");
        r.append(String.format(Locale.ROOT, "- **blurred**: the exact ratio map blurred with a Gaussian of sigma %.0f "
                + "pixels (in Fiji: Process > Filters > Gaussian Blur on the map), which averages out its pixel noise."
                + "%n%n", SMOOTHING));
        r.append("![maps](maps.png)\n\n![ROC curves](roc.png)\n\n");
        for (MapScore m : scores) r.append("![").append(m.title()).append("](overlay-").append(m.name()).append(".png)\n\n");
        r.append("## Test planes under Glow\n\nbits/dim of each plane (the sum of its exact map; lower is more likely):"
                + "\n\n| plane | bits/dim |\n|---|---|\n");
        for (int p = 0; p < testBits.size(); p++) {
            r.append(String.format(Locale.ROOT, "| %d | %.4f |%n", p + 1, testBits.get(p)));
        }
        r.append("\n## Samples\n\n![samples](samples.png)\n\n");
        r.append(String.format(Locale.ROOT, "%d images of %dx%d pixels per model at temperature %.2f (seed %d), in "
                + "`samples-<model>.tif`, 16-bit like the training data. The shipped models were trained for minutes "
                + "on a CPU, so their samples are rough; the higher a model's bits/dim below, the noisier its samples."
                + "%n%n", s.samples(), s.sampleSize(),
                s.sampleSize(), s.temperature(), s.seed()));
        r.append("## Models\n\n| model | architecture | levels x steps, hidden | iterations | training time (s) | "
                + "validation bits/dim |\n|---|---|---|---|---|---|\n");
        for (Map.Entry<String, FlowModel> e : models.entrySet()) {
            FlowModel m = e.getValue();
            TrainingSummary t = m.summary();
            r.append(String.format(Locale.ROOT, "| `%s.flow` | %s | %d x %d, %d | %s | %s | %s |%n", e.getKey(),
                    m.config().architecture().label(), m.config().levels(), m.config().steps(), m.config().hidden(),
                    t == null ? "-" : Long.toString(t.iterations()),
                    t == null ? "-" : String.format(Locale.ROOT, "%.0f", t.seconds()),
                    t == null || !Double.isFinite(t.validationBitsPerDim()) ? "-"
                            : String.format(Locale.ROOT, "%.4f", t.validationBitsPerDim())));
        }
        r.append("\n![training curves](training.png)\n\n");
        r.append("## Files\n\n");
        for (String f : files) r.append("- `").append(f).append("`\n");
        return r.toString();
    }
}
