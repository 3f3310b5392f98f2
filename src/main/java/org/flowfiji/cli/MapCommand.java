package org.flowfiji.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import ij.ImagePlus;
import org.flowfiji.data.IdxReader;
import org.flowfiji.data.ImageIO;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.MapResult;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.Mapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flows map}: per-pixel log-density of every plane, written as a 32-bit TIFF. Images are
 * read in their own bit depth and the map is streamed to the file band by band, so memory stays
 * bounded by one input plane and one band of tiles (IDX files are read into memory).
 */
@Command(name = "map", description = "Per-pixel log-likelihood map of every plane (32-bit TIFF).", mixinStandardHelpOptions = true)
final class MapCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model file (.flow).")
    Path model;

    @Option(names = "--input", required = true, description = "Image or stack to map.")
    Path input;

    @Option(names = "--out", required = true, description = "Output 32-bit TIFF.")
    Path out;

    @Option(names = "--mode", defaultValue = "exact", description = "exact or window (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--reference", description = "Reference (background) model: writes the ratio map model - reference.")
    Path reference;

    @Option(names = "--units", defaultValue = "nats", description = "nats or bits per pixel (default: ${DEFAULT-VALUE}).")
    String units;

    @Option(names = "--tile", defaultValue = "0", description = "Tile side in pixels (0 = automatic).")
    int tile;

    @Option(names = "--stride", defaultValue = "0", description = "Window mode: stride in pixels (0 = patch/4).")
    int stride;

    @picocli.CommandLine.Mixin
    EngineOptions engine;

    @picocli.CommandLine.Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        String device = engine.apply();
        MapSettings settings = new MapSettings(MapSettings.Mode.parse(mode), MapSettings.Units.parse(units), tile, stride);
        try (FlowModel m = FlowModel.load(model, device);
             FlowModel ref = reference == null ? null : FlowModel.load(reference, device)) {
            long t0 = System.nanoTime();
            MapResult r;
            if (IdxReader.isIdxImageName(input)) {
                r = Mapper.map(m, ref, ImageIO.read(input), settings, new ConsoleProgress(output.quiet), new Cancellation());
                ImageIO.writeTiff(r.map(), out);
            } else {
                ImagePlus imp = ImageIO.openImagePlus(input);
                r = Mapper.mapToTiff(m, ref, imp, settings, out, new ConsoleProgress(output.quiet), new Cancellation());
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            if (output.json) {
                JsonObject o = new JsonObject();
                o.addProperty("planes", r.logLikelihoodNats().size());
                o.add("log_likelihood_nats", array(r.logLikelihoodNats()));
                o.add("map_sum_nats", array(r.mapSumNats()));
                o.add("bits_per_dim", array(r.bitsPerDim()));
                o.addProperty("seconds", seconds);
                o.addProperty("out", out.toString());
                FlowsCommand.printJson(o);
            } else if (!output.quiet) {
                System.err.printf("%d plane(s) mapped in %.2f s -> %s%n", r.logLikelihoodNats().size(), seconds, out);
            }
        }
        return 0;
    }

    static JsonArray array(List<Double> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
