package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.flowfiji.flow.Architecture;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.junit.jupiter.api.Test;
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

    /** Batch normalisation: each part uses its own statistics, and only the first part updates the running ones. */
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
}
