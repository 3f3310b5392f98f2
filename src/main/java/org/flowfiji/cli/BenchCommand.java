package org.flowfiji.cli;

import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.flowfiji.bench.BenchSettings;
import org.flowfiji.bench.Benchmarks;
import org.flowfiji.bench.ResidentMemory;
import org.flowfiji.flow.Architecture;
import org.flowfiji.model.Engines;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flows bench}: throughput and memory figures of the engine on this machine (see
 * {@link Benchmarks} for what each scenario measures). It prints figures; it never fails on time.
 * A scenario that cannot run records its error in its place and the others go on.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure training, map and sampling throughput and map memory on this machine.")
final class BenchCommand implements Callable<Integer> {

    /** Scenario names, in the order they run. */
    static final List<String> SCENARIOS = List.of("engine", "train", "map", "stack", "sample", "scaling", "arithmetic");

    @Option(names = "--json", description = "Print all figures as one JSON object on the last stdout line.")
    boolean json;

    @Option(names = "--quick", description = "Shrink every scenario so the whole run takes about a minute.")
    boolean quick;

    @Option(names = "--threads", defaultValue = "0",
            description = "Intra-op threads of the engine (0 = the engine's default: one per core).")
    int threads;

    @Option(names = "--only", split = ",", paramLabel = "SCENARIO",
            description = "Run only these scenarios: engine, train, map, stack, sample, scaling, arithmetic.")
    List<String> only;

    @Option(names = "--tile", defaultValue = "0",
            description = "Tile side of the map and stack scenarios (0 = the map command's default).")
    int tile;

    @Option(names = "--train-seconds", defaultValue = "0",
            description = "Seconds per training scenario (0 = 30, or 3 with --quick).")
    double trainSeconds;

    @Option(names = "--train-warmup", paramLabel = "SECONDS",
            description = "Seconds of the untimed run before each training scenario's timed run "
                    + "(default 10, or 1 with --quick; 0 = none).")
    Double trainWarmup;

    @Override
    public Integer call() throws Exception {
        Set<String> run = new LinkedHashSet<>(SCENARIOS);
        if (only != null && !only.isEmpty()) {
            run.clear();
            for (String s : only) {
                String name = s.trim().toLowerCase(Locale.ROOT);
                if (!SCENARIOS.contains(name)) {
                    throw new IllegalArgumentException("Unknown scenario '" + s + "': use " + String.join(", ", SCENARIOS));
                }
                run.add(name);
            }
        }
        if (trainWarmup != null && !(trainWarmup >= 0)) {
            throw new IllegalArgumentException("--train-warmup must be >= 0 seconds, got " + trainWarmup);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        }
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        Engines.pytorch();
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        BenchSettings base = quick ? BenchSettings.quickSizes() : BenchSettings.fullSizes();
        BenchSettings settings = base.withTraining(trainSeconds > 0 ? trainSeconds : -1, trainWarmup == null ? -1 : trainWarmup);
        PrintStream report = json ? System.err : System.out;
        Benchmarks b = new Benchmarks(settings);
        JsonObject all = new JsonObject();
        all.addProperty("quick", settings.quick());
        long start = System.nanoTime();
        if (run.contains("engine")) {
            all.add("engine", guarded(report, "engine", b::engine));
        }
        if (run.contains("train")) {
            JsonObject train = new JsonObject();
            for (Architecture a : Architecture.values()) {
                train.add(a.name().toLowerCase(Locale.ROOT), guarded(report, "train " + a.label(),
                        () -> b.training(a, 0, 0, 0, 16)));
            }
            train.add("glow_large", guarded(report, "train Glow levels 3 steps 16 hidden 128 batch 32",
                    () -> b.training(Architecture.GLOW, 3, 16, 128, 32)));
            all.add("train", train);
        }
        if (run.contains("map")) {
            JsonObject map = new JsonObject();
            for (Architecture a : List.of(Architecture.GLOW, Architecture.REALNVP)) {
                map.add(a.name().toLowerCase(Locale.ROOT), guarded(report, "map " + a.label() + " "
                        + settings.mapSide() + "x" + settings.mapSide(),
                        () -> b.map(a, settings.mapSide(), settings.mapSide(), 1, tile)));
            }
            all.add("map_plane", map);
        }
        if (run.contains("stack")) {
            all.add("map_stack", guarded(report, "map Glow " + settings.stackPlanes() + " x " + settings.stackSide()
                    + "x" + settings.stackSide(),
                    () -> b.map(Architecture.GLOW, settings.stackSide(), settings.stackSide(), settings.stackPlanes(), tile)));
        }
        if (run.contains("sample")) {
            JsonObject sample = new JsonObject();
            for (Architecture a : Architecture.values()) {
                sample.add(a.name().toLowerCase(Locale.ROOT), guarded(report, "sample " + a.label(),
                        () -> b.sampling(a, settings.sampleSide(), settings.sampleCount(),
                                settings.quick() ? 1 : Benchmarks.SAMPLE_SECONDS)));
            }
            all.add("sample", sample);
        }
        if (run.contains("scaling")) {
            all.add("map_scaling", guarded(report, "map scaling Glow", () -> b.mapScaling(Architecture.GLOW)));
        }
        if (run.contains("arithmetic")) {
            all.add("arithmetic", guarded(report, "arithmetic Glow and RealNVP", () -> b.arithmetic(settings.flopsSide())));
        }
        all.addProperty("seconds", (System.nanoTime() - start) * 1e-9);
        all.addProperty("peak_rss_mb", ResidentMemory.mebibytes(ResidentMemory.peak()));
        if (json) {
            FlowsCommand.printJson(all);
        }
        return 0;
    }

    /** A scenario's work. */
    interface Scenario {
        JsonObject run() throws Exception;
    }

    /** Runs a scenario, prints its figures, and turns a failure into an {@code error} entry. */
    private static JsonObject guarded(PrintStream report, String label, Scenario s) {
        report.println("== " + label);
        report.flush();
        JsonObject o;
        try {
            o = s.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            o = new JsonObject();
            o.addProperty("error", "interrupted");
        } catch (Exception | OutOfMemoryError e) {
            o = new JsonObject();
            o.addProperty("error", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        report.println("   " + FlowsCommand.gson().toJson(o));
        report.flush();
        return o;
    }
}
