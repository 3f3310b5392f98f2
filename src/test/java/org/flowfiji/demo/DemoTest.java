package org.flowfiji.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo on two test planes with the shipped models: every output is there and consistent. */
class DemoTest {

    @TempDir
    Path out;

    @Test
    void demoOnTwoPlanesWritesConsistentOutputs() throws IOException {
        Demo.Settings d = Demo.Settings.defaults();
        Demo.Settings s = new Demo.Settings(d.models(), d.images(), out, 2, 2, 32, 0.8, 1, 16, "cpu");
        List<String> log = new ArrayList<>();
        Demo.Result r = Demo.run(s, null, log::add, null);

        assertEquals(6, r.maps().size());
        assertTrue(log.size() >= 3, "one log line per stage");
        String report = Files.readString(r.report(), StandardCharsets.UTF_8);
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        List<JsonElement> jsonMaps = json.getAsJsonArray("maps").asList();
        for (int i = 0; i < r.maps().size(); i++) {
            Demo.MapScore m = r.maps().get(i);
            assertTrue(m.auc() >= 0 && m.auc() <= 1, m.name() + " AUC " + m.auc());
            assertTrue(report.contains("| " + m.name() + " | " + m.title() + " | " + Demo.formatAuc(m.auc()) + " |"),
                    "report row of " + m.name());
            JsonObject j = jsonMaps.get(i).getAsJsonObject();
            assertEquals(m.name(), j.get("name").getAsString());
            assertEquals(m.auc(), j.get("auc").getAsDouble(), 0);
            ImageData map = ImageIO.read(out.resolve("map-" + m.name() + ".tif"));
            assertEquals(2, map.planeCount());
            assertEquals(32, map.bitDepth());
            for (float[] p : map.planes()) for (float v : p) assertTrue(Float.isFinite(v), m.name() + " map not finite");
        }
        for (String model : List.of("realnvp", "glow", "iaf")) {
            ImageData samples = ImageIO.read(out.resolve("samples-" + model + ".tif"));
            assertEquals(2, samples.planeCount());
            assertEquals(32, samples.width());
            assertEquals(16, samples.bitDepth());
        }
        for (String f : r.files()) {
            assertTrue(Files.size(out.resolve(f)) > 0, f + " is empty");
            if (f.endsWith(".png")) {
                BufferedImage img = javax.imageio.ImageIO.read(out.resolve(f).toFile());
                assertNotNull(img, f + " does not decode as PNG");
                assertTrue(img.getWidth() > 50 && img.getHeight() > 50, f + " is too small");
            }
        }
        for (String f : List.of("samples.png", "maps.png", "roc.png", "training.png", "overlay-glow-ratio.png", "report.md")) {
            assertTrue(r.files().contains(f), f + " missing");
        }
    }
}
