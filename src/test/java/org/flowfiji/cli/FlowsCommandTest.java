package org.flowfiji.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Sampler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives the {@code flows} command line end to end on a small 16-bit stack. */
class FlowsCommandTest {

    @TempDir
    Path dir;

    Path stack;

    @BeforeEach
    void writeStack() throws Exception {
        Random r = new Random(1);
        List<float[]> planes = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            float[] v = new float[32 * 32];
            for (int i = 0; i < v.length; i++) {
                int x = i % 32;
                int y = i / 32;
                v[i] = (float) Math.round(800 + 600 * Math.sin(x * 0.3 + p) * Math.cos(y * 0.25) + r.nextGaussian() * 20);
            }
            planes.add(v);
        }
        stack = dir.resolve("stack.tif");
        ImageIO.writeTiff(new ImageData("stack", 32, 32, 1, 16, planes, null), stack);
    }

    record Run(int code, String out, String err) {
        JsonObject json() {
            String[] lines = out.strip().split("\n");
            return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        }
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            var cl = FlowsCommand.commandLine();
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void trainEvalSampleMapInfoWithJson() throws Exception {
        Path model = dir.resolve("m.flow");
        Run t = run("train", "--input", stack.toString(), "--arch", "glow", "--out", model.toString(), "--patch", "16",
                "--levels", "2", "--steps", "2", "--hidden", "8", "--batch", "4", "--iterations", "10", "--quiet", "--json");
        assertEquals(0, t.code(), t.err());
        JsonObject tj = t.json();
        assertEquals("Glow", tj.get("arch").getAsString());
        assertEquals(10, tj.get("iterations").getAsInt());
        assertTrue(tj.get("patches_per_second").getAsDouble() > 0);

        Run e = run("eval", "--model", model.toString(), "--input", stack.toString(), "--quiet", "--json");
        assertEquals(0, e.code(), e.err());
        JsonObject ej = e.json();
        assertEquals(4, ej.get("images").getAsInt());

        Path mapOut = dir.resolve("map.tif");
        Run m = run("map", "--model", model.toString(), "--input", stack.toString(), "--out", mapOut.toString(), "--quiet", "--json");
        assertEquals(0, m.code(), m.err());
        JsonObject mj = m.json();
        for (int i = 0; i < 4; i++) {
            double ll = ej.getAsJsonArray("log_likelihood_nats").get(i).getAsDouble();
            double sum = mj.getAsJsonArray("map_sum_nats").get(i).getAsDouble();
            assertEquals(ll, sum, Math.abs(ll) * 1e-4, "map sum equals eval log-likelihood, plane " + i);
        }
        ImageData map = ImageIO.read(mapOut);
        assertEquals(32, map.bitDepth());
        assertEquals(4, map.planeCount());

        Path samples = dir.resolve("s.tif");
        Run s = run("sample", "--model", model.toString(), "--count", "3", "--width", "32", "--height", "16",
                "--out", samples.toString(), "--quiet", "--json");
        assertEquals(0, s.code(), s.err());
        ImageData si = ImageIO.read(samples);
        assertEquals(3, si.planeCount());
        assertEquals(32, si.width());
        assertEquals(16, si.height());
        assertEquals(16, si.bitDepth());
        // the file, written as the images are made, holds the images the sampler makes
        try (FlowModel loaded = FlowModel.load(model, "cpu")) {
            ImageData expected = Sampler.sample(loaded, 3, 32, 16, 1.0, 1, null, null);
            for (int p = 0; p < 3; p++) {
                assertArrayEquals(expected.plane(p), si.plane(p), 1.0f, "sample " + p);
            }
        }
        Path odd = dir.resolve("odd.tif");
        Run bad = run("sample", "--model", model.toString(), "--width", "30", "--out", odd.toString(), "--quiet");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("multiple of 2^levels"), bad.err());
        assertFalse(Files.exists(odd), "a failed sample left a file");

        Run i = run("info", "--model", model.toString(), "--json");
        assertEquals(0, i.code(), i.err());
        assertEquals("Glow", i.json().getAsJsonObject("architecture").get("name").getAsString());
    }

    @Test
    void badInputsGiveOneLineMessagesExitTwoAndNoOutput() throws Exception {
        Path model = dir.resolve("x.flow");
        Run big = run("train", "--input", stack.toString(), "--out", model.toString(), "--patch", "64", "--iterations", "3", "--quiet");
        assertEquals(2, big.code());
        assertTrue(big.err().contains("64"), big.err());
        assertFalse(big.err().contains("\tat "), "no stack trace without --debug");
        assertFalse(Files.exists(model));

        Path broken = dir.resolve("broken.tif");
        Files.write(broken, new byte[] {'I', 'I', 42, 0, 1, 2, 3});
        Run tif = run("train", "--input", broken.toString(), "--out", model.toString(), "--iterations", "3", "--quiet");
        assertEquals(2, tif.code());
        assertTrue(tif.err().contains("broken.tif"), tif.err());
        assertFalse(Files.exists(model));

        Path corrupt = dir.resolve("corrupt.flow");
        Files.write(corrupt, new byte[] {'P', 'K', 3, 4, 0, 0});
        Path out = dir.resolve("s.tif");
        Run c = run("sample", "--model", corrupt.toString(), "--out", out.toString(), "--quiet");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("corrupt.flow"), c.err());
        assertFalse(Files.exists(out));

        Run usage = run("sample", "--count", "3");
        assertEquals(2, usage.code());
    }

    @Test
    void benchArithmeticReportsBothParallelArchitecturesAgainstTheMeasuredMatmul() {
        Run r = run("bench", "--quick", "--only", "arithmetic", "--threads", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject a = r.json().getAsJsonObject("arithmetic");
        double matmul = a.get("matmul_gflops").getAsDouble();
        assertTrue(matmul > 0, "matmul rate measured");
        for (String arch : new String[] {"glow", "realnvp"}) {
            JsonObject o = a.getAsJsonObject(arch);
            assertNotNull(o, arch + " measured");
            double achieved = o.get("achieved_gflops").getAsDouble();
            assertTrue(achieved > 0 && Double.isFinite(achieved), arch + " achieved " + achieved);
            double alongside = o.get("matmul_gflops_alongside").getAsDouble();
            assertTrue(alongside > 0 && Double.isFinite(alongside), arch + ": products between its passes " + alongside);
            assertEquals(achieved / alongside, o.get("fraction_of_matmul").getAsDouble(), 1e-9);
            assertEquals(achieved / matmul, o.get("fraction_of_matmul_measured_first").getAsDouble(), 1e-9);
            assertTrue(o.get("multiply_adds_per_pixel").getAsDouble() > 1000, arch + " counts its convolutions");
        }
    }

    @Test
    void benchTrainingRunsTheUntimedRunBeforeTheTimedOne() {
        Run r = run("bench", "--quick", "--only", "train", "--threads", "1", "--train-seconds", "1",
                "--train-warmup", "0.5", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject train = r.json().getAsJsonObject("train");
        for (String scenario : new String[] {"realnvp", "glow", "iaf", "glow_large"}) {
            JsonObject o = train.getAsJsonObject(scenario);
            assertNotNull(o, scenario + " measured");
            assertFalse(o.has("error"), scenario + ": " + o);
            assertTrue(o.get("warmup_run_iterations").getAsLong() >= 1, scenario + ": the untimed run trained " + o);
            assertTrue(o.get("warmup_run_seconds").getAsDouble() >= 0.5, scenario + ": the untimed run's budget " + o);
            assertTrue(o.get("warmup_run_patches_per_second").getAsDouble() > 0, scenario + " " + o);
            assertTrue(o.get("iterations").getAsLong() >= 1, scenario + ": the timed run trained " + o);
            assertTrue(o.get("patches_per_second").getAsDouble() > 0, scenario + " " + o);
        }

        Run none = run("bench", "--quick", "--only", "train", "--threads", "1", "--train-seconds", "0.5",
                "--train-warmup", "0", "--json");
        assertEquals(0, none.code(), none.err());
        JsonObject glow = none.json().getAsJsonObject("train").getAsJsonObject("glow");
        assertEquals(0, glow.get("warmup_run_iterations").getAsLong(), "no untimed run with --train-warmup 0: " + glow);

        Run negative = run("bench", "--only", "train", "--train-warmup", "-2");
        assertEquals(2, negative.code());
        assertTrue(negative.err().contains("--train-warmup"), negative.err());
    }
}
