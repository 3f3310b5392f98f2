package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalizer;
import org.flowfiji.data.PlaneSource;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowLayerContract;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OpsTest {

    @TempDir
    Path dir;

    static FlowModel model(Architecture arch, int channels) {
        FlowConfig c = FlowConfig.defaults(arch, channels).withLevels(2).withSteps(2).withHidden(8);
        return FlowModel.create(c, new Normalizer(1000, 2500), 16, 16, null, 5, Device.cpu());
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void exactMapSumsToEvalLogLikelihood(Architecture arch) {
        ImageData img = OpsTestData.blobs(2, 16, 16, 1, 3);
        try (FlowModel m = model(arch, 1)) {
            EvalResult e = Evaluator.evaluate(m, img, null, null);
            MapResult r = Mapper.map(m, null, img, MapSettings.defaults(), null, null);
            assertEquals(2, r.map().planeCount());
            assertEquals(32, r.map().bitDepth());
            for (int p = 0; p < 2; p++) {
                double ll = e.logLikelihoodNats().get(p);
                assertTrue(Double.isFinite(ll));
                assertEquals(ll, r.mapSumNats().get(p), Math.abs(ll) * 1e-4, "plane " + p);
                assertEquals(ll, r.logLikelihoodNats().get(p), Math.abs(ll) * 1e-4);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"REALNVP", "GLOW"})
    void tiledMapEqualsTheWholePlanePass(Architecture arch) {
        ImageData img = OpsTestData.blobs(1, 260, 136, 1, 4);
        // two levels: the map runs in two stages; one level: in one pass
        for (int levels = 2; levels >= 1; levels--) {
            FlowConfig c = FlowConfig.defaults(arch, 1).withLevels(levels).withSteps(2).withHidden(8);
            try (FlowModel m = FlowModel.create(c, new Normalizer(1000, 2500), 16, 16, null, 5, Device.cpu())) {
                int margin = Mapper.receptiveRadius(m.config());
                assertTrue(260 > 32 + 2 * margin, "the image must need several tiles");
                assertEquals(levels > 1, Mapper.staged(m));
                // a new flow's couplings are the identity (zero-initialised last layers): without noise
                // no map value would depend on its neighbours and too small a margin would pass
                FlowLayerContract.perturb(m.flow(), 7, 0.1);
                float[] single = singlePass(m, img);
                float[] whole = Mapper.exactPlane(m, img, 0, 1024, ProgressListener.NONE, new Cancellation());
                float[] tiled = Mapper.exactPlane(m, img, 0, 32, ProgressListener.NONE, new Cancellation());
                double maxAbs = 0;
                for (float v : single) maxAbs = Math.max(maxAbs, Math.abs(v));
                for (int i = 0; i < whole.length; i++) {
                    String at = "levels " + levels + ", pixel (" + (i % 260) + ", " + (i / 260) + ") differs between ";
                    assertEquals(single[i], whole[i], 2e-6 * maxAbs, at + "the whole-plane map and one pass of the flow");
                    assertEquals(whole[i], tiled[i], 2e-6 * maxAbs, at + "tiled and whole-plane maps");
                }
            }
        }
    }

    /** The map of plane 0 from one pass of the whole flow over the whole plane: no tiles, no stages. */
    private static float[] singlePass(FlowModel m, ImageData img) {
        int w = img.width();
        int h = img.height();
        float[] buf = new float[w * h];
        PlaneTensors.copyNormalized(PlaneSource.of(img, 0), 0, 0, h, w, m.normalizer(), m.isInteger() ? 0.5 : 0.0, buf, 0);
        float perPixel = (float) m.normalizer().logJacobianPerElement();
        try (Engines.Inference noGrad = Engines.inference(); NDManager scope = m.manager().newSubManager()) {
            NDArray x = PlaneTensors.create(scope, buf, 1, 1, h, w);
            float[] map = m.flow().forward(m.evalContext(scope, true), x).pixelMap().toFloatArray();
            for (int i = 0; i < map.length; i++) map[i] += perPixel;
            return map;
        }
    }

    @Test
    void mapKeepsSizeForSidesThatAreNotMultiples() {
        ImageData img = OpsTestData.blobs(1, 21, 19, 1, 5);
        try (FlowModel m = model(Architecture.GLOW, 1)) {
            MapResult r = Mapper.map(m, null, img, new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.BITS, 0, 0), null, null);
            assertEquals(21, r.map().width());
            assertEquals(19, r.map().height());
            double bitsSum = Mapper.sum(r.map().plane(0));
            assertEquals(r.mapSumNats().get(0) / Math.log(2), bitsSum, Math.abs(bitsSum) * 1e-4);
            EvalResult e = Evaluator.evaluate(m, img, null, null);
            assertEquals(e.logLikelihoodNats().get(0), r.logLikelihoodNats().get(0), Math.abs(r.logLikelihoodNats().get(0)) * 1e-4);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"REALNVP", "GLOW"})
    void ratioOfModelsWithOtherLevelsCoversOddSizes(Architecture arch) {
        ImageData img = OpsTestData.blobs(1, 35, 19, 1, 8);
        FlowConfig three = FlowConfig.defaults(arch, 1).withLevels(3).withSteps(1).withHidden(8);
        try (FlowModel m = model(arch, 1);
             FlowModel ref = FlowModel.create(three, new Normalizer(1000, 2500), 16, 16, null, 6, Device.cpu())) {
            for (int tile : new int[] {0, 16}) {
                MapSettings settings = new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.NATS, tile, 0);
                MapResult ratio = Mapper.map(m, ref, img, settings, null, null);
                float[] a = Mapper.map(m, null, img, settings, null, null).map().plane(0);
                float[] b = Mapper.map(ref, null, img, settings, null, null).map().plane(0);
                float[] r = ratio.map().plane(0);
                for (int i = 0; i < r.length; i++) assertEquals(a[i] - b[i], r[i], 1e-4f, "tile " + tile + ", pixel " + i);
            }
        }
    }

    @Test
    void windowAndRatioMapsAreFiniteAndRatioOfSelfIsZero() {
        ImageData img = OpsTestData.blobs(1, 32, 32, 1, 6);
        try (FlowModel m = model(Architecture.REALNVP, 1)) {
            MapResult w = Mapper.map(m, null, img, new MapSettings(MapSettings.Mode.WINDOW, MapSettings.Units.NATS, 0, 8), null, null);
            for (float v : w.map().plane(0)) assertTrue(Float.isFinite(v));
            MapResult ratio = Mapper.map(m, m, img, MapSettings.defaults(), null, null);
            for (float v : ratio.map().plane(0)) assertEquals(0f, v, 1e-5f);
            // in tiles of 16, both models' maps run in two stages
            MapResult tiled = Mapper.map(m, m, img, new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.NATS, 16, 0), null, null);
            for (float v : tiled.map().plane(0)) assertEquals(0f, v, 1e-5f);
            MapResult alone = Mapper.map(m, null, img, new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.NATS, 16, 0), null, null);
            assertTrue(Math.abs(alone.mapSumNats().get(0)) > 1, "the model's own map is not zero");
        }
    }

    @Test
    void streamedMapEqualsTheInMemoryMapAndKeepsCalibration() throws IOException {
        ImageData img = OpsTestData.blobs(3, 40, 24, 1, 12);
        ij.ImagePlus imp = org.flowfiji.data.ImagePlusBridge.toImagePlus(img, "blobs");
        Path out = dir.resolve("streamed.tif");
        try (FlowModel m = model(Architecture.GLOW, 1)) {
            MapResult mem = Mapper.map(m, null, img, new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.BITS, 16, 0), null, null);
            MapResult str = Mapper.mapToTiff(m, null, imp, new MapSettings(MapSettings.Mode.EXACT, MapSettings.Units.BITS, 16, 0),
                    out, null, null);
            assertEquals(mem.logLikelihoodNats(), str.logLikelihoodNats());
            ImageData back = org.flowfiji.data.ImageIO.read(out);
            assertEquals(3, back.planeCount());
            assertEquals(40, back.width());
            assertEquals(0.3, back.calibration().pixelWidth(), 1e-6);
            assertEquals("micron", back.calibration().unit());
            for (int p = 0; p < 3; p++) {
                float[] a = mem.map().plane(p);
                float[] b = back.plane(p);
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 0f, "plane " + p + " pixel " + i);
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void wrongChannelCountIsRefused() {
        ImageData two = OpsTestData.blobs(1, 16, 16, 2, 7);
        try (FlowModel m = model(Architecture.GLOW, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(m, two, null, null));
            assertTrue(e.getMessage().contains("channel"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void samplesHaveTheTrainingBitDepthAndAreInRange(Architecture arch) {
        try (FlowModel m = model(arch, 1)) {
            ImageData s = Sampler.sample(m, 3, 16, 32, 0.7, 1, null, null);
            assertEquals(3, s.planeCount());
            assertEquals(16, s.width());
            assertEquals(32, s.height());
            assertEquals(16, s.bitDepth());
            for (float v : s.plane(0)) {
                assertTrue(v >= 0 && v <= 65535 && v == Math.floor(v), "sample value " + v);
            }
            assertThrows(IllegalArgumentException.class, () -> Sampler.sample(m, 1, 15, 16, 1, 1, null, null));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"REALNVP", "GLOW"})
    void shortTrainingLowersValidationBitsPerDim(Architecture arch) throws IOException {
        ImageData img = OpsTestData.blobs(6, 32, 32, 1, 8);
        Path out = dir.resolve(arch + ".flow");
        TrainSettings s = TrainSettings.builder().setArchitecture(arch).setModelFile(out).optPatchSize(16)
                .optLevels(2).optSteps(2).optHidden(16).optBatchSize(8).optIterations(60).optValidationInterval(20)
                .optLearningRate(3e-3).optWarmupIterations(5).optSeed(2).build();
        TrainResult r = Trainer.train(img, s, null, null);
        assertTrue(Files.exists(out));
        assertFalse(Files.exists(Trainer.checkpointPath(out)), "the checkpoint is removed at the end");
        try (FlowModel m = FlowModel.load(out, "cpu")) {
            var h = m.summary().history();
            assertTrue(h.size() >= 2);
            double first = h.get(0).validationBitsPerDim();
            assertTrue(r.validationBitsPerDim() < first, "validation bits/dim " + first + " -> " + r.validationBitsPerDim());
            assertEquals(16, m.bitDepth());
        }
    }

    @Test
    void iafTrainsByMaximumLikelihoodAndByDistillationFromAGlowTeacher() throws IOException {
        ImageData img = OpsTestData.blobs(6, 32, 32, 1, 11);
        Path ml = dir.resolve("iaf-ml.flow");
        TrainSettings.Builder base = TrainSettings.builder().setArchitecture(Architecture.IAF).optPatchSize(16)
                .optLevels(2).optSteps(2).optHidden(16).optBatchSize(8).optIterations(40).optValidationInterval(20)
                .optLearningRate(1e-3).optWarmupIterations(10).optSeed(3);
        TrainResult r = Trainer.train(img, base.setModelFile(ml).build(), null, null);
        try (FlowModel m = FlowModel.load(ml, "cpu")) {
            double first = m.summary().history().get(0).validationBitsPerDim();
            assertTrue(r.validationBitsPerDim() < first, "IAF maximum likelihood: " + first + " -> " + r.validationBitsPerDim());
        }

        Path teacher = dir.resolve("teacher.flow");
        Trainer.train(img, TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(teacher).optPatchSize(16)
                .optLevels(2).optSteps(2).optHidden(16).optBatchSize(8).optIterations(40).optLearningRate(3e-3)
                .optWarmupIterations(5).optSeed(4).build(), null, null);
        Path student = dir.resolve("iaf-student.flow");
        List<String> messages = new java.util.ArrayList<>();
        TrainingListener collect = new TrainingListener() {
            @Override
            public void onIteration(TrainingStatus status) {}

            @Override
            public void onMessage(String message) {
                messages.add(message);
            }
        };
        TrainResult d = Trainer.train(img, base.setModelFile(student).optTeacher(teacher).build(), collect, null);
        assertTrue(Files.exists(student));
        assertTrue(Double.isFinite(d.validationBitsPerDim()) || messages.stream().anyMatch(m -> m.startsWith("Validation: ")),
                "a distilled student's density on held-out data is finite, or its failure is reported: " + messages);
        try (FlowModel m = FlowModel.load(student, "cpu")) {
            var h = m.summary().history();
            assertTrue(h.get(h.size() - 1).trainBitsPerDim() < h.get(0).trainBitsPerDim(),
                    "distillation loss falls: " + h.get(0).trainBitsPerDim() + " -> " + h.get(h.size() - 1).trainBitsPerDim());
            ImageData s = Sampler.sample(m, 2, 16, 16, 1.0, 1, null, null);
            for (float v : s.plane(0)) assertTrue(Float.isFinite(v));
        }
    }

    /** One engine thread, one part: two short runs of the same seed give the same parameters, bit for bit. */
    @Test
    void sameSeedTrainsTheSameModelOnOneThread() throws IOException {
        List<Path> runs = seededRuns(1, 9, 9);
        assertTrue(java.util.Arrays.equals(parameterBytes(runs.get(0)), parameterBytes(runs.get(1))),
                "two runs with the same seed trained different parameters");
    }

    /**
     * Two engine threads, batches split in two parts (see BatchPasses): two runs of the same seed
     * give the same parameters up to what Adam's steps can make of rounding differences (the
     * parts' backward passes can round differently when other work competes for the cores; each
     * step moves a parameter by at most lr (1 - β1) / sqrt(1 - β2)), while another seed gives
     * other parameters.
     */
    @Test
    void sameSeedTrainsTheSameModelInTwoParts() throws IOException {
        List<Path> runs = seededRuns(2, 9, 9, 10);
        double bound = 2 * SEEDED_ITERATIONS * 1e-3 * (1 - 0.9) / Math.sqrt(1 - 0.999);
        double same = maxDifference(parameterValues(runs.get(0)), parameterValues(runs.get(1)));
        assertTrue(same <= bound, "two runs with the same seed differ by " + same + " (at most " + bound + ")");
        double seeds = maxDifference(parameterValues(runs.get(0)), parameterValues(runs.get(2)));
        assertTrue(seeds > 10 * bound, "another seed trained parameters within " + seeds + " of seed 9's");
    }

    private static final int SEEDED_ITERATIONS = 8;

    /** The model files of short runs of a small Glow with {@code threads} engine threads, one per seed. */
    private List<Path> seededRuns(int threads, long... seeds) throws IOException {
        ImageData img = OpsTestData.blobs(4, 32, 32, 1, 6);
        List<Path> models = new java.util.ArrayList<>();
        int threadsBefore = org.flowfiji.model.Engines.threads();
        org.flowfiji.model.Engines.setThreads(threads);
        try (BatchPasses probe = BatchPasses.forBatch(Device.cpu(), 6, false)) {
            assertEquals(threads, probe.parts(), "the runs below split their batches in one part per thread");
            for (long seed : seeds) {
                Path out = dir.resolve("seeded" + threads + "-" + models.size() + ".flow");
                Trainer.train(img, TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(out).optPatchSize(16)
                        .optLevels(2).optSteps(2).optHidden(8).optBatchSize(6).optIterations(SEEDED_ITERATIONS)
                        .optValidationInterval(4).optSeed(seed).build(), null, null);
                models.add(out);
            }
        } finally {
            org.flowfiji.model.Engines.setThreads(threadsBefore);
        }
        return models;
    }

    private static byte[] parameterBytes(Path model) throws IOException {
        try (FlowModel m = FlowModel.load(model, "cpu")) {
            return m.parameterBytes();
        }
    }

    /** Every parameter value of a model, in parameter order. */
    private static float[] parameterValues(Path model) throws IOException {
        try (FlowModel m = FlowModel.load(model, "cpu")) {
            List<float[]> arrays = new java.util.ArrayList<>();
            m.flow().getParameters().forEach(p -> arrays.add(p.getValue().getArray().toFloatArray()));
            float[] all = new float[arrays.stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (float[] a : arrays) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return all;
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        assertEquals(a.length, b.length, "parameter counts");
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        return worst;
    }

    @Test
    void trainingContinuesFromASavedModel() throws IOException {
        ImageData img = OpsTestData.blobs(4, 32, 32, 1, 13);
        Path first = dir.resolve("first.flow");
        TrainSettings.Builder b = TrainSettings.builder().setArchitecture(Architecture.GLOW).optPatchSize(16).optLevels(2)
                .optSteps(2).optHidden(8).optBatchSize(4).optIterations(10).optValidationInterval(5).optSeed(5);
        Trainer.train(img, b.setModelFile(first).build(), null, null);
        Path second = dir.resolve("second.flow");
        TrainResult r = Trainer.train(img, b.setModelFile(second).optContinueFrom(first).build(), null, null);
        assertEquals(10, r.iterations());
        try (FlowModel a = FlowModel.load(first, "cpu"); FlowModel c = FlowModel.load(second, "cpu")) {
            assertEquals(a.normalizer(), c.normalizer(), "a continued model keeps its normaliser");
            assertFalse(java.util.Arrays.equals(a.parameterBytes(), c.parameterBytes()), "training changed the parameters");
        }
    }

    @Test
    void patchLargerThanTheImageIsRefusedAndWritesNothing() {
        ImageData img = OpsTestData.blobs(2, 16, 16, 1, 9);
        Path out = dir.resolve("big.flow");
        TrainSettings s = TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(out).optPatchSize(32)
                .optIterations(5).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.train(img, s, null, null));
        assertTrue(e.getMessage().contains("32"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void cancelLeavesNoModel() {
        ImageData img = OpsTestData.blobs(4, 32, 32, 1, 10);
        Path out = dir.resolve("cancelled.flow");
        TrainSettings s = TrainSettings.builder().setArchitecture(Architecture.REALNVP).setModelFile(out).optPatchSize(16)
                .optLevels(2).optSteps(1).optHidden(8).optBatchSize(4).optIterations(100000).build();
        Cancellation c = new Cancellation();
        TrainingListener stopAt5 = st -> {
            if (st.iteration() == 5) c.cancel();
        };
        assertThrows(Cancellation.CancelledException.class, () -> Trainer.train(img, s, stopAt5, c));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(Trainer.checkpointPath(out)));
    }

    @Test
    void finishKeepsTheModelAndReportsTheLastValidation() throws IOException {
        ImageData img = OpsTestData.blobs(4, 32, 32, 1, 10);
        Path out = dir.resolve("finished.flow");
        TrainSettings s = TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(out).optPatchSize(16)
                .optLevels(2).optSteps(1).optHidden(8).optBatchSize(4).optIterations(100000).optValidationInterval(1000)
                .build();
        Cancellation c = new Cancellation();
        java.util.List<Long> validated = new java.util.ArrayList<>();
        TrainingListener finishAt7 = new TrainingListener() {
            @Override
            public void onIteration(TrainingStatus st) {
                if (st.iteration() == 7) c.finish();
            }

            @Override
            public void onValidation(TrainingStatus st) {
                validated.add(st.iteration());
            }
        };
        TrainResult r = Trainer.train(img, s, finishAt7, c);
        assertTrue(r.stoppedEarly());
        assertEquals(7, r.iterations());
        assertTrue(Files.exists(out));
        assertEquals(java.util.List.of(7L), validated, "the validation after Finish reaches the listener (the loss plot)");
    }
}
