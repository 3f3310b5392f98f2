package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import org.flowfiji.flow.Architecture;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatchPassesTest {

    private static final int PATCH = 16;

    private static float[] batch(int b, long seed) {
        Random r = new Random(seed);
        float[] v = new float[b * PATCH * PATCH];
        for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 * r.nextGaussian());
        return v;
    }

    /** A model initialised from the data of {@code init}, its parameters recording gradients. */
    private static FlowModel model(Architecture arch, float[] init, int b) {
        FlowModel m = OpsTest.model(arch, 1);
        Trainer.initializeFromData(m, init, b, PATCH);
        Trainer.attachGradients(Trainer.trainable(m));
        return m;
    }

    private static List<float[]> gradients(FlowModel m) {
        List<float[]> g = new ArrayList<>();
        for (Parameter p : Trainer.trainable(m)) g.add(p.getArray().getGradient().toFloatArray());
        return g;
    }

    private static double run(FlowModel m, int parts, float[] data, int b) {
        try (BatchPasses passes = new BatchPasses(parts)) {
            return passes.run(m.manager(), b, Trainer.negativeLogLikelihood(m, data, b, PATCH));
        }
    }

    /** Flows without batch statistics: the parts' summed gradients are the whole batch's gradient. */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"GLOW", "IAF"})
    void splitBatchGivesTheWholeBatchLossAndGradient(Architecture arch) {
        int b = 5;
        float[] data = batch(b, 3);
        try (FlowModel whole = model(arch, data, b); FlowModel split = model(arch, data, b)) {
            double wholeLoss = run(whole, 1, data, b);
            double splitLoss = run(split, 3, data, b);
            assertEquals(wholeLoss, splitLoss, 1e-5 * Math.abs(wholeLoss));
            List<float[]> gw = gradients(whole);
            List<float[]> gs = gradients(split);
            assertEquals(gw.size(), gs.size());
            double maxAbs = 0;
            double maxErr = 0;
            for (int i = 0; i < gw.size(); i++) {
                for (int j = 0; j < gw.get(i).length; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(gw.get(i)[j]));
                    maxErr = Math.max(maxErr, Math.abs(gw.get(i)[j] - gs.get(i)[j]));
                }
            }
            assertTrue(maxAbs > 0, "the gradients are not all zero");
            assertTrue(maxErr <= 1e-4 * maxAbs, "largest gradient difference " + maxErr + " of " + maxAbs);
        }
    }

    /**
     * The kept workers: one per engine thread, the same ones on every call, each with one engine
     * thread; once they are made, the caller and threads that start using the engine afterwards
     * still get the engine's thread count (Fiji runs every command on a new thread). One item, a
     * GPU, or a call from a worker gets one part on the calling thread.
     */
    @Test
    void keptWorkersTakeOneEngineThreadEachAndLeaveTheCountToOthers() throws Exception {
        int before = Engines.threads();
        // three threads: a count no other test uses, so that the workers are made here
        Engines.setThreads(3);
        try {
            BatchPasses workers = BatchPasses.lasting(Device.cpu(), 5);
            assertEquals(3, workers.parts());
            assertSame(workers, BatchPasses.lasting(Device.cpu(), 3), "the same workers");
            assertEquals(List.of(1, 1, 1), workers.onEachThread(k -> Engines.threads()));
            assertEquals(List.of(1, 1, 1), workers.onEachThread(k -> BatchPasses.lasting(Device.cpu(), 5).parts()),
                    "work started on a worker stays on it");
            assertEquals(1, BatchPasses.lasting(Device.cpu(), 1).parts(), "one item");
            assertEquals(1, BatchPasses.lasting(Device.gpu(), 5).parts(), "a GPU");
            assertEquals(3, Engines.threads(), "the caller's threads");
            int[] fresh = new int[1];
            Thread t = new Thread(() -> fresh[0] = Engines.threads());
            t.start();
            t.join();
            assertEquals(3, fresh[0], "a thread that starts using the engine afterwards");
        } finally {
            Engines.setThreads(before);
        }
    }

    /** Batch normalisation: each part uses its own statistics, and only the first part updates the running ones. */
    @Test
    void onlyTheFirstPartUpdatesRunningStatistics() {
        int b = 4;
        float[] data = batch(b, 4);
        float[] firstHalf = java.util.Arrays.copyOf(data, 2 * PATCH * PATCH);
        try (FlowModel split = model(Architecture.REALNVP, data, b); FlowModel first = model(Architecture.REALNVP, data, b)) {
            List<float[]> before = running(split);
            run(split, 2, data, b);
            run(first, 1, firstHalf, 2);
            List<float[]> afterSplit = running(split);
            List<float[]> afterFirst = running(first);
            assertTrue(!before.isEmpty());
            boolean changed = false;
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(afterFirst.get(i), afterSplit.get(i), 1e-6f);
                for (int j = 0; j < before.get(i).length; j++) changed |= before.get(i)[j] != afterSplit.get(i)[j];
            }
            assertTrue(changed, "the running statistics were updated");
        }
    }

    private static List<float[]> running(FlowModel m) {
        List<float[]> r = new ArrayList<>();
        for (Pair<String, Parameter> p : m.flow().getParameters()) {
            if (p.getKey().contains("running")) r.add(p.getValue().getArray().toFloatArray());
        }
        return r;
    }

    /**
     * A part that waits (up to 2 s) until every part has started and says whether they all did:
     * parts running at the same time all get there at once; parts run in turn cannot, and the
     * first part gives up.
     */
    private static IntFunction<Boolean> meeting(CountDownLatch started) {
        return k -> {
            started.countDown();
            try {
                return started.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    /** The first batch's parts run one after the other, the next batches' at the same time. */
    @Test
    void firstBatchRunsItsPartsInTurnAndLaterBatchesTogether() {
        List<Boolean> met = new ArrayList<>();
        try (BatchPasses passes = new BatchPasses(2); NDManager root = Engines.pytorch().newBaseManager()) {
            for (int batch = 0; batch < 3; batch++) {
                CountDownLatch started = new CountDownLatch(2);
                AtomicBoolean all = new AtomicBoolean(true);
                IntFunction<Boolean> meet = meeting(started);
                passes.run(root, 2, (ctx, offset, count) -> {
                    if (!meet.apply(offset)) all.set(false);
                    NDArray x = ctx.manager().ones(new Shape(1));
                    x.setRequiresGradient(true);
                    return x.sum();
                });
                met.add(all.get());
            }
        }
        assertEquals(List.of(false, true, true), met, "parts met at batches 1, 2, 3");
    }

    /** Kept workers run the first round of each owner's shapes in turn, later rounds together. */
    @Test
    void keptWorkersRunNewShapesInTurn() {
        int before = Engines.threads();
        Engines.setThreads(2);
        try {
            BatchPasses workers = BatchPasses.lasting(Device.cpu(), 2);
            assertEquals(2, workers.parts());
            Object owner = new Object();
            Object other = new Object();
            List<Boolean> met = new ArrayList<>();
            for (Object[] call : new Object[][] {{owner, "a"}, {owner, "a"}, {owner, "b"}, {other, "a"}, {owner, "b"}}) {
                CountDownLatch started = new CountDownLatch(2);
                met.add(!workers.onEachThread(call[0], call[1], meeting(started)).contains(false));
            }
            assertEquals(List.of(false, true, false, false, true), met,
                    "parts met: first shapes, the same again, new shapes, another owner, the new shapes again");
        } finally {
            Engines.setThreads(before);
        }
    }

    /**
     * Convolutions of fresh shapes through two-part passes, in a child JVM (a crash there fails
     * this test instead of ending the test run): with the two parts creating each convolution at
     * the same moment, libtorch 2.7.1's oneDNN crashed the child within 2 s on this project's
     * 2-vCPU AMD EPYC machine; with the first batch in turn it ran 90 s (about 10,000 shapes)
     * three times without one.
     */
    @Test
    void freshConvolutionShapesThroughTwoPartPassesRunWithoutCrashing(@TempDir Path dir) throws Exception {
        Path errorFile = dir.resolve("hs_err.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-XX:ErrorFile=" + errorFile,
                "-cp", System.getProperty("java.class.path"), ConvolutionCreationProbe.class.getName(), "8");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.contains("NNPACK")) out.append(line).append('\n');
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        if (p.exitValue() != 0 && Files.exists(errorFile)) {
            // the crash report's first lines name the signal and the native frame
            Files.readAllLines(errorFile).stream().limit(12).forEach(l -> out.append(l).append('\n'));
        }
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("shapes (\\d+)").matcher(out);
        assertTrue(m.find() && Integer.parseInt(m.group(1)) > 50, "the child ran few or no shapes:\n" + out);
    }
}
