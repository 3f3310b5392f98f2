package org.flowfiji.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.flowfiji.data.ImagePlusBridge;
import org.flowfiji.fiji.MacroTexts;
import org.flowfiji.fiji.TestImages;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.EvalResult;
import org.flowfiji.ops.Evaluator;
import org.flowfiji.ops.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain ImageJ 1.x runs a macro calling the three commands by label, with the plugin installed the way a
 * user installs it (a jar with plugins.config in the plugins folder), in a separate JVM:
 * {@code java -Dplugins.dir=... ij.ImageJ -batch macro.ijm}. ImageJ 1.x builds AWT menus even in batch
 * mode, so the JVM gets a display: the current one, or a virtual one (Xvfb) started here.
 */
class ImageJMacroTest {

    private static final long TIMEOUT_MINUTES = 8;

    @TempDir
    Path dir;

    @Test
    void macroCallsTheThreeCommandsByLabel() throws Exception {
        try (VirtualDisplay display = VirtualDisplay.open()) {
            assumeTrue(display != null, "needs an X display: set DISPLAY or install Xvfb");
            Path home = dir.resolve("ImageJ");
            installPlugin(home.resolve("plugins"));

            Path image = trainingImage();
            String title = image.getFileName().toString();
            Path model = dir.resolve("out/nuclei model.flow");
            Files.createDirectories(model.getParent());
            Path samples = dir.resolve("out/samples.tif");
            Path map = dir.resolve("out/map.tif");
            Path mapTable = dir.resolve("out/map.csv");
            Path trainTable = dir.resolve("out/train.csv");
            String macro = String.join("\n",
                    "setBatchMode(true);",
                    "open(\"" + image + "\");",
                    "run(\"Flow Train on Stack\", \"" + MacroTexts.train(model.toString()) + "\");",
                    "saveAs(\"Results\", \"" + trainTable + "\");",
                    "run(\"Flow Sample\", \"" + MacroTexts.sample(model.toString()) + "\");",
                    "saveAs(\"Tiff\", \"" + samples + "\");",
                    "selectImage(\"" + title + "\");",
                    "run(\"Flow Likelihood Map\", \"" + MacroTexts.map(model.toString()) + "\");",
                    "saveAs(\"Tiff\", \"" + map + "\");",
                    "saveAs(\"Results\", \"" + mapTable + "\");",
                    "print(\"macro finished\");",
                    "");
            Path macroFile = dir.resolve("flows.ijm");
            Files.writeString(macroFile, macro);

            String log = runImageJ(home, macroFile, display.name());
            assertTrue(log.contains("macro finished"), "the macro ran to its end; ImageJ output:\n" + log);

            ImagePlus input = IJ.openImage(image.toString());
            EvalResult eval;
            try (FlowModel m = FlowModel.load(model, "cpu")) {
                assertEquals(16, m.patchSize());
                assertEquals(input.getBitDepth(), m.bitDepth());
                eval = Evaluator.evaluate(m, ImagePlusBridge.toImageData(input, false), ProgressListener.NONE, new Cancellation());
            }
            assertEquals(20, ResultsTable.open(trainTable.toString()).getValue("iterations", 0));

            ImagePlus s = IJ.openImage(samples.toString());
            assertEquals(3, s.getStackSize());
            assertEquals(16, s.getWidth());
            assertEquals(16, s.getHeight());
            assertEquals(input.getBitDepth(), s.getBitDepth());

            ImagePlus m = IJ.openImage(map.toString());
            assertEquals(32, m.getBitDepth());
            assertEquals(input.getWidth(), m.getWidth());
            assertEquals(input.getHeight(), m.getHeight());
            assertEquals(input.getStackSize(), m.getStackSize());
            assertEquals(input.getCalibration().pixelWidth, m.getCalibration().pixelWidth, 1e-9);
            ResultsTable table = ResultsTable.open(mapTable.toString());
            assertEquals(input.getStackSize(), table.size());
            for (int p = 0; p < m.getStackSize(); p++) {
                double sum = 0;
                for (float v : (float[]) m.getStack().getProcessor(p + 1).getPixels()) sum += v;
                double expected = eval.logLikelihoodNats().get(p);
                double tolerance = 1e-4 * Math.abs(expected) + 1e-2;
                assertEquals(expected, sum, tolerance, "map plane " + (p + 1) + " sums to the evaluated log p");
                assertEquals(expected, table.getValue("log_p_nats", p), Math.max(tolerance, 1e-3 * Math.abs(expected)));
            }
        }
    }

    /** The project's sample training stack when present, otherwise a small generated 16-bit stack. */
    private Path trainingImage() throws IOException {
        Path sample = Path.of("sample-images", "train.tif").toAbsolutePath();
        if (Files.isRegularFile(sample)) return sample;
        Path generated = dir.resolve("train.tif");
        assertTrue(IJ.saveAsTiff(TestImages.blobs16(64, 6, 7), generated.toString()));
        return generated;
    }

    /** Writes the plugin jar (compiled classes, plugin index, plugins.config) into {@code plugins}. */
    static void installPlugin(Path plugins) throws IOException {
        Path classes = classesDirectory();
        assertTrue(Files.isRegularFile(classes.resolve("plugins.config")), "plugins.config is packaged at the jar root");
        Files.createDirectories(plugins);
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(plugins.resolve("Normalizing_Flows.jar")));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().collect(Collectors.toList())) {
                jar.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }

    private static Path classesDirectory() {
        try {
            return Path.of(CommandLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code ij.ImageJ -batch macro} in a new JVM on {@code display}; returns its output. */
    private String runImageJ(Path home, Path macro, String display) throws Exception {
        Path classes = classesDirectory();
        List<String> classpath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (!p.equals(classes) && !p.endsWith("test-classes")) classpath.add(entry);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx2g", "-Djava.awt.headless=false",
                "-Dai.djl.offline=true", "-Dplugins.dir=" + home, "-cp", String.join(File.pathSeparator, classpath),
                "ij.ImageJ", "-batch", macro.toString());
        pb.environment().put("DISPLAY", display);
        pb.redirectErrorStream(true);
        Path out = dir.resolve("imagej-output.txt");
        pb.redirectOutput(out.toFile());
        Process process = pb.start();
        boolean done = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!done) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(done, "ImageJ did not finish within " + TIMEOUT_MINUTES + " minutes (a dialog may be open):\n" + log);
        return log;
    }

    /** The X display to use: $DISPLAY, or an Xvfb server started for the test and stopped on close. */
    static final class VirtualDisplay implements AutoCloseable {
        private final String name;
        private final Process xvfb;

        private VirtualDisplay(String name, Process xvfb) {
            this.name = name;
            this.xvfb = xvfb;
        }

        /** The display, or null when there is none and Xvfb is not installed. */
        static VirtualDisplay open() throws IOException, InterruptedException {
            String current = System.getenv("DISPLAY");
            if (current != null && !current.isBlank()) return new VirtualDisplay(current, null);
            Path xvfb = Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator))
                    .map(d -> Path.of(d, "Xvfb")).filter(Files::isExecutable).findFirst().orElse(null);
            if (xvfb == null) return null;
            for (int n = 90; n < 140; n++) {
                if (Files.exists(Path.of("/tmp/.X11-unix/X" + n)) || Files.exists(Path.of("/tmp/.X" + n + "-lock"))) continue;
                Process p = new ProcessBuilder(xvfb.toString(), ":" + n, "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                for (int i = 0; i < 50 && p.isAlive(); i++) {
                    if (Files.exists(Path.of("/tmp/.X11-unix/X" + n))) return new VirtualDisplay(":" + n, p);
                    Thread.sleep(100);
                }
                p.destroy();
            }
            return null;
        }

        String name() {
            return name;
        }

        @Override
        public void close() throws InterruptedException {
            if (xvfb == null) return;
            xvfb.destroy();
            if (!xvfb.waitFor(5, TimeUnit.SECONDS)) xvfb.destroyForcibly();
        }
    }
}
