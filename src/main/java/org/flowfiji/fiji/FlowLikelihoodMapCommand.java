package org.flowfiji.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImagePlusBridge;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation.CancelledException;
import org.flowfiji.ops.MapResult;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.Mapper;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * Flow Likelihood Map: the per-pixel log-density of every plane of the input image under a model, as a
 * new 32-bit image with the input's dimensions and calibration, and a Results table with one row per
 * plane (log p in nats, bits/dim, sum of the map).
 *
 * <p>Mode {@code exact} spreads log p(plane) over its pixels so the map sums to it; {@code window} gives
 * the log-density per dimension of the patch around each pixel. With a reference model the map is the
 * difference (likelihood ratio). {@code show_overlay} puts the map on the input as a LUT-coloured overlay.
 * The parameter names are the macro keys.
 */
@Plugin(type = Command.class, label = FlowLikelihoodMapCommand.LABEL,
        menuPath = "Plugins>Normalizing Flows>" + FlowLikelihoodMapCommand.LABEL)
public class FlowLikelihoodMapCommand extends FlowCommand {

    /** The menu label, which is also the name macros call. */
    public static final String LABEL = "Flow Likelihood Map";

    @Parameter(label = "Image", description = "Image or stack to map (all Z/T planes)")
    private ImagePlus image;

    @Parameter(label = "Model file", description = "A trained .flow model", style = FileWidget.OPEN_STYLE, persist = false)
    private File model_file;

    @Parameter(label = "Mode", choices = {"exact", "window"}, persist = false)
    private String mode = "exact";

    @Parameter(label = "Reference model", description = "Optional background model: the map becomes the log-likelihood ratio",
            required = false, style = FileWidget.OPEN_STYLE, persist = false)
    private File reference_model;

    @Parameter(label = "Units", choices = {"nats", "bits"}, persist = false)
    private String units = "nats";

    @Parameter(label = "Show as overlay", description = "Overlay the map on the input image", persist = false)
    private boolean show_overlay = false;

    @Parameter(label = "Overlay opacity (%)", description = "Opacity of the overlay (percent)", min = "0", max = "100", persist = false)
    private double opacity = 50;

    @Parameter(label = "Overlay LUT", choices = {"Fire", "Ice", "Spectrum", "Grays", "Red/Green"}, persist = false)
    private String lut = "Fire";

    @Parameter(label = "Device", description = "auto, cpu, gpu or gpu:N", persist = false)
    private String device = "auto";

    @Parameter(type = ItemIO.OUTPUT, label = "Likelihood map")
    private ImagePlus map;

    private MapResult result;
    private ResultsTable results;

    @Override
    public void run() {
        try {
            if (image == null) throw new IllegalArgumentException("no image: open the image or stack to map first");
            MapSettings settings = new MapSettings(MapSettings.Mode.parse(mode), MapSettings.Units.parse(units), 0, 0);
            if (show_overlay) LikelihoodOverlay.colorModel(lut);
            Path modelPath = existingModel(model_file, "model_file");
            Path referencePath = optionalModel(reference_model, "reference_model");
            ImageData data = ImagePlusBridge.toImageData(image, false);
            try (FlowModel model = FlowModel.load(modelPath, device);
                 FlowModel reference = referencePath == null ? null : FlowModel.load(referencePath, device)) {
                log.info(LABEL + ": '" + image.getTitle() + "' under " + modelPath.getFileName()
                        + (reference == null ? "" : " against " + referencePath.getFileName()) + ", " + mode + " mode");
                result = Mapper.map(model, reference, data, settings, progress(), cancellation);
            }
            map = ImagePlusBridge.toImagePlus(result.map(), title(referencePath != null, settings.units()));
            results = ResultTables.likelihood(result, settings, data.slices(), data.frames(), image.getTitle());
            if (show_overlay) LikelihoodOverlay.add(image, map, lut, opacity);
            ResultTables.publish(results);
        } catch (CancelledException e) {
            stopped(LABEL + ": stopped, no map made");
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            fail(LABEL + ": " + messageOf(e));
        } catch (RuntimeException e) {
            fail(LABEL + ": " + messageOf(e), e);
        } finally {
            clearStatus();
        }
    }

    private String title(boolean ratio, MapSettings.Units u) {
        String what = ratio ? "log-likelihood ratio" : "log-likelihood";
        return image.getShortTitle() + " " + what + " (" + u.name().toLowerCase(Locale.ROOT) + ")";
    }

    /** The map and per-plane figures of the last run, null before. */
    public MapResult result() {
        return result;
    }

    /** The Results table of the last run, null before. */
    public ResultsTable results() {
        return results;
    }
}
