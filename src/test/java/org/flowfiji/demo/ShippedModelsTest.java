package org.flowfiji.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.EvalResult;
import org.flowfiji.ops.Evaluator;
import org.junit.jupiter.api.Test;

/**
 * Every model shipped in {@code models/} loads and evaluates to the bits/dim recorded for it in
 * {@code models/models.json}, which {@code models/README.md} quotes.
 */
class ShippedModelsTest {

    static final Path MODELS = Path.of("models");
    /** Relative tolerance on bits/dim: float rounding differs a little between CPUs, nothing more. */
    static final double TOLERANCE = 1e-4;
    static final long MAX_BYTES = 5L * 1024 * 1024;

    static JsonObject registry() throws IOException {
        return JsonParser.parseString(Files.readString(MODELS.resolve("models.json"), StandardCharsets.UTF_8)).getAsJsonObject();
    }

    @Test
    void everyModelFileIsRecordedAndEveryRecordHasItsFile() throws IOException {
        TreeSet<String> files;
        try (Stream<Path> s = Files.list(MODELS)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".flow"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        TreeSet<String> recorded = new TreeSet<>(registry().getAsJsonObject("models").keySet());
        assertFalse(files.isEmpty(), "models/ holds no .flow file");
        assertEquals(recorded, files, "models/models.json and the .flow files in models/ must list the same models");
        for (String f : files) {
            assertTrue(Files.size(MODELS.resolve(f)) <= MAX_BYTES, f + " is larger than 5 MB");
        }
    }

    @Test
    void everyModelEvaluatesToItsRecordedBitsPerDim() throws IOException {
        JsonObject models = registry().getAsJsonObject("models");
        String readme = Files.readString(MODELS.resolve("README.md"), StandardCharsets.UTF_8);
        for (Map.Entry<String, com.google.gson.JsonElement> e : models.entrySet()) {
            JsonObject eval = e.getValue().getAsJsonObject().getAsJsonObject("eval");
            Path input = Path.of(eval.get("input").getAsString());
            int planes = eval.get("planes").getAsInt();
            double expected = eval.get("bits_per_dim").getAsDouble();
            ImageData data = ImageIO.readAll(List.of(input), planes);
            assertEquals(planes, data.planeCount(), e.getKey() + ": planes of " + input);
            double actual;
            try (FlowModel m = FlowModel.load(MODELS.resolve(e.getKey()), "cpu")) {
                EvalResult r = Evaluator.evaluate(m, data, null, null);
                actual = r.meanBitsPerDim();
            }
            assertTrue(Double.isFinite(actual), e.getKey() + " evaluates to " + actual);
            assertEquals(expected, actual, TOLERANCE * Math.abs(expected),
                    e.getKey() + " on " + input + " (" + planes + " planes)");
            String quoted = String.format(Locale.ROOT, "%.4f", expected);
            assertTrue(readme.contains(quoted), "models/README.md does not quote " + e.getKey() + "'s bits/dim " + quoted);
        }
    }
}
