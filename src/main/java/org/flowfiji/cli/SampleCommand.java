package org.flowfiji.cli;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.flowfiji.data.TiffStackWriter;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flows sample}: draws images from a model into a TIFF stack. */
@Command(name = "sample", description = "Draw images from a model into a TIFF stack (training bit depth and calibration).", mixinStandardHelpOptions = true)
final class SampleCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model file (.flow).")
    Path model;

    @Option(names = "--count", defaultValue = "16", description = "Number of images (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--width", defaultValue = "0", description = "Width, a multiple of 2^levels (0 = training patch size).")
    int width;

    @Option(names = "--height", defaultValue = "0", description = "Height, a multiple of 2^levels (0 = training patch size).")
    int height;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Latent temperature; below 1 gives smoother images (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output TIFF stack.")
    Path out;

    @picocli.CommandLine.Mixin
    EngineOptions engine;

    @picocli.CommandLine.Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        String device = engine.apply();
        try (FlowModel m = FlowModel.load(model, device)) {
            int w = Sampler.side(m, width);
            int h = Sampler.side(m, height);
            int c = m.channels();
            Sampler.check(m, count, w, h, temperature);
            long t0 = System.nanoTime();
            // each image goes to the file as it is made (large ones band by band): memory holds one at most
            try (TiffStackWriter writer = new TiffStackWriter(out, w, h, c, count, 1, m.bitDepth(), m.calibration())) {
                Sampler.sample(m, count, w, h, temperature, seed, new ConsoleProgress(output.quiet), new Cancellation(),
                        (k, y0, rows, values) -> {
                            for (int ch = 0; ch < c; ch++) writer.writeRows(k * c + ch, y0, values, ch * rows * w, rows);
                        });
                writer.commit();
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            if (output.json) {
                JsonObject o = new JsonObject();
                o.addProperty("count", count);
                o.addProperty("width", w);
                o.addProperty("height", h);
                o.addProperty("seconds", seconds);
                o.addProperty("out", out.toString());
                FlowsCommand.printJson(o);
            } else if (!output.quiet) {
                System.err.printf("%d image(s) %dx%d in %.2f s -> %s%n", count, w, h, seconds, out);
            }
        }
        return 0;
    }
}
