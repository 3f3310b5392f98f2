package org.flowfiji.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat across many likelihood maps in one JVM: 200 consecutive exact maps of a
 * 192 x 192 plane (small Glow; its first level's last convolutions large enough to run by kernel
 * rows) and resident memory may grow by less than 5 % between the 10th map and the 200th.
 *
 * <p>The maps run in a child JVM whose heap is fixed and touched up front
 * ({@code -Xms = -Xmx = 256 MB, -XX:+AlwaysPreTouch}), so the Java heap cannot grow into resident
 * memory during the run and any growth is native: tensors that outlive their NDManager scope.
 * The child also reports the number of arrays in the model's NDManager tree before and after the
 * maps, which must be equal. One engine thread keeps the run short and steady on a busy machine.
 *
 * <p>The child compiles with C1 only ({@code -XX:TieredStopAtLevel=1}): the C2 compiler's own
 * working memory, taken while hot methods are optimised during the run, raises resident memory in
 * steps of several MB that glibc keeps (measured: 2.7-5.1 % over the 200 maps with C2, 0.6 % with
 * C1 only). That is the JVM's compiler, bounded and unrelated to tensors; this test is about the
 * engine's native memory.
 */
class MapMemoryStabilityTest {

    static final int MAPS = 200;
    static final int WARMUP = 10;
    static final double MAX_GROWTH = 0.05;

    @Test
    void residentMemoryDoesNotClimbOverRepeatedMaps() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs Linux /proc");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:TieredStopAtLevel=1", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-cp", System.getProperty("java.class.path"),
                MapProbe.class.getName(), "repeat", "192", Integer.toString(MAPS)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String json = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("{")) {
                    json = line;
                }
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), "child JVM failed");
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        JsonArray rss = o.getAsJsonArray("rss_mb");
        assertEquals(MAPS, rss.size());
        assertEquals(o.get("model_arrays_before").getAsInt(), o.get("model_arrays_after").getAsInt(),
                "arrays left attached to the model's NDManager after the maps");
        double afterWarmup = rss.get(WARMUP - 1).getAsDouble();
        double last = rss.get(MAPS - 1).getAsDouble();
        double growth = last / afterWarmup - 1;
        assertTrue(growth < MAX_GROWTH, String.format(
                "resident memory grew %.1f %% from map %d (%.1f MB) to map %d (%.1f MB): native memory is leaking; series %s",
                100 * growth, WARMUP, afterWarmup, MAPS, last, rss));
    }
}
