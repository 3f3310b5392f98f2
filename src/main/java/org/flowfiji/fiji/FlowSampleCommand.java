package org.flowfiji.fiji;

import ij.ImagePlus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import org.flowfiji.data.ImagePlusBridge;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation.CancelledException;
import org.flowfiji.ops.Sampler;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * Flow Sample: draws {@code count} images from a trained model as a new stack in the training data's bit
 * depth, channels and calibration. Width and height default to the training patch size and must be
 * multiples of 2^levels; temperature scales the latent standard deviation (1 = the model's density,
 * below 1 = smoother, more typical samples). The parameter names are the macro keys.
 */
@Plugin(type = Command.class, label = FlowSampleCommand.LABEL,
        menuPath = "Plugins>Normalizing Flows>" + FlowSampleCommand.LABEL)
public class FlowSampleCommand extends FlowCommand {

    /** The menu label, which is also the name macros call. */
    public static final String LABEL = "Flow Sample";

    @Parameter(label = "Model file", description = "A trained .flow model", style = FileWidget.OPEN_STYLE, persist = false)
    private File model_file;

    @Parameter(label = "Number of samples", min = "1", persist = false)
    private int count = 16;

    @Parameter(label = "Width", description = "A multiple of 2^levels (0 = patch size)", min = "0", persist = false)
    private int width = 0;

    @Parameter(label = "Height", description = "A multiple of 2^levels (0 = patch size)", min = "0", persist = false)
    private int height = 0;

    @Parameter(label = "Temperature", description = "Latent standard deviation factor (1 = the model's density)", min = "0", stepSize = "0.05", persist = false)
    private double temperature = 1.0;

    @Parameter(label = "Random seed", persist = false)
    private long seed = 1;

    @Parameter(label = "Device", description = "auto, cpu, gpu or gpu:N", persist = false)
    private String device = "auto";

    @Parameter(type = ItemIO.OUTPUT, label = "Samples")
    private ImagePlus samples;

    @Override
    public void run() {
        try {
            Path path = existingModel(model_file, "model_file");
            if (count < 1) throw new IllegalArgumentException("count must be at least 1, got " + count);
            if (width < 0 || height < 0) throw new IllegalArgumentException("width and height must be >= 0 (0 = the model's patch size)");
            if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
            try (FlowModel model = FlowModel.load(path, device)) {
                log.info(LABEL + ": " + count + " samples from " + path.getFileName() + " at temperature " + temperature);
                // the samples go straight into the image's planes as they are made (large ones band by band)
                int w = Sampler.side(model, width);
                int h = Sampler.side(model, height);
                Sampler.check(model, count, w, h, temperature);
                ImagePlusBridge.StackBuilder stack = new ImagePlusBridge.StackBuilder(w, h, model.channels(), count,
                        model.bitDepth());
                Sampler.sample(model, count, w, h, temperature, seed, progress(), cancellation, stack::rows);
                samples = stack.image(title(path), count, 1, model.calibration());
            }
        } catch (CancelledException e) {
            stopped(LABEL + ": stopped, no samples made");
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            fail(LABEL + ": " + messageOf(e));
        } catch (RuntimeException e) {
            fail(LABEL + ": " + messageOf(e), e);
        } finally {
            clearStatus();
        }
    }

    private String title(Path model) {
        String name = model.getFileName().toString().replaceFirst("\\.flow$", "");
        return name + " samples (T=" + temperature + ", seed " + seed + ")";
    }

    /** The samples of the last run, null before. */
    public ImagePlus samples() {
        return samples;
    }
}
