package org.flowfiji.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {

    @TempDir
    Path dir;

    static FlowModel tinyModel(Architecture arch) {
        FlowConfig c = FlowConfig.defaults(arch, 1).withLevels(2).withSteps(2).withHidden(8);
        return FlowModel.create(c, new Normalizer(1000, 2000), 8, 16,
                new ImageData.Calibration(0.5, 0.5, 1, "micron"), 3, Device.cpu());
    }

    static float[] logLikelihood(FlowModel m, float[] x) {
        try (NDManager s = m.manager().newSubManager()) {
            NDArray a = s.create(x, new Shape(2, 1, 8, 8));
            return m.flow().forward(m.evalContext(s, false), a).logLikelihood().toFloatArray();
        }
    }

    static float[] input() {
        float[] x = new float[2 * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37) * 0.4f;
        return x;
    }

    @Test
    void roundTripGivesIdenticalOutputsAndMetadata() throws IOException {
        Path f = dir.resolve("m.flow");
        TrainingSummary sum = new TrainingSummary(List.of("a.tif"), 10, 1.5, 3.2, 3.1, 3, 4, 1e-3,
                Map.of("java", "17"), "2026-01-01T00:00Z", List.of(new TrainingSummary.HistoryPoint(10, 1.5, 3.2, 3.1)));
        try (FlowModel m = tinyModel(Architecture.GLOW)) {
            float[] before = logLikelihood(m, input());
            m.withSummary(sum).save(f);
            try (FlowModel back = FlowModel.load(f, "cpu")) {
                assertArrayEquals(before, logLikelihood(back, input()), 0f);
                assertEquals(m.config(), back.config());
                assertEquals(m.normalizer(), back.normalizer());
                assertEquals(16, back.bitDepth());
                assertEquals(8, back.patchSize());
                assertEquals("micron", back.calibration().unit());
                assertEquals(sum.history(), back.summary().history());
                assertEquals(3.1, back.summary().validationBitsPerDim());
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "only the model file is left, no temporary file");
        }
    }

    @Test
    void truncatedFileIsRefusedWithAClearMessage() throws IOException {
        Path f = dir.resolve("m.flow");
        try (FlowModel m = tinyModel(Architecture.REALNVP)) {
            m.save(f);
        }
        byte[] all = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.flow");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        ModelFileException e = assertThrows(ModelFileException.class, () -> FlowModel.load(cut, "cpu"));
        assertTrue(e.getMessage().contains("cut.flow"), e.getMessage());
    }

    /** flow.json of a tiny Glow as saved. */
    private JsonObject savedJson() throws IOException {
        Path f = dir.resolve("m.flow");
        try (FlowModel m = tinyModel(Architecture.GLOW)) {
            m.save(f);
        }
        return ModelFile.readJson(f);
    }

    /** A model file of {@code json} and, unless null, {@code parameters}, written by hand. */
    private Path write(String name, JsonObject json, byte[] parameters) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry(ModelFile.JSON_ENTRY));
            z.write(json.toString().getBytes(StandardCharsets.UTF_8));
            if (parameters != null) {
                z.putNextEntry(new ZipEntry(ModelFile.PARAMS_ENTRY));
                z.write(parameters);
            }
        }
        return file;
    }

    @Test
    void damagedParametersAreDetectedByChecksum() throws IOException {
        Path bad = write("bad.flow", savedJson(), new byte[] {1, 2, 3, 4});
        ModelFileException e = assertThrows(ModelFileException.class, () -> FlowModel.load(bad, "cpu"));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void newerFormatIsRefusedWithAnUpdateMessage() throws IOException {
        JsonObject json = savedJson();
        assertEquals(ModelFile.FORMAT_VERSION, json.get("format_version").getAsInt());
        json.addProperty("format_version", ModelFile.FORMAT_VERSION + 1);
        Path newer = write("newer.flow", json, null);
        ModelFileException e = assertThrows(ModelFileException.class, () -> FlowModel.load(newer, "cpu"));
        assertTrue(e.getMessage().contains("is newer than this software reads")
                && e.getMessage().contains("update"), e.getMessage());
    }

    @Test
    void notAModelAndMissingFilesAreRefused() throws IOException {
        Path txt = dir.resolve("notes.flow");
        Files.writeString(txt, "hello");
        assertThrows(ModelFileException.class, () -> FlowModel.load(txt, "cpu"));
        ModelFileException e = assertThrows(ModelFileException.class, () -> FlowModel.load(dir.resolve("none.flow"), "cpu"));
        assertTrue(e.getMessage().contains("none.flow"));
    }

    @Test
    void unknownDeviceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.select("tpu"));
        assertTrue(e.getMessage().contains("tpu"));
        assertEquals(Device.cpu(), Devices.select("cpu"));
        assertFalse(Devices.select("auto").isGpu() && Engines.pytorch().getGpuCount() == 0);
    }
}
