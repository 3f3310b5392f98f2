package org.flowfiji.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.Mapper;

/**
 * A separate program that maps images in a fresh JVM and prints one JSON line with its time and
 * resident memory, so that a benchmark or test can see the memory of one workload alone.
 *
 * <ul>
 *   <li>{@code scale ARCH SIDE}: exact maps of a {@code SIDE x SIDE} 16-bit synthetic plane with an
 *       untrained default model of the architecture, after warm-up maps of another plane of
 *       min(SIDE, 1024) pixels a side for {@link #WARMUP_SECONDS} and one map of the plane itself
 *       (its seconds are printed apart: {@code first_map_seconds}); then the map is repeated until
 *       {@link #MIN_TIMED_SECONDS} have passed or {@link #MAX_TIMED_MAPS} maps are done (a 64 MP
 *       map runs once, a 1 MP map nine times), so that a burst of load on the machine does not
 *       decide a small size's figure;
 *       prints every map's seconds, their median, the median's seconds per megapixel and the
 *       peak resident memory of the whole process ({@code VmHWM}) and of the maps alone (the peak
 *       after a reset taken just before the first map of the plane, read before the reference
 *       maps). The
 *       warm-up plane's seconds per megapixel just before (the median of the last
 *       {@link #REFERENCE_MAPS} warm-up maps) and just after the timed maps (the median of
 *       {@link #REFERENCE_MAPS} more) is the reference; the timed seconds per megapixel divided by
 *       it is a figure that the machine's speed drifting between sizes does not move.</li>
 *   <li>{@code repeat SIDE COUNT}: {@code COUNT} consecutive exact maps of a {@code SIDE x SIDE}
 *       plane with a small Glow (levels 2, steps 2, hidden 16); prints the resident memory after
 *       every map ({@code rss_mb}, one value per map) and the number of arrays the model's
 *       NDManager tree holds before the first and after the last map (equal when every map closes
 *       what it opened).</li>
 * </ul>
 */
public final class MapProbe {

    private MapProbe() {}

    /** See the class description for the arguments. */
    public static void main(String[] args) {
        if (args.length == 3 && args[0].equals("scale")) {
            System.out.println(scale(Architecture.parse(args[1]), Integer.parseInt(args[2])));
        } else if (args.length == 3 && args[0].equals("repeat")) {
            System.out.println(repeat(Integer.parseInt(args[1]), Integer.parseInt(args[2])));
        } else {
            System.err.println("usage: MapProbe scale ARCH SIDE | MapProbe repeat SIDE COUNT");
            System.exit(2);
        }
    }

    /** Side of the warm-up maps run before the measured ones. */
    static final int WARMUP_SIDE = 1024;
    /** Warm-up maps are repeated until this much time has passed (at least one). */
    static final double WARMUP_SECONDS = 5;
    /** Maps of the warm-up plane timed just before and after the measured ones (see {@code scale}). */
    static final int REFERENCE_MAPS = 3;
    /** Timed maps of one size are repeated until this much time has passed... */
    static final double MIN_TIMED_SECONDS = 15;
    /** ...or this many maps are done. */
    static final int MAX_TIMED_MAPS = 9;

    static JsonObject scale(Architecture arch, int side) {
        ImageData train = SyntheticPlane.image("train", 256, 256, 1, 11);
        ImageData image = SyntheticPlane.image("map", side, side, 1, 21);
        JsonObject o = new JsonObject();
        try (FlowModel model = Benchmarks.untrainedModel(FlowConfig.defaults(arch, 1), Benchmarks.PATCH, train)) {
            // warm-up: maps of the smallest full scaling size (or of this size, when smaller) for
            // WARMUP_SECONDS, so that one-time costs (class loading, JIT compilation, the engine's
            // kernels for new shapes) do not count as per-pixel time
            int warm = Math.min(WARMUP_SIDE, side);
            ImageData warmImage = SyntheticPlane.image("warmup", warm, warm, 1, 31);
            long w0 = System.nanoTime();
            List<Double> warmEach = new ArrayList<>();
            do {
                warmEach.add(timedMap(model, warmImage));
            } while ((System.nanoTime() - w0) * 1e-9 < WARMUP_SECONDS);
            o.addProperty("warmup_map_side", warm);
            o.addProperty("warmup_maps", warmEach.size());
            o.addProperty("warmup_map_seconds", (System.nanoTime() - w0) * 1e-9);
            System.gc();
            long before = ResidentMemory.current();
            boolean reset = ResidentMemory.resetPeak();
            // one map of this size itself, not timed with the others: a tiled size runs tile shapes
            // and code paths that the whole-plane warm-up maps do not (the engine's kernels and
            // allocations for those shapes, the two-stage bands' Java code), and a 64 MP size times
            // a single map, which would carry all of that alone
            double first = timedMap(model, image);
            List<Double> each = new ArrayList<>();
            double total = 0;
            while (total < MIN_TIMED_SECONDS && each.size() < MAX_TIMED_MAPS) {
                double s = timedMap(model, image);
                each.add(s);
                total += s;
            }
            long peak = reset ? ResidentMemory.peak() : -1;
            // the warm-up plane mapped just before and just after the timed maps: its seconds per
            // megapixel is the machine's speed of the moment, for a figure that a machine speeding
            // up or slowing down between sizes does not move
            List<Double> after = new ArrayList<>();
            for (int i = 0; i < REFERENCE_MAPS; i++) {
                after.add(timedMap(model, warmImage));
            }
            List<Double> last = warmEach.subList(Math.max(0, warmEach.size() - REFERENCE_MAPS), warmEach.size());
            double warmMpix = (double) warm * warm / 1e6;
            double reference = (median(last) + median(after)) / 2 / warmMpix;
            double seconds = median(each);
            JsonArray times = new JsonArray();
            each.forEach(times::add);
            double mpix = (double) side * side / 1e6;
            o.addProperty("side", side);
            o.addProperty("megapixels", mpix);
            o.addProperty("seconds", seconds);
            o.add("seconds_each", times);
            o.addProperty("first_map_seconds", first);
            o.addProperty("seconds_per_megapixel", seconds / mpix);
            o.addProperty("reference_seconds_per_megapixel", reference);
            o.addProperty("relative_time_per_megapixel", seconds / mpix / reference);
            o.addProperty("rss_before_map_mb", ResidentMemory.mebibytes(before));
            o.addProperty("peak_rss_during_map_mb", reset ? ResidentMemory.mebibytes(peak) : -1);
            o.addProperty("image_and_map_arrays_mb", 2 * 4.0 * side * side / (1024 * 1024));
            o.addProperty("max_heap_mb", ResidentMemory.mebibytes(Runtime.getRuntime().maxMemory()));
        }
        o.addProperty("peak_rss_process_mb", ResidentMemory.mebibytes(ResidentMemory.peak()));
        return o;
    }

    private static double timedMap(FlowModel model, ImageData image) {
        long t0 = System.nanoTime();
        Mapper.map(model, null, image, MapSettings.defaults(), null, null);
        return (System.nanoTime() - t0) * 1e-9;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static JsonObject repeat(int side, int count) {
        ImageData image = SyntheticPlane.image("map", side, side, 1, 21);
        FlowConfig config = FlowConfig.defaults(Architecture.GLOW, 1).withSteps(2).withHidden(16);
        JsonArray rss = new JsonArray();
        long t0 = System.nanoTime();
        int arraysBefore;
        int arraysAfter;
        try (FlowModel model = Benchmarks.untrainedModel(config, Benchmarks.PATCH, image)) {
            arraysBefore = model.manager().getManagedArrays().size();
            for (int i = 0; i < count; i++) {
                Mapper.map(model, null, image, MapSettings.defaults(), null, null);
                rss.add(ResidentMemory.mebibytes(ResidentMemory.current()));
            }
            arraysAfter = model.manager().getManagedArrays().size();
        }
        JsonObject o = new JsonObject();
        o.addProperty("model_arrays_before", arraysBefore);
        o.addProperty("model_arrays_after", arraysAfter);
        o.addProperty("side", side);
        o.addProperty("maps", count);
        o.addProperty("seconds", (System.nanoTime() - t0) * 1e-9);
        o.add("rss_mb", rss);
        return o;
    }
}
