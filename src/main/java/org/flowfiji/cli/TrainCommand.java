package org.flowfiji.cli;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.flowfiji.flow.Architecture;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.TrainResult;
import org.flowfiji.ops.TrainSettings;
import org.flowfiji.ops.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flows train}: trains a flow on images or stacks and writes a .flow model file. */
@Command(name = "train", description = "Train a flow on the planes of images/stacks (TIFF, PNG, IDX).", mixinStandardHelpOptions = true)
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--input", required = true, arity = "1..*", description = "Training images or stacks (all must share size, channels and bit depth).")
    List<Path> inputs;

    @Option(names = "--arch", defaultValue = "glow", description = "realnvp, glow or iaf (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--out", required = true, description = "Model file to write (.flow).")
    Path out;

    @Option(names = "--patch", defaultValue = "32", description = "Patch side in pixels, a multiple of 2^levels (default: ${DEFAULT-VALUE}).")
    int patch;

    @Option(names = "--levels", defaultValue = "0", description = "Scales L (0 = architecture default).")
    int levels;

    @Option(names = "--steps", defaultValue = "0", description = "Flow steps per level (0 = default).")
    int steps;

    @Option(names = "--hidden", defaultValue = "0", description = "Hidden channels of the coupling networks (0 = default).")
    int hidden;

    @Option(names = "--batch", defaultValue = "16", description = "Patches per iteration (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--iterations", defaultValue = "1000", description = "Iteration budget (default: ${DEFAULT-VALUE}).")
    long iterations;

    @Option(names = "--minutes", defaultValue = "0", description = "Wall-clock budget in minutes; with --minutes alone the iteration budget is unlimited.")
    double minutes;

    @Option(names = "--val", defaultValue = "0.1", description = "Validation fraction: held-out planes, or a held-out band of a single plane (default: ${DEFAULT-VALUE}).")
    double val;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--teacher", description = "IAF only: a RealNVP/Glow model to distil from.")
    Path teacher;

    @Option(names = "--continue-from", description = "Continue training this model.")
    Path continueFrom;

    @Option(names = "--no-augment", description = "Do not flip/rotate patches (use for data with a fixed orientation, e.g. Fashion-MNIST).")
    boolean noAugment;

    @Option(names = "--limit", defaultValue = "0", description = "Read at most this many planes per input (0 = all).")
    int limit;

    @picocli.CommandLine.Mixin
    EngineOptions engine;

    @picocli.CommandLine.Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        String device = engine.apply();
        ImageData data = ImageIO.readAll(inputs, limit);
        boolean minutesOnly = minutes > 0 && !explicitIterations();
        TrainSettings s = TrainSettings.builder().setArchitecture(Architecture.parse(arch)).setModelFile(out)
                .optPatchSize(patch).optLevels(levels).optSteps(steps).optHidden(hidden).optBatchSize(batch)
                .optLearningRate(lr).optIterations(minutesOnly ? 0 : iterations).optMinutes(minutes)
                .optValidationFraction(val).optSeed(seed).optDevice(device).optTeacher(teacher)
                .optContinueFrom(continueFrom).optAugment(!noAugment).build();
        ConsoleProgress progress = new ConsoleProgress(output.quiet);
        TrainResult r = Trainer.train(data, s, progress, new Cancellation());
        if (!output.quiet) {
            System.err.printf("%ntrained %s: %d iterations in %.1f s (%.1f patches/s), train %.4f, validation %.4f bits/dim -> %s%n",
                    s.architecture().label(), r.iterations(), r.seconds(), r.patchesPerSecond(), r.trainBitsPerDim(),
                    r.validationBitsPerDim(), r.modelFile());
        }
        if (output.json) {
            JsonObject o = new JsonObject();
            o.addProperty("arch", s.architecture().label());
            o.addProperty("iterations", r.iterations());
            o.addProperty("seconds", r.seconds());
            o.addProperty("patches_per_second", r.patchesPerSecond());
            o.addProperty("train_bits_per_dim", r.trainBitsPerDim());
            o.addProperty("val_bits_per_dim", r.validationBitsPerDim());
            o.addProperty("model", r.modelFile().toString());
            FlowsCommand.printJson(o);
        }
        return 0;
    }

    private boolean explicitIterations() {
        return spec != null && spec.commandLine().getParseResult().hasMatchedOption("--iterations");
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;
}
