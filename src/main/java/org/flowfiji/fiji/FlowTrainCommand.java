package org.flowfiji.fiji;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.measure.ResultsTable;
import java.io.File;
import java.io.IOException;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImagePlusBridge;
import org.flowfiji.flow.Architecture;
import org.flowfiji.ops.Cancellation.CancelledException;
import org.flowfiji.ops.TrainResult;
import org.flowfiji.ops.TrainSettings;
import org.flowfiji.ops.Trainer;
import org.flowfiji.ops.TrainingListener;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * Flow Train on Stack: trains a RealNVP, Glow or IAF flow on the patches of the input image or stack
 * (every Z/T plane is a training sample; channels stay together) and writes a {@code .flow} model file.
 *
 * <p>Interactive sessions show a {@link TrainingWindow} (live bits/dim plot, Stop, Finish, Save Model);
 * headless and batch runs log iteration, bits/dim and time left. Ends with a one-row Results table.
 * The parameter names are the macro keys.
 */
@Plugin(type = Command.class, label = FlowTrainCommand.LABEL,
        menuPath = "Plugins>Normalizing Flows>" + FlowTrainCommand.LABEL)
public class FlowTrainCommand extends FlowCommand {

    /** The menu label, which is also the name macros call. */
    public static final String LABEL = "Flow Train on Stack";

    @Parameter(label = "Training image", description = "Image or stack to learn from (all Z/T planes)")
    private ImagePlus image;

    @Parameter(label = "Architecture", choices = {"RealNVP", "Glow", "IAF"}, persist = false)
    private String architecture = "Glow";

    @Parameter(label = "Patch size", description = "Side of the square training patches (multiple of 2^levels)", min = "4", persist = false)
    private int patch_size = 32;

    @Parameter(label = "Levels", description = "Number of scales (0 = default)", min = "0", max = "6", persist = false)
    private int levels = 0;

    @Parameter(label = "Steps per level", description = "Flow steps per level (0 = default)", min = "0", persist = false)
    private int steps = 0;

    @Parameter(label = "Hidden channels", description = "Width of the coupling networks (0 = default)", min = "0", persist = false)
    private int hidden_channels = 0;

    @Parameter(label = "Batch size", min = "1", persist = false)
    private int batch_size = 16;

    @Parameter(label = "Iterations", description = "Iteration budget; training stops at iterations or minutes, whichever comes first (0 = minutes only)", min = "0", persist = false)
    private int iterations = 1000;

    @Parameter(label = "Minutes", description = "Wall-clock budget (0 = no limit)", min = "0", persist = false)
    private double minutes = 0;

    @Parameter(label = "Learning rate", min = "0", stepSize = "0.0001", persist = false)
    private double learning_rate = 1e-3;

    @Parameter(label = "Validation fraction", description = "Share of the data kept apart for validation (0 to 0.9)", min = "0", max = "0.9", persist = false)
    private double validation_fraction = 0.1;

    @Parameter(label = "Random seed", persist = false)
    private long seed = 1;

    @Parameter(label = "Device", description = "auto, cpu, gpu or gpu:N", persist = false)
    private String device = "auto";

    @Parameter(label = "Model file", description = "Where the trained .flow model is written", style = FileWidget.SAVE_STYLE, persist = false)
    private File model_file;

    @Parameter(label = "Train inside the ROI only", description = "Use the image's area ROI as training mask", persist = false)
    private boolean use_roi = false;

    @Parameter(label = "Continue from model", description = "Optional .flow file to continue training from", required = false, style = FileWidget.OPEN_STYLE, persist = false)
    private File continue_from;

    @Parameter(label = "Teacher model (IAF)", description = "Optional RealNVP/Glow .flow model to distil an IAF from", required = false, style = FileWidget.OPEN_STYLE, persist = false)
    private File teacher_model;

    private TrainResult result;
    private ResultsTable results;

    @Override
    public void run() {
        UiMode mode = UiMode.current();
        TrainingWindow window = null;
        try {
            TrainSettings settings = settings();
            ImageData data = trainingData();
            TrainingListener listener = new TrainingLogger(log, status, settings.iterations(), mode == UiMode.INTERACTIVE);
            if (mode.showsWindows()) {
                window = TrainingWindow.open(image.getTitle(), settings, cancellation);
                listener = TrainingWindow.both(window, listener);
            }
            log.info(LABEL + ": " + settings.architecture().label() + " on '" + image.getTitle() + "' (" + data.planeCount()
                    + " planes, " + data.width() + "x" + data.height() + "x" + data.channels() + "), model " + settings.modelFile());
            result = Trainer.train(data, settings, listener, cancellation);
            results = ResultTables.training(result, settings);
            log.info(LABEL + ": model written to " + result.modelFile() + String.format(
                    " (%d iterations, validation %.4f bits/dim%s)", result.iterations(), result.validationBitsPerDim(),
                    result.stoppedEarly() ? ", finished early" : ""));
            if (window != null) window.finished(result);
            ResultTables.publish(results);
        } catch (CancelledException e) {
            if (window != null) window.stopped();
            stopped(LABEL + ": training stopped, no model written");
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            if (window != null) window.failed(messageOf(e));
            fail(LABEL + ": " + messageOf(e));
        } catch (RuntimeException e) {
            if (window != null) window.failed(messageOf(e));
            fail(LABEL + ": " + messageOf(e), e);
        } finally {
            clearStatus();
        }
    }

    /** The validated training settings built from the parameters. */
    TrainSettings settings() {
        if (model_file == null || model_file.getPath().isBlank())
            throw new IllegalArgumentException("model_file is required: where the trained .flow model is written");
        if (iterations < 1 && !(minutes > 0))
            throw new IllegalArgumentException("give a training budget: iterations >= 1 or minutes > 0");
        return TrainSettings.builder()
                .setArchitecture(Architecture.parse(architecture))
                .setModelFile(model_file.toPath())
                .optPatchSize(patch_size)
                .optLevels(levels)
                .optSteps(steps)
                .optHidden(hidden_channels)
                .optBatchSize(batch_size)
                .optIterations(iterations)
                .optMinutes(minutes)
                .optLearningRate(learning_rate)
                .optValidationFraction(validation_fraction)
                .optSeed(seed)
                .optDevice(device)
                .optContinueFrom(optionalModel(continue_from, "continue_from"))
                .optTeacher(optionalModel(teacher_model, "teacher_model"))
                .build();
    }

    private ImageData trainingData() {
        if (image == null) throw new IllegalArgumentException("no training image: open an image or stack first");
        if (use_roi) {
            Roi roi = image.getRoi();
            if (roi == null || !roi.isArea())
                throw new IllegalArgumentException("use_roi is set but '" + image.getTitle()
                        + "' has no area ROI: draw one (rectangle, polygon, freehand) or turn use_roi off");
        }
        return ImagePlusBridge.toImageData(image, use_roi);
    }

    /** The training outcome, null until a run finished. */
    public TrainResult result() {
        return result;
    }

    /** The Results table of the last run, null until a run finished. */
    public ResultsTable results() {
        return results;
    }
}
