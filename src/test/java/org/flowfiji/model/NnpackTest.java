package org.flowfiji.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Convolutions that libtorch leaves to its own kernels print at most one NNPACK line, not one per
 * call ({@link Nnpack}). The convolutions run in a child JVM, whose standard error (where libtorch
 * writes) this test reads.
 */
class NnpackTest {

    @Test
    void fallbackConvolutionsPrintAtMostOneNnpackLine() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                NnpackProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> nnpack = new ArrayList<>();
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.contains("NNPACK")) nnpack.add(line);
                if (line.startsWith("nnpack off ")) result = line;
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), "child JVM failed");
        assertTrue(result != null, "the child did not run its convolutions");
        assertTrue(nnpack.size() <= 1, nnpack.size() + " NNPACK lines for 20 convolutions (" + result + "): " + nnpack);
        // where NNPACK could not start (the line was printed), it must have been turned off
        if (!nnpack.isEmpty()) assertEquals("nnpack off true", result);
    }
}
