package org.flowfiji.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.flowfiji.demo.Demo;
import org.flowfiji.demo.GenericImages;
import org.flowfiji.ops.Cancellation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flows demo}: the one-command tour on the shipped models and sample images (see
 * {@link Demo}). With no options it reads {@code models/} and {@code sample-images/} in the
 * working folder and writes {@code demo-output/}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the shipped models on the sample images: samples, likelihood maps of the test stack "
                + "(plain and ratio), their pixel ROC AUC against the anomaly mask, PNG previews and report.md.",
                "Run it from the project folder; it takes about 2 minutes on 2 CPU cores."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--models", defaultValue = "models", description = "Folder with glow.flow, realnvp.flow, iaf.flow and background.flow (default: ${DEFAULT-VALUE}).")
    Path models;

    @Option(names = "--images", defaultValue = "sample-images", description = "Folder with train.tif, test.tif and test-anomaly-mask.tif (default: ${DEFAULT-VALUE}).")
    Path images;

    @Option(names = "--out", defaultValue = "demo-output", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--planes", defaultValue = "0", description = "Map only the first N test planes (0 = all).")
    int planes;

    @Option(names = "--samples", defaultValue = "8", description = "Images sampled per model (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--temperature", defaultValue = "0.8", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", defaultValue = "1", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Mixin
    EngineOptions engine;

    @Option(names = "--write-generic-images", paramLabel = "FILE",
            description = "Only write the generic 16-bit images the background model is trained on (64 planes, seed "
                    + GenericImages.DEFAULT_SEED + ") to FILE, then exit.")
    Path genericImages;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (genericImages != null) {
            GenericImages.write(genericImages, GenericImages.DEFAULT_PLANES, GenericImages.DEFAULT_SIZE,
                    GenericImages.DEFAULT_SEED);
            if (!quiet) System.err.println("wrote " + genericImages);
            return 0;
        }
        String device = engine.apply();
        Demo.Settings d = Demo.Settings.defaults();
        Demo.Settings s = new Demo.Settings(models, images, out, planes, samples, d.sampleSize(), temperature, seed,
                d.windowStride(), device);
        ConsoleProgress progress = new ConsoleProgress(quiet);
        Demo.Result r = Demo.run(s, progress, quiet ? null : DemoCommand::logLine, new Cancellation());
        System.out.println("Pixel ROC AUC of each likelihood map against test-anomaly-mask.tif:");
        for (Demo.MapScore m : r.maps()) {
            System.out.printf(Locale.ROOT, "  %-18s %-28s AUC %s%n", m.name(), m.title(), Demo.formatAuc(m.auc()));
        }
        System.out.printf(Locale.ROOT, "Finished in %.0f s. Report: %s (pictures and TIFFs in %s)%n", r.seconds(),
                r.report(), out);
        return 0;
    }

    /** A stage's message on stderr, on its own line even when a progress bar is being redrawn there. */
    private static void logLine(String message) {
        System.err.println(System.console() != null ? "\r" + message + " ".repeat(Math.max(0, 60 - message.length())) : message);
    }
}
