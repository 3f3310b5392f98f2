package org.flowfiji.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.flowfiji.data.AtomicFiles;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;

/**
 * The {@code .flow} file: a zip holding {@code flow.json} (format version, architecture and
 * sizes, normaliser, input spec, training summary, SHA-256 of the parameters) and
 * {@code parameters.djl} (DJL's parameter stream). Written atomically; validated on load.
 */
public final class ModelFile {
    private ModelFile() {}

    /**
     * The format this code writes; files with a newer format are refused. 2: convolution kernels
     * stored channels-last (the parameter stream's convolution layers at version 2); version 1
     * files are read too.
     */
    public static final int FORMAT_VERSION = 2;
    static final String JSON_ENTRY = "flow.json";
    static final String PARAMS_ENTRY = "parameters.djl";
    /** Version of this toolkit, from the jar manifest when packaged. */
    public static final String SOFTWARE_VERSION = versionOrDev();

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    static void write(FlowModel model, Path file) throws IOException {
        byte[] params = model.parameterBytes();
        JsonObject json = toJson(model, sha256(params));
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".part");
        try {
            try (OutputStream os = Files.newOutputStream(tmp); ZipOutputStream zip = new ZipOutputStream(os)) {
                zip.putNextEntry(new ZipEntry(JSON_ENTRY));
                zip.write(GSON.toJson(json).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
                zip.putNextEntry(new ZipEntry(PARAMS_ENTRY));
                zip.write(params);
                zip.closeEntry();
            }
            AtomicFiles.moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads only {@code flow.json} (for {@code flows info}), validated. */
    public static JsonObject readJson(Path file) throws IOException {
        return readEntries(file).json;
    }

    static FlowModel read(Path file, Device device) throws IOException {
        Entries e = readEntries(file);
        if (e.params == null) throw new ModelFileException(file, "it has no " + PARAMS_ENTRY + " entry (truncated or not a model file)");
        String expected = str(e.json, "parameters_sha256", file);
        if (!expected.equals(sha256(e.params))) {
            throw new ModelFileException(file, "the parameters are damaged (checksum mismatch). Copy the file again or retrain.");
        }
        try {
            JsonObject a = e.json.getAsJsonObject("architecture");
            FlowConfig config = new FlowConfig(Architecture.parse(a.get("name").getAsString()),
                    a.get("channels").getAsInt(), a.get("levels").getAsInt(), a.get("steps").getAsInt(),
                    a.get("hidden").getAsInt(), a.get("blocks").getAsInt(), a.get("additive_coupling").getAsBoolean(),
                    a.get("learned_prior").getAsBoolean(), a.get("actnorm").getAsBoolean());
            JsonObject n = e.json.getAsJsonObject("normalizer");
            Normalizer normalizer = new Normalizer(n.get("offset").getAsDouble(), n.get("scale").getAsDouble());
            JsonObject in = e.json.getAsJsonObject("input");
            int patch = in.get("patch_size").getAsInt();
            int bits = in.get("bit_depth").getAsInt();
            if (in.get("channels").getAsInt() != config.channels()) {
                throw new ModelFileException(file, "input channels and architecture channels disagree");
            }
            JsonObject c = in.getAsJsonObject("calibration");
            ImageData.Calibration cal = c == null ? ImageData.Calibration.NONE
                    : new ImageData.Calibration(c.get("pixel_width").getAsDouble(), c.get("pixel_height").getAsDouble(),
                    c.get("pixel_depth").getAsDouble(), c.get("unit").getAsString());
            TrainingSummary summary = e.json.has("training") ? summaryFromJson(e.json.getAsJsonObject("training")) : null;
            return FlowModel.assemble(config, normalizer, patch, bits, cal, summary, device, e.params, file);
        } catch (NullPointerException | IllegalStateException | ClassCastException | UnsupportedOperationException
                 | IllegalArgumentException ex) {
            throw new ModelFileException(file, "flow.json is incomplete or invalid (" + ex.getMessage() + ")", ex);
        }
    }

    private record Entries(JsonObject json, byte[] params) {}

    private static Entries readEntries(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelFileException(file, "no such file. Check the path (models end in .flow).");
        }
        JsonObject json = null;
        byte[] params = null;
        try (InputStream is = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(is)) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                if (entry.getName().equals(JSON_ENTRY)) {
                    String text = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
                    JsonElement el = JsonParser.parseString(text);
                    if (!el.isJsonObject()) throw new ModelFileException(file, "flow.json is not a JSON object");
                    json = el.getAsJsonObject();
                } else if (entry.getName().equals(PARAMS_ENTRY)) {
                    params = readFully(zip);
                }
            }
        } catch (ZipException | java.io.EOFException e) {
            throw new ModelFileException(file, "not a readable model file (damaged or truncated zip: " + e.getMessage() + ")", e);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "no such file");
        } catch (JsonParseException e) {
            throw new ModelFileException(file, "flow.json is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (json == null) throw new ModelFileException(file, "it has no flow.json entry: not a model file, or truncated");
        if (!json.has("format_version")) throw new ModelFileException(file, "flow.json has no format_version");
        int v = json.get("format_version").getAsInt();
        if (v > FORMAT_VERSION) {
            throw new ModelFileException(file, "format version " + v + " is newer than this software reads ("
                    + FORMAT_VERSION + "): update the Normalizing Flows plugin");
        }
        return new Entries(json, params);
    }

    private static byte[] readFully(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    private static String str(JsonObject o, String key, Path file) throws ModelFileException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive()) throw new ModelFileException(file, "flow.json has no " + key);
        return e.getAsString();
    }

    static JsonObject toJson(FlowModel m, String sha) {
        JsonObject o = new JsonObject();
        o.addProperty("format", "normalizing-flows-for-fiji");
        o.addProperty("format_version", FORMAT_VERSION);
        FlowConfig c = m.config();
        JsonObject a = new JsonObject();
        a.addProperty("name", c.architecture().label());
        a.addProperty("channels", c.channels());
        a.addProperty("levels", c.levels());
        a.addProperty("steps", c.steps());
        a.addProperty("hidden", c.hidden());
        a.addProperty("blocks", c.blocks());
        a.addProperty("additive_coupling", c.additiveCoupling());
        a.addProperty("learned_prior", c.learnedPrior());
        a.addProperty("actnorm", c.actNorm());
        o.add("architecture", a);
        JsonObject n = new JsonObject();
        n.addProperty("offset", m.normalizer().offset());
        n.addProperty("scale", m.normalizer().scale());
        n.addProperty("formula", "x = (v + u - offset) / scale");
        o.add("normalizer", n);
        JsonObject in = new JsonObject();
        in.addProperty("channels", m.channels());
        in.addProperty("bit_depth", m.bitDepth());
        in.addProperty("patch_size", m.patchSize());
        in.addProperty("size_multiple", c.sizeMultiple());
        JsonObject cal = new JsonObject();
        cal.addProperty("pixel_width", m.calibration().pixelWidth());
        cal.addProperty("pixel_height", m.calibration().pixelHeight());
        cal.addProperty("pixel_depth", m.calibration().pixelDepth());
        cal.addProperty("unit", m.calibration().unit());
        in.add("calibration", cal);
        o.add("input", in);
        if (m.summary() != null) o.add("training", summaryToJson(m.summary()));
        o.addProperty("parameters_sha256", sha);
        return o;
    }

    private static JsonObject summaryToJson(TrainingSummary s) {
        JsonObject t = new JsonObject();
        JsonArray data = new JsonArray();
        s.data().forEach(data::add);
        t.add("data", data);
        t.addProperty("iterations", s.iterations());
        t.addProperty("seconds", s.seconds());
        t.addProperty("train_bits_per_dim", s.trainBitsPerDim());
        t.addProperty("best_validation_bits_per_dim", s.validationBitsPerDim());
        t.addProperty("seed", s.seed());
        t.addProperty("batch_size", s.batchSize());
        t.addProperty("learning_rate", s.learningRate());
        JsonObject sw = new JsonObject();
        s.software().forEach(sw::addProperty);
        t.add("software", sw);
        t.addProperty("date", s.date());
        JsonArray h = new JsonArray();
        for (TrainingSummary.HistoryPoint p : s.history()) {
            JsonArray row = new JsonArray();
            row.add(p.iteration());
            row.add(p.seconds());
            row.add(p.trainBitsPerDim());
            row.add(p.validationBitsPerDim());
            h.add(row);
        }
        t.add("history_columns", GSON.toJsonTree(List.of("iteration", "seconds", "train_bits_per_dim", "validation_bits_per_dim")));
        t.add("history", h);
        return t;
    }

    private static TrainingSummary summaryFromJson(JsonObject t) {
        List<String> data = new ArrayList<>();
        t.getAsJsonArray("data").forEach(e -> data.add(e.getAsString()));
        Map<String, String> sw = new LinkedHashMap<>();
        t.getAsJsonObject("software").entrySet().forEach(e -> sw.put(e.getKey(), e.getValue().getAsString()));
        List<TrainingSummary.HistoryPoint> history = new ArrayList<>();
        for (JsonElement e : t.getAsJsonArray("history")) {
            JsonArray r = e.getAsJsonArray();
            history.add(new TrainingSummary.HistoryPoint(r.get(0).getAsLong(), r.get(1).getAsDouble(),
                    r.get(2).getAsDouble(), r.get(3).getAsDouble()));
        }
        return new TrainingSummary(data, t.get("iterations").getAsLong(), t.get("seconds").getAsDouble(),
                t.get("train_bits_per_dim").getAsDouble(), t.get("best_validation_bits_per_dim").getAsDouble(),
                t.get("seed").getAsLong(), t.get("batch_size").getAsInt(), t.get("learning_rate").getAsDouble(), sw,
                t.get("date").getAsString(), history);
    }

    /** Versions recorded in a model's training summary. */
    public static Map<String, String> softwareVersions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("normalizing-flows", SOFTWARE_VERSION);
        m.put("djl", Engine.getDjlVersion());
        m.put("pytorch", Engines.pytorch().getVersion());
        m.put("java", System.getProperty("java.version"));
        return m;
    }

    /** Now, as written into model files. */
    public static String now() {
        return OffsetDateTime.now().withNano(0).toString();
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String versionOrDev() {
        String v = ModelFile.class.getPackage() == null ? null : ModelFile.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0" : v;
    }
}
