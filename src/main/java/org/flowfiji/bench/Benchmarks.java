package org.flowfiji.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalization;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowOutput;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.MapResult;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.Mapper;
import org.flowfiji.ops.Sampler;
import org.flowfiji.ops.TrainResult;
import org.flowfiji.ops.TrainSettings;
import org.flowfiji.ops.Trainer;
import org.flowfiji.ops.TrainingListener;

/**
 * The scenarios of {@code flows bench}: one method per scenario, each returning its figures and
 * the settings that produced them as a JSON object. Nothing here asserts on time.
 *
 * <p>Every model is untrained: made by {@link FlowModel#create} and given its data-dependent
 * initialisation (ActNorm, batch-normalisation statistics) on one batch of patches, which is all
 * throughput needs. Images are {@link SyntheticPlane}s (16-bit). Sizes come from
 * {@link BenchSettings}; {@link BenchSettings#quickSizes()} shrinks every scenario.
 *
 * <p>Figures:
 * <ul>
 *   <li>training: patches/s of {@link Trainer#train} (sampling patches, dequantization, forward,
 *       backward, clipping, Adam), measured between the end of the warm-up iterations and the last
 *       iteration through the training listener, so start-up and the final save are excluded;</li>
 *   <li>maps: megapixels/s of {@link Mapper#map} in exact mode with its default tiling;</li>
 *   <li>sampling: images/s of {@link Sampler#sample};</li>
 *   <li>map scaling: seconds (median of repeated maps for the small sizes) and peak resident
 *       memory of the maps of each image size, each size in a child JVM ({@link MapProbe}) so
 *       that each peak belongs to that size alone;</li>
 *   <li>arithmetic: GFLOP/s of the flow's density pass with map on a whole image (convolutions
 *       counted by {@link FlopCount}) against the matrix-multiply rate of the same engine measured
 *       between the timed passes, and its 3x3-convolution rate measured in the same run.</li>
 * </ul>
 */
public final class Benchmarks {

    /** Side of the training patches in every training scenario. */
    public static final int PATCH = 32;
    /** Training iterations left out of the throughput at least (start-up of kernels and allocators); 1 when quick. */
    static final int WARMUP_ITERATIONS = 3;
    /**
     * Share of a training scenario's time left out of its steady-state throughput: the Java side's
     * code is compiled while it runs, and the first seconds are slower (measured: Glow iterations
     * took 100-130 ms for the first 4 s of a run, then 80-90 ms).
     */
    static final double WARMUP_SHARE = 0.2;
    /**
     * Density passes run before the arithmetic scenario's timed ones at least; they go on until
     * the kernel time of the settings has passed too.
     */
    static final int DENSITY_WARMUP_PASSES = 2;

    private final BenchSettings settings;
    private final ImageData trainingImage;

    /** Benchmarks with the given sizes; makes the synthetic training image once. */
    public Benchmarks(BenchSettings settings) {
        this.settings = settings;
        this.trainingImage = SyntheticPlane.image("synthetic training stack", 512, 512, 4, 11);
    }

    /** The engine's thread settings and whether inference records gradients, on this and on a new thread. */
    public JsonObject engine() {
        Engines.pytorch();
        JsonObject o = new JsonObject();
        o.addProperty("engine", "PyTorch " + Engines.pytorch().getVersion() + " (DJL)");
        o.addProperty("threads", JniUtils.getNumThreads());
        o.addProperty("interop_threads", JniUtils.getNumInteropThreads());
        o.addProperty("allocator_keeps_freed_memory", Engines.allocatorKeepsFreedMemory());
        o.addProperty("large_tensors_on_huge_pages", Engines.largeTensorsOnHugePages());
        String kernels = Engines.vectorKernels();
        o.addProperty("aten_cpu_capability", kernels == null ? "libtorch's choice" : kernels);
        o.addProperty("transparent_huge_pages", Engines.transparentHugePageMode());
        o.addProperty("nnpack_off", Engines.nnpackOff());
        o.addProperty("available_processors", Runtime.getRuntime().availableProcessors());
        o.addProperty("grad_mode_this_thread", JniUtils.isGradMode());
        FlowConfig config = FlowConfig.defaults(Architecture.GLOW, 1).withSteps(2).withHidden(8);
        try (FlowModel model = untrainedModel(config, PATCH)) {
            o.addProperty("inference_records_graph_this_thread", inferenceRecordsGraph(model));
            AtomicReference<Boolean> other = new AtomicReference<>();
            AtomicReference<Boolean> otherMode = new AtomicReference<>();
            Thread t = new Thread(() -> {
                otherMode.set(JniUtils.isGradMode());
                other.set(inferenceRecordsGraph(model));
            }, "bench-other-thread");
            t.start();
            t.join();
            o.addProperty("grad_mode_new_thread", otherMode.get());
            o.addProperty("inference_records_graph_new_thread", other.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return o;
    }

    private static boolean inferenceRecordsGraph(FlowModel model) {
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray x = scope.randomNormal(0, 0.1f, new Shape(1, 1, PATCH, PATCH), DataType.FLOAT32);
            FlowOutput out = model.flow().forward(model.evalContext(scope, true), x);
            return JniUtils.requiresGrad((PtNDArray) out.pixelMap());
        }
    }

    /**
     * Where the steady state of a training run begins: the first of {@code marks} ({iteration,
     * nanoTime} at the end of each iteration, in order) that ends after the first {@code share} of
     * the run's span (from the first mark to the last) and is at least iteration {@code warmup};
     * null when there is none before the last mark (nothing left to time).
     */
    static long[] steadyStateStart(List<long[]> marks, int warmup, double share) {
        if (marks.size() < 2) return null;
        long first = marks.get(0)[1];
        long[] last = marks.get(marks.size() - 1);
        long warmEnd = first + (long) (share * (last[1] - first));
        for (long[] m : marks) {
            if (m == last) return null;
            if (m[0] >= warmup && m[1] >= warmEnd) return m;
        }
        return null;
    }

    /**
     * Training throughput of one architecture; sizes left at 0 take the architecture's defaults.
     * An untimed run of the same scenario (its own untrained model, {@code trainWarmupSeconds} of
     * the settings) comes first: a JVM's first seconds of training are slower (its code is being
     * compiled, and the young generation of the Java heap is written for the first time: Glow
     * iterations took 70-95 ms from the 2nd to the 10th second of a fresh JVM, and 50-56 ms from
     * about the 6th second with a young generation fixed small; see docs/benchmarks.md), which a
     * run of minutes hardly notices but a run of 30 s would. The timed run then leaves out its own
     * first fifth as well. The untimed run's figures are reported too ({@code warmup_run_*}).
     */
    public JsonObject training(Architecture arch, int levels, int steps, int hidden, int batch) throws IOException {
        Path dir = Files.createTempDirectory("flows-bench");
        int warmup = settings.quick() ? 1 : WARMUP_ITERATIONS;
        List<long[]> marks = new ArrayList<>(); // {iteration, nanoTime} at the end of every iteration
        TrainingListener listener = s -> marks.add(new long[] {s.iteration(), System.nanoTime()});
        try {
            TrainResult before = settings.trainWarmupSeconds() > 0
                    ? Trainer.train(trainingImage, trainingSettings(arch, levels, steps, hidden, batch,
                            dir.resolve("warmup.flow"), settings.trainWarmupSeconds()), s -> { }, null)
                    : null;
            TrainResult r = Trainer.train(trainingImage, trainingSettings(arch, levels, steps, hidden, batch,
                    dir.resolve("bench.flow"), settings.trainSeconds()), listener, null);
            long[] from = steadyStateStart(marks, warmup, WARMUP_SHARE);
            long[] last = marks.isEmpty() ? null : marks.get(marks.size() - 1);
            long n = from == null ? 0 : last[0] - from[0];
            double seconds = n > 0 ? (last[1] - from[1]) * 1e-9 : 0;
            JsonObject o = new JsonObject();
            o.addProperty("patches_per_second", n > 0 ? n * batch / seconds : r.patchesPerSecond());
            o.addProperty("patches_per_second_including_warmup", r.patchesPerSecond());
            o.addProperty("iterations", r.iterations());
            o.addProperty("timed_iterations", n);
            o.addProperty("warmup_iterations", n > 0 ? from[0] : 0);
            o.addProperty("warmup_seconds", n > 0 ? (from[1] - marks.get(0)[1]) * 1e-9 : 0);
            o.addProperty("seconds", r.seconds());
            o.addProperty("batch", batch);
            o.addProperty("patch", PATCH);
            o.add("config", trainingConfig(arch, levels, steps, hidden));
            o.addProperty("train_bits_per_dim", r.trainBitsPerDim());
            o.addProperty("warmup_run_seconds", before == null ? 0 : before.seconds());
            o.addProperty("warmup_run_iterations", before == null ? 0 : before.iterations());
            o.addProperty("warmup_run_patches_per_second", before == null ? 0 : before.patchesPerSecond());
            return o;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static TrainSettings trainingSettings(Architecture arch, int levels, int steps, int hidden, int batch,
                                                  Path modelFile, double seconds) {
        return TrainSettings.builder()
                .setArchitecture(arch)
                .setModelFile(modelFile)
                .optPatchSize(PATCH)
                .optLevels(levels)
                .optSteps(steps)
                .optHidden(hidden)
                .optBatchSize(batch)
                .optIterations(1_000_000)
                .optMinutes(seconds / 60.0)
                .optValidationFraction(0)
                .optValidationInterval(Integer.MAX_VALUE)
                .optDevice("cpu")
                .build();
    }

    /**
     * Exact likelihood maps of every plane of a synthetic 16-bit image, megapixels/s, with the
     * Mapper's tile side {@code tile} (0 = its default).
     */
    public JsonObject map(Architecture arch, int width, int height, int planes, int tile) {
        ImageData image = SyntheticPlane.image("synthetic " + width + "x" + height, width, height, planes, 21);
        try (FlowModel model = untrainedModel(FlowConfig.defaults(arch, 1), PATCH)) {
            MapSettings ms = new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.NATS, tile, 0);
            Mapper.map(model, null, SyntheticPlane.image("warm-up", 256, 256, 1, 5), ms, null, null);
            long t0 = System.nanoTime();
            MapResult r = Mapper.map(model, null, image, ms, null, null);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            double mpix = (double) width * height * planes / 1e6;
            JsonObject o = new JsonObject();
            o.addProperty("megapixels_per_second", mpix / seconds);
            o.addProperty("seconds", seconds);
            o.addProperty("width", width);
            o.addProperty("height", height);
            o.addProperty("planes", planes);
            o.addProperty("tile", tile == 0 ? "default" : Integer.toString(tile));
            o.add("config", configJson(model.config()));
            o.addProperty("map_sum_nats_plane0", r.mapSumNats().get(0));
            o.addProperty("peak_rss_mb_process", ResidentMemory.mebibytes(ResidentMemory.peak()));
            return o;
        }
    }

    /** Timed sampling per architecture lasts at least this many seconds in a full run ({@code --quick}: 1). */
    public static final double SAMPLE_SECONDS = 5;

    /**
     * Sampling throughput at {@code size x size}, images/s: one untimed round of {@code count}
     * images (so the engine's kernels for the sampler's batch shape exist), then rounds of
     * {@code count} images until {@code minSeconds} have passed.
     */
    public JsonObject sampling(Architecture arch, int size, int count, double minSeconds) {
        try (FlowModel model = untrainedModel(FlowConfig.defaults(arch, 1), PATCH)) {
            Sampler.sample(model, count, size, size, 1.0, 3, null, null);
            int images = 0;
            int rounds = 0;
            long t0 = System.nanoTime();
            double seconds;
            do {
                images += Sampler.sample(model, count, size, size, 1.0, 4 + rounds, null, null).planeCount();
                rounds++;
                seconds = (System.nanoTime() - t0) * 1e-9;
            } while (seconds < minSeconds);
            JsonObject o = new JsonObject();
            o.addProperty("images_per_second", images / seconds);
            o.addProperty("images", images);
            o.addProperty("rounds", rounds);
            o.addProperty("seconds", seconds);
            o.addProperty("width", size);
            o.addProperty("height", size);
            o.add("config", configJson(model.config()));
            return o;
        }
    }

    /** The largest relative difference of {@code key} from its value in the first row that has it. */
    static double maxDeviationFromFirst(JsonArray rows, String key) {
        double first = Double.NaN;
        double worst = 0;
        for (var e : rows) {
            JsonObject r = e.getAsJsonObject();
            if (!r.has(key)) {
                continue;
            }
            double v = r.get(key).getAsDouble();
            if (Double.isNaN(first)) {
                first = v;
            } else {
                worst = Math.max(worst, Math.abs(v / first - 1));
            }
        }
        return worst;
    }

    /**
     * Seconds (the median of repeated maps for the small sizes) and peak resident memory of exact
     * maps per image size, each size in a child JVM started with {@code -Xmx}
     * {@link BenchSettings#childHeap()} (see {@link MapProbe}).
     */
    public JsonObject mapScaling(Architecture arch) throws IOException, InterruptedException {
        JsonArray rows = new JsonArray();
        for (int side : settings.scalingSides()) {
            rows.add(runProbe(List.of("scale", arch.name(), Integer.toString(side))));
        }
        JsonObject o = new JsonObject();
        o.add("sizes", rows);
        o.addProperty("child_heap", settings.childHeap());
        o.addProperty("peak_memory_method", "VmHWM of a child JVM that maps images of that size");
        o.addProperty("max_time_per_megapixel_deviation", maxDeviationFromFirst(rows, "seconds_per_megapixel"));
        o.addProperty("max_relative_time_per_megapixel_deviation",
                maxDeviationFromFirst(rows, "relative_time_per_megapixel"));
        return o;
    }

    /** Runs {@link MapProbe} in a child JVM and returns the JSON object of its last stdout line. */
    JsonObject runProbe(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + settings.childHeap());
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-Dai.djl.pytorch.num_threads=" + JniUtils.getNumThreads());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MapProbe.class.getName());
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 || last == null) {
            JsonObject o = new JsonObject();
            o.addProperty("error", "child JVM " + String.join(" ", args) + " exited with code " + code);
            return o;
        }
        return JsonParser.parseString(last).getAsJsonObject();
    }

    /**
     * Achieved GFLOP/s of the density pass with map of Glow and of RealNVP (default sizes) on one
     * whole {@code side x side} image, against the engine's matrix multiply (1024 x 1024) run for
     * about as long right after each timed pass ({@code fraction_of_matmul}) and measured once
     * before ({@code fraction_of_matmul_measured_first}), against its 3x3 convolution (64 to 64
     * channels, 16 x 64 x 64) measured once, and the Mapper's rate on the same image (the
     * difference is tiling and copies).
     */
    public JsonObject arithmetic(int side) {
        JsonObject o = new JsonObject();
        double matmul = matmulGflops(settings.kernelSeconds());
        double conv = conv3x3Gflops(settings.kernelSeconds());
        o.addProperty("matmul_gflops", matmul);
        o.addProperty("conv3x3_gflops", conv);
        o.addProperty("image_side", side);
        for (Architecture arch : List.of(Architecture.GLOW, Architecture.REALNVP)) {
            o.add(arch.name().toLowerCase(Locale.ROOT), arithmetic(arch, side, matmul, conv));
        }
        return o;
    }

    private JsonObject arithmetic(Architecture arch, int side, double matmul, double conv) {
        JsonObject o = new JsonObject();
        try (FlowModel model = untrainedModel(FlowConfig.defaults(arch, 1), PATCH)) {
            ImageData image = SyntheticPlane.image("flops", side, side, 1, 31);
            float[] x = normalized(image.plane(0), model.normalizer(), 0.5);
            double flops = 2 * FlopCount.densityMultiplyAdds(model.config(), side, side);
            // warm-up: the Java side's code is compiled while the first passes run (1024² Glow:
            // 0.85, 0.77, 0.66, 0.63 s for the passes after the first), as in training
            int warmupPasses = 0;
            long w0 = System.nanoTime();
            do {
                forwardWithMap(model, x, side);
                warmupPasses++;
            } while (warmupPasses < DENSITY_WARMUP_PASSES || (System.nanoTime() - w0) * 1e-9 < settings.kernelSeconds());
            double warmupSeconds = (System.nanoTime() - w0) * 1e-9;
            // timed: each pass is followed by matrix products for about as long, so that the pass
            // and the rate it is compared with meet the same state of the machine (its speed
            // drifts by 10-30 % within minutes, and a product rate measured once, before, moved the
            // fraction between runs by as much)
            int reps = 0;
            double passSeconds = 0;
            double productFlops = 0;
            double productSeconds = 0;
            try (MatrixProducts products = new MatrixProducts()) {
                do {
                    long p0 = System.nanoTime();
                    forwardWithMap(model, x, side);
                    double pass = (System.nanoTime() - p0) * 1e-9;
                    passSeconds += pass;
                    reps++;
                    double[] burst = products.run(pass);
                    productFlops += burst[0];
                    productSeconds += burst[1];
                } while (passSeconds < settings.kernelSeconds());
            }
            double seconds = passSeconds / reps;
            double matmulAlongside = productFlops / productSeconds / 1e9;
            long m0 = System.nanoTime();
            Mapper.map(model, null, image, MapSettings.defaults(), null, null);
            double mapperSeconds = (System.nanoTime() - m0) * 1e-9;
            double achieved = flops / seconds / 1e9;
            o.add("config", configJson(model.config()));
            o.addProperty("multiply_adds_per_pixel", flops / 2 / ((double) side * side));
            o.addProperty("density_pass_seconds", seconds);
            o.addProperty("timed_passes", reps);
            o.addProperty("warmup_passes", warmupPasses);
            o.addProperty("warmup_seconds", warmupSeconds);
            o.addProperty("achieved_gflops", achieved);
            o.addProperty("matmul_gflops_alongside", matmulAlongside);
            o.addProperty("fraction_of_matmul", achieved / matmulAlongside);
            o.addProperty("fraction_of_matmul_measured_first", achieved / matmul);
            o.addProperty("fraction_of_conv3x3", achieved / conv);
            o.addProperty("mapper_seconds", mapperSeconds);
            o.addProperty("mapper_effective_gflops", flops / mapperSeconds / 1e9);
        }
        return o;
    }

    private static void forwardWithMap(FlowModel model, float[] x, int side) {
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray in = scope.create(x, new Shape(1, 1, side, side));
            FlowOutput out = model.flow().forward(model.evalContext(scope, true), in);
            out.pixelMap().toFloatArray();
        }
    }

    /** The engine's float32 matrix-multiply rate in GFLOP/s (1024 x 1024 x 1024, repeated for {@code seconds}). */
    public static double matmulGflops(double seconds) {
        try (MatrixProducts products = new MatrixProducts()) {
            double[] burst = products.run(seconds);
            return burst[0] / burst[1] / 1e9;
        }
    }

    /** Products of two 1024 x 1024 float32 matrices through DJL, run in bursts of a given length. */
    static final class MatrixProducts implements AutoCloseable {
        private static final int N = 1024;
        private final NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        private final NDArray a = manager.randomNormal(new Shape(N, N));
        private final NDArray b = manager.randomNormal(new Shape(N, N));

        MatrixProducts() {
            // one untimed product: the engine's first call prepares its kernels
            try (NDManager s = manager.newSubManager()) {
                a.matMul(b).attach(s);
            }
        }

        /** Products for about {@code seconds} (at least one): {floating-point operations, seconds}. */
        double[] run(double seconds) {
            int k = 0;
            long t0 = System.nanoTime();
            do {
                try (NDManager s = manager.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(s);
                }
                k++;
            } while ((System.nanoTime() - t0) * 1e-9 < seconds);
            return new double[] {2.0 * N * N * N * k, (System.nanoTime() - t0) * 1e-9};
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** The engine's 3x3 convolution rate in GFLOP/s: 16 x 64 x 64 x 64 input, 64 output channels. */
    public static double conv3x3Gflops(double seconds) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray x = m.randomNormal(new Shape(16, 64, 64, 64));
            NDArray w = m.randomNormal(new Shape(64, 64, 3, 3));
            int k = 0;
            long t0 = 0;
            for (int i = -1; i < Integer.MAX_VALUE; i++) {
                if (i == 0) {
                    t0 = System.nanoTime();
                }
                try (NDManager s = m.newSubManager()) {
                    NDArray y = Conv2d.conv2d(x, w, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                            .singletonOrThrow();
                    y.attach(s);
                }
                if (i >= 0) {
                    k++;
                    if ((System.nanoTime() - t0) * 1e-9 >= seconds) {
                        break;
                    }
                }
            }
            return 2.0 * 16 * 64 * 64 * 64 * 64 * 9 * k / ((System.nanoTime() - t0) * 1e-9) / 1e9;
        }
    }

    /**
     * A new model with the default 16-bit robust normaliser of the synthetic training image, given
     * its data-dependent initialisation on a batch of 16 patches.
     */
    FlowModel untrainedModel(FlowConfig config, int patch) {
        return untrainedModel(config, patch, trainingImage);
    }

    /** A new model for {@code data}, data-initialised on 16 patches taken from its first plane. */
    public static FlowModel untrainedModel(FlowConfig config, int patch, ImageData data) {
        Normalizer norm = Normalization.fit(data, null);
        FlowModel model = FlowModel.create(config, norm, patch, data.bitDepth(), data.calibration(), 1, Device.cpu());
        try {
            int b = 16;
            float[] buf = new float[b * patch * patch];
            float[] plane = data.plane(0);
            int w = data.width();
            java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
            for (int k = 0; k < b; k++) {
                int y0 = rng.nextInt(data.height() - patch + 1);
                int x0 = rng.nextInt(w - patch + 1);
                for (int y = 0; y < patch; y++) {
                    for (int x = 0; x < patch; x++) {
                        double v = plane[(y0 + y) * w + x0 + x] + rng.nextDouble();
                        buf[(k * patch + y) * patch + x] = norm.normalize(v);
                    }
                }
            }
            Trainer.initializeFromData(model, buf, b, patch);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** {@code (v + dequant - offset) / scale} for every value. */
    static float[] normalized(float[] raw, Normalizer n, double dequant) {
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = n.normalize(raw[i] + dequant);
        }
        return out;
    }

    static JsonObject configJson(FlowConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("arch", c.architecture().label());
        o.addProperty("levels", c.levels());
        o.addProperty("steps", c.steps());
        o.addProperty("hidden", c.hidden());
        o.addProperty("blocks", c.blocks());
        return o;
    }

    /** The configuration {@link Trainer} builds for these sizes (0 = the architecture's default). */
    private static JsonObject trainingConfig(Architecture arch, int levels, int steps, int hidden) {
        FlowConfig c = FlowConfig.defaults(arch, 1);
        if (levels > 0) c = c.withLevels(levels);
        if (steps > 0) c = c.withSteps(steps);
        if (hidden > 0) c = c.withHidden(hidden);
        return configJson(c);
    }
}
