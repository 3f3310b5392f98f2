package org.flowfiji.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.measure.ResultsTable;
import java.awt.Frame;
import java.awt.GraphicsEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImagePlusBridge;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.EvalResult;
import org.flowfiji.ops.Evaluator;
import org.flowfiji.ops.ProgressListener;
import org.flowfiji.ops.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.app.StatusService;
import org.scijava.command.Command;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.convert.ConvertService;
import org.scijava.log.LogService;

/**
 * In a headless JVM (what Fiji's --headless gives a command), a SciJava context runs the three commands
 * with inputs set from macro text the way Fiji sets them, and nothing touches AWT.
 */
class HeadlessCommandsTest {

    private static Context context;

    @TempDir
    static Path dir;

    @BeforeAll
    static void createContext() {
        context = new Context(CommandService.class, StatusService.class, LogService.class, ConvertService.class);
    }

    @AfterAll
    static void dispose() {
        context.dispose();
    }

    static CommandModule run(Class<? extends Command> command, String options, ImagePlus image) throws Exception {
        CommandService commands = context.service(CommandService.class);
        CommandInfo info = commands.getCommand(command);
        Map<String, Object> inputs = FijiMacroInputs.read(context, info, options);
        if (image != null) inputs.put("image", image);
        return commands.run(info, true, inputs).get(10, TimeUnit.MINUTES);
    }

    @Test
    void trainSampleAndMapHeadless() throws Exception {
        assertTrue(GraphicsEnvironment.isHeadless(), "this test runs with java.awt.headless=true");
        ImagePlus image = TestImages.blobs16(32, 8, 11);
        Path model = dir.resolve("blobs model.flow");

        CommandModule train = run(FlowTrainCommand.class, MacroTexts.train(model.toString()), image);
        assertFalse(train.isCanceled(), train.getCancelReason());
        FlowTrainCommand trainer = (FlowTrainCommand) train.getCommand();
        assertEquals(model, trainer.result().modelFile());
        ResultsTable trainTable = trainer.results();
        assertEquals(1, trainTable.size());
        assertEquals(20, trainTable.getValue("iterations", 0));
        assertTrue(Double.isFinite(trainTable.getValue("validation_bits_per_dim", 0)));
        try (FlowModel m = FlowModel.load(model, "cpu")) {
            assertEquals(16, m.patchSize());
            assertEquals(16, m.bitDepth());
            assertEquals(1, m.channels());
            assertEquals(0.325, m.calibration().pixelWidth(), 1e-9);
        }

        CommandModule sample = run(FlowSampleCommand.class, MacroTexts.sample(model.toString()), null);
        assertFalse(sample.isCanceled(), sample.getCancelReason());
        ImagePlus samples = (ImagePlus) sample.getOutput("samples");
        assertNotNull(samples);
        assertEquals(3, samples.getStackSize());
        assertEquals(16, samples.getWidth());
        assertEquals(16, samples.getHeight());
        assertEquals(16, samples.getBitDepth());
        assertEquals(0.325, samples.getCalibration().pixelWidth, 1e-9);
        // the planes hold the images the sampler makes with the same settings
        try (FlowModel m = FlowModel.load(model, "cpu")) {
            ImageData expected = Sampler.sample(m, 3, 16, 16, 0.7, 5, null, null);
            for (int p = 0; p < 3; p++) {
                float[] shown = (float[]) samples.getStack().getProcessor(p + 1).convertToFloat().getPixels();
                for (int i = 0; i < shown.length; i++) {
                    assertEquals(expected.plane(p)[i], shown[i], 1.0, "sample " + p + ", pixel " + i);
                }
            }
        }

        CommandModule mapped = run(FlowLikelihoodMapCommand.class, MacroTexts.map(model.toString()), image);
        assertFalse(mapped.isCanceled(), mapped.getCancelReason());
        ImagePlus map = (ImagePlus) mapped.getOutput("map");
        assertEquals(32, map.getWidth());
        assertEquals(32, map.getHeight());
        assertEquals(8, map.getStackSize());
        assertEquals(32, map.getBitDepth());
        assertEquals(0.325, map.getCalibration().pixelWidth, 1e-9);
        assertEquals("micron", map.getCalibration().getUnit());

        EvalResult eval;
        try (FlowModel m = FlowModel.load(model, "cpu")) {
            eval = Evaluator.evaluate(m, ImagePlusBridge.toImageData(image, false), ProgressListener.NONE, new Cancellation());
        }
        ResultsTable table = ((FlowLikelihoodMapCommand) mapped.getCommand()).results();
        assertEquals(8, table.size());
        for (int p = 0; p < 8; p++) {
            double expected = eval.logLikelihoodNats().get(p);
            double sum = 0;
            for (float v : (float[]) map.getStack().getProcessor(p + 1).getPixels()) sum += v;
            double tolerance = 1e-4 * Math.abs(expected) + 1e-2;
            assertEquals(expected, sum, tolerance, "map plane " + (p + 1) + " sums to log p of the plane");
            assertEquals(expected, table.getValue("log_p_nats", p), tolerance, "Results row " + (p + 1));
            assertEquals(sum, table.getValue("map_sum", p), tolerance);
        }

        Overlay overlay = image.getOverlay();
        assertNotNull(overlay, "show_overlay=true adds an overlay to the input");
        assertEquals(8, overlay.size());
        for (Roi roi : overlay.toArray()) assertTrue(LikelihoodOverlay.isLikelihoodRoi(roi));
        assertEquals(0, Frame.getFrames().length, "no AWT frame was created");
    }

    @Test
    void missingModelFileIsReportedWithTheKey() throws Exception {
        Path missing = dir.resolve("no such model.flow");
        CommandModule sample = run(FlowSampleCommand.class, MacroTexts.sample(missing.toString()), null);
        assertTrue(sample.isCanceled());
        assertTrue(((FlowCommand) sample.getCommand()).hasFailed());
        assertEquals("Flow Sample: model_file=" + missing + " does not exist: give the .flow file of a trained model",
                sample.getCancelReason());
        assertFalse(Files.exists(missing));
    }

    @Test
    void useRoiWithoutRoiIsReported() throws Exception {
        ImagePlus image = TestImages.blobs16(16, 2, 1);
        CommandModule train = run(FlowTrainCommand.class,
                MacroTexts.train(dir.resolve("roi.flow").toString()).replace("use_roi=false", "use_roi=true"), image);
        assertTrue(train.isCanceled());
        assertTrue(train.getCancelReason().contains("use_roi is set but 'blobs' has no area ROI"), train.getCancelReason());
    }
}
