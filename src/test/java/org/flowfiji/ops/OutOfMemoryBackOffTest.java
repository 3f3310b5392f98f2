package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.util.Pair;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
import org.flowfiji.data.Normalizer;
import org.flowfiji.data.PlaneSource;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.flow.FlowLayerContract;
import org.flowfiji.flow.FlowOutput;
import org.flowfiji.flow.GaussianPrior;
import org.flowfiji.flow.ImageFlow;
import org.flowfiji.flow.MultiScaleFlow;
import org.flowfiji.flow.Sample;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.flowfiji.model.TrainingSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The back-off of maps and samples when the engine runs out of memory. Maps: the tile batch is
 * halved, then the tile size, the two-stage state is dropped, and the band is run again. Samples:
 * the batch of images, then the tile, is halved, and the images come out the same. The flows here fail every
 * pass over an input larger than a limit by asking the engine for an array no machine can hold, so
 * the error is the engine's own; the maps must come out as the whole-plane pass of the same flow
 * computes them, and the passes the flow saw show what was halved when.
 */
class OutOfMemoryBackOffTest {

    /** The tile side the maps start with. */
    private static final int TILE = 32;
    /** Passes after which a flow stops the test: a back-off that never gives up would loop. */
    private static final int MAX_PASSES = 2000;

    /** A plane several tiles across and several bands down, its sides not multiples of 4. */
    private static final ImageData PLANE = OpsTestData.blobs(1, 118, 84, 1, 11);
    /** A plane one full tile and a part across: every run of tiles holds one tile. */
    private static final ImageData NARROW = OpsTestData.blobs(1, 38, 98, 1, 12);

    /** How a failing pass fails. */
    enum Failure {
        /** Asks the engine for 2^62 bytes: its allocator's own out-of-memory error. */
        OUT_OF_MEMORY,
        /** An impossible reshape: an engine error that has nothing to do with memory. */
        OTHER
    }

    /** One pass a flow saw: the first level it ran, its input's shape, and whether it failed. */
    record Pass(int from, Shape shape, boolean failed) {
        long batch() {
            return shape.get(0);
        }

        long width() {
            return shape.get(3);
        }
    }

    /**
     * A flow sharing the layers and priors (and so the parameters) of another, whose passes fail
     * when their input holds more elements than a limit: {@code firstLimit} for passes from level
     * 0 (the whole flow or the first stage), {@code restLimit} for the second stage.
     */
    static final class FailingFlow extends MultiScaleFlow {
        private final long firstLimit;
        private final long restLimit;
        private final Failure failure;
        // samples with several engine threads make batches on two threads at once
        final List<Pass> passes = Collections.synchronizedList(new ArrayList<>());

        FailingFlow(MultiScaleFlow base, long firstLimit, long restLimit, Failure failure) {
            super(base.config(), base.levels(), splitPriors(base), priors(base).get(priors(base).size() - 1));
            this.firstLimit = firstLimit;
            this.restLimit = restLimit;
            this.failure = failure;
        }

        /** The priors among a flow's children, in order: the split priors, then the top prior. */
        private static List<GaussianPrior> priors(MultiScaleFlow flow) {
            List<GaussianPrior> priors = new ArrayList<>();
            for (Pair<String, Block> child : flow.getChildren()) {
                if (child.getValue() instanceof GaussianPrior p) priors.add(p);
            }
            return priors;
        }

        private static List<GaussianPrior> splitPriors(MultiScaleFlow flow) {
            List<GaussianPrior> priors = priors(flow);
            return priors.subList(0, priors.size() - 1);
        }

        @Override
        public FlowOutput forward(FlowContext ctx, NDArray x) {
            check(ctx, x.getShape(), 0);
            return super.forward(ctx, x);
        }

        @Override
        public Stage encodeLevels(FlowContext ctx, NDArray h, int from, int to) {
            check(ctx, h.getShape(), from);
            return super.encodeLevels(ctx, h, from, to);
        }

        @Override
        public Sample sample(FlowContext ctx, Shape image, float temperature, boolean logProb, Noise noise) {
            check(ctx, image, 0);
            return super.sample(ctx, image, temperature, logProb, noise);
        }

        private void check(FlowContext ctx, Shape shape, int from) {
            if (passes.size() >= MAX_PASSES) {
                throw new AssertionError("still retrying after " + MAX_PASSES + " passes");
            }
            boolean fail = shape.size() > (from == 0 ? firstLimit : restLimit);
            passes.add(new Pass(from, shape, fail));
            if (!fail) return;
            if (failure == Failure.OUT_OF_MEMORY) {
                ctx.manager().create(new Shape(1L << 60), DataType.FLOAT32);
            } else {
                ctx.manager().zeros(new Shape(5)).reshape(-1, 7, 11, 13);
            }
            throw new AssertionError("the engine did not fail");
        }
    }

    /** A fresh flow with every parameter perturbed, so that map values depend on their neighbours. */
    private static FlowModel model(Architecture arch, int levels, long seed) {
        FlowConfig c = FlowConfig.defaults(arch, 1).withLevels(levels).withSteps(1).withHidden(8);
        FlowModel m = FlowModel.create(c, new Normalizer(1000, 2500), 16, 16, null, seed, Device.cpu());
        FlowLayerContract.perturb(m.flow(), seed + 2, 0.1);
        return m;
    }

    /**
     * The same model (normaliser, parameters, native memory) with {@code flow} in place of its own;
     * FlowModel has no public constructor for that, so its private one is called. Close only
     * {@code model}.
     */
    private static FlowModel withFlow(FlowModel model, ImageFlow flow) throws ReflectiveOperationException {
        Constructor<FlowModel> c = FlowModel.class.getDeclaredConstructor(FlowConfig.class, Normalizer.class,
                int.class, int.class, ImageData.Calibration.class, TrainingSummary.class, NDManager.class,
                ImageFlow.class);
        c.setAccessible(true);
        return c.newInstance(model.config(), model.normalizer(), model.patchSize(), model.bitDepth(),
                model.calibration(), model.summary(), model.manager(), flow);
    }

    private static FailingFlow failing(FlowModel model, long firstLimit, long restLimit) {
        return new FailingFlow((MultiScaleFlow) model.flow(), firstLimit, restLimit, Failure.OUT_OF_MEMORY);
    }

    /** The exact map (model minus reference, if any) of a plane, computed in bands from tiles of {@code tile}. */
    private static float[] map(FlowModel model, FlowModel reference, ImageData plane, int tile) throws IOException {
        return map(model, reference, plane, tile, ProgressListener.NONE);
    }

    private static float[] map(FlowModel model, FlowModel reference, ImageData plane, int tile,
                               ProgressListener progress) throws IOException {
        int w = plane.width();
        float[] map = new float[w * plane.height()];
        try (Engines.Inference noGrad = Engines.inference()) {
            Mapper.exactBands(model, reference, PlaneSource.of(plane, 0), tile, progress,
                    new Cancellation(), (y0, values, offset, count) -> System.arraycopy(values, offset, map, y0 * w,
                            count * w));
        }
        return map;
    }

    /** The map from one pass over the whole plane: no tiles, no stages, no back-off. */
    private static float[] wholePlane(FlowModel model, ImageData plane) {
        return Mapper.exactPlane(model, plane, 0, 1024, ProgressListener.NONE, new Cancellation());
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static void assertMapEquals(float[] expected, float[] actual, int w, double scale, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-6 * scale,
                    what + ": pixel (" + (i % w) + ", " + (i / w) + ") differs from the map without back-off");
        }
    }

    /**
     * What the back-off did, as the passes of one stage (first level {@code from}, tiles read with
     * {@code margin}) show it: the first failed pass ran several tiles together; failures shrank
     * the batch, never grew it, down to one tile of full size; a pass of one full-size tile went
     * through in between (the smaller batch alone let a band pass); after the last failure every
     * pass succeeded, on tiles of half the side (the widest read is a half tile with its margins).
     */
    private static void assertBatchThenTileHalved(List<Pass> passes, int from, int margin) {
        long full = (TILE + 2L * margin) >> from;
        long half = (TILE / 2 + 2L * margin) >> from;
        List<Pass> failed = passes.stream().filter(Pass::failed).toList();
        assertFalse(failed.isEmpty(), "no pass failed");
        assertTrue(failed.stream().allMatch(p -> p.from() == from), "a pass of another stage failed: " + failed);
        assertTrue(failed.get(0).batch() > 1, "the first failed pass ran one tile: " + failed.get(0));
        for (int i = 1; i < failed.size(); i++) {
            assertTrue(failed.get(i).batch() <= failed.get(i - 1).batch(), "the batch grew: " + failed);
        }
        Pass last = failed.get(failed.size() - 1);
        assertEquals(1, last.batch(), "the tile was halved before the batch was down to one tile: " + failed);
        assertEquals(full, last.width(), "the last failed pass was not on a full tile: " + last);
        int lastIndex = passes.lastIndexOf(last);
        assertTrue(passes.subList(0, lastIndex).stream()
                        .anyMatch(p -> !p.failed() && p.from() == from && p.batch() == 1 && p.width() == full),
                "no single full-size tile went through before the tile was halved");
        List<Pass> after = passes.subList(lastIndex + 1, passes.size()).stream().filter(p -> p.from() == from).toList();
        assertFalse(after.isEmpty(), "nothing ran after the last failure");
        assertEquals(half, after.stream().mapToLong(Pass::width).max().orElseThrow(),
                "the tiles after the last failure are not half tiles");
    }

    /**
     * One level, so one pass per batch of tiles: a batch of full-size tiles runs out in the first
     * band, one such tile fits there (the first band reads no margin above) but not in the second,
     * so the batch is halved down to one tile, then the tile in the second band, after the first
     * band is done.
     */
    @Test
    void singlePassHalvesTheBatchThenTheTile() throws Exception {
        try (FlowModel m = model(Architecture.REALNVP, 1, 5)) {
            assertFalse(Mapper.staged(m));
            int r = Mapper.receptiveRadius(m.config());
            int full = TILE + 2 * r;
            FailingFlow flow = failing(m, (long) full * full - 1, Long.MAX_VALUE);
            float[] expected = wholePlane(m, PLANE);
            List<String> messages = new ArrayList<>();
            float[] backedOff = map(withFlow(m, flow), null, PLANE, TILE, messages(messages));
            assertBatchThenTileHalved(flow.passes, 0, r);
            assertMapEquals(expected, backedOff, PLANE.width(), maxAbs(expected), "single pass");
            // the user is told of every retry, the last one naming the tiles the map went on with
            assertEquals(flow.passes.stream().filter(Pass::failed).count(), messages.size(), messages.toString());
            assertTrue(messages.get(messages.size() - 1).contains("going on with tiles of " + TILE / 2 + " px"),
                    messages.get(messages.size() - 1));
        }
    }

    /**
     * Two levels on a plane larger than a tile: the map runs in two stages. Running out in the
     * first stage (level 0) happens in the first band, after some of its first-stage rows are
     * kept; running out in the second stage happens first in the first band, after level 0's share
     * of its rows was taken from the kept rows (and dropped there), and then in the second band,
     * after the first band is done. The band that ran out must start again from a fresh first
     * stage with the new tiles.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void twoStageMapStartsTheBandAfreshWithSmallerTiles(int failingStage) throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5)) {
            assertTrue(Mapper.staged(m));
            int r1 = Mapper.receptiveRadius(m.config(), 0, 1);
            int r2 = Mapper.receptiveRadius(m.config(), 1, m.config().levels());
            // the second stage's input: half the first stage's channels after the squeeze, at half resolution
            long firstFull = TILE + 2L * r1;
            long restFull = (TILE + 2L * r2) / 2;
            FailingFlow flow = failingStage == 0
                    ? failing(m, firstFull * firstFull - 1, Long.MAX_VALUE)
                    : failing(m, Long.MAX_VALUE, 2 * restFull * restFull - 1);
            float[] expected = wholePlane(m, PLANE);
            float[] backedOff = map(withFlow(m, flow), null, PLANE, TILE);
            assertBatchThenTileHalved(flow.passes, failingStage, failingStage == 0 ? r1 : r2);
            assertMapEquals(expected, backedOff, PLANE.width(), maxAbs(expected),
                    "stage " + (failingStage + 1) + " ran out");
        }
    }

    /**
     * A ratio map whose reference runs out in its second stage in the second band, after the
     * model's share of that band and both models' first band are done: the two-stage state of
     * both models must start again.
     */
    @Test
    void ratioMapStartsBothModelsAfreshWhenTheReferenceRunsOut() throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5); FlowModel ref = model(Architecture.GLOW, 2, 6)) {
            int r2 = Mapper.receptiveRadius(ref.config(), 1, ref.config().levels());
            // the first tile's second-stage input in the second band: a full band with margins above and below
            long rows = (TILE + 2L * r2) / 2;
            long cols = Math.min(TILE + r2, Indices.roundUp(NARROW.width(), ref.config().sizeMultiple())) / 2;
            FailingFlow flow = failing(ref, Long.MAX_VALUE, 2 * rows * cols - 1);
            float[] model = wholePlane(m, NARROW);
            float[] reference = wholePlane(ref, NARROW);
            float[] expected = new float[model.length];
            for (int i = 0; i < model.length; i++) expected[i] = model[i] - reference[i];
            float[] backedOff = map(m, withFlow(ref, flow), NARROW, TILE);
            List<Pass> failed = flow.passes.stream().filter(Pass::failed).toList();
            assertFalse(failed.isEmpty(), "the reference never ran out");
            assertTrue(failed.stream().allMatch(p -> p.from() == 1 && p.shape().get(2) == rows),
                    "the reference ran out elsewhere than in the second stage of a full band: " + failed);
            assertFalse(flow.passes.get(flow.passes.size() - 1).failed());
            assertMapEquals(expected, backedOff, NARROW.width(), Math.max(maxAbs(model), maxAbs(reference)), "ratio");
        }
    }

    /**
     * A flow that runs out on every input: the back-off halves the batch down to one tile and the
     * tile down to twice the size multiple, then hands on the engine's error.
     */
    @Test
    void flowThatAlwaysRunsOutEndsInTheEnginesError() throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5)) {
            FailingFlow flow = failing(m, 0, 0);
            FlowModel failing = withFlow(m, flow);
            EngineException e = assertThrows(EngineException.class, () -> map(failing, null, PLANE, TILE));
            assertTrue(Mapper.isOutOfMemory(e), "the engine's allocation failure is not taken for out of memory: "
                    + e.getMessage());
            Pass last = flow.passes.get(flow.passes.size() - 1);
            int smallest = 2 * m.config().sizeMultiple();
            // the first tile of the first band, read with the first stage's margin on its right and below
            int read = smallest + Mapper.receptiveRadius(m.config(), 0, 1);
            assertEquals(new Shape(1, 1, read, read), last.shape(), "the last attempt was not on the smallest tile");
        }
    }

    /** An engine error that is not about memory is handed on at once, with no second attempt. */
    @Test
    void otherEngineErrorsAreNotRetried() throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5)) {
            FailingFlow flow = new FailingFlow((MultiScaleFlow) m.flow(), 0, 0, Failure.OTHER);
            FlowModel failing = withFlow(m, flow);
            EngineException e = assertThrows(EngineException.class, () -> map(failing, null, PLANE, TILE));
            assertFalse(Mapper.isOutOfMemory(e), e.getMessage());
            assertEquals(1, flow.passes.size(), "the map tried again: " + flow.passes);
        }
    }

    /** A listener that keeps the messages. */
    private static ProgressListener messages(List<String> into) {
        return new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {}

            @Override
            public void message(String text) {
                into.add(text);
            }
        };
    }

    /** Samples equal up to one grey level (the floor of the quantisation may fall either side). */
    private static void assertSamplesEqual(ImageData expected, ImageData actual, String what) {
        assertEquals(expected.planeCount(), actual.planeCount());
        for (int k = 0; k < expected.planeCount(); k++) {
            float[] a = expected.plane(k);
            float[] b = actual.plane(k);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1.0, what + ": image " + k + ", pixel " + i + " differs from the sample without back-off");
            }
        }
    }

    /**
     * Four images of 32 x 32 go in one batch; a batch of more than one runs out. With one engine
     * thread the batch is halved twice (4, 2, then 1 at a time); with two, batches of two are made
     * two at a time, both run out, and the batch is halved once. Either way the images are those of
     * the run that had the memory, in order.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void samplingHalvesTheBatchAndMakesTheSameImages(int threads) throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5)) {
            FailingFlow flow = failing(m, 32 * 32, Long.MAX_VALUE);
            List<String> told = new ArrayList<>();
            ImageData expected = Sampler.sample(m, 4, 32, 32, 1.0, 3, null, null);
            ImageData backedOff;
            int before = Engines.threads();
            Engines.setThreads(threads);
            try {
                backedOff = Sampler.sample(withFlow(m, flow), 4, 32, 32, 1.0, 3, messages(told), null);
            } finally {
                Engines.setThreads(before);
            }
            List<Long> batches = new ArrayList<>(flow.passes.stream().map(Pass::batch).toList());
            if (threads == 1) {
                assertEquals(List.of(4L, 2L, 1L, 1L, 1L, 1L), batches, "the batches tried");
                assertEquals(2, told.size(), told.toString());
            } else {
                Collections.sort(batches);
                assertEquals(List.of(1L, 1L, 1L, 1L, 2L, 2L), batches, "the batches tried");
                assertEquals(List.of("Memory ran out sampling 2 images at a time: going on with 1 at a time (the"
                        + " same images, more slowly)."), told);
            }
            assertSamplesEqual(expected, backedOff, "batch halved, " + threads + " engine thread(s)");
        }
    }

    /**
     * Images larger than a tile are made in tiles of 64; every such tile with its margins runs out,
     * tiles of 32 do not: the tile is halved once, in the first band of the first image, the second
     * image starts with tiles of 32, and both images are those made whole.
     */
    @Test
    void samplingHalvesTheTileAndMakesTheSameImage() throws Exception {
        try (FlowModel m = model(Architecture.GLOW, 2, 5)) {
            int r = Mapper.receptiveRadius(m.config());
            assertTrue(r < 32, "a clipped tile of 64 must be larger than a whole tile of 32: margin " + r);
            FailingFlow flow = failing(m, (32L + 2 * r) * (32 + 2 * r), Long.MAX_VALUE);
            List<String> told = new ArrayList<>();
            ImageData expected = Sampler.sample(m, 2, 200, 136, 1.0, 3, 1024, null, null);
            ImageData backedOff = Sampler.sample(withFlow(m, flow), 2, 200, 136, 1.0, 3, 64, messages(told), null);
            assertEquals(1, flow.passes.stream().filter(Pass::failed).count(), "failed passes: " + flow.passes);
            assertEquals(64 + r, flow.passes.get(0).width(), "the first tile was not a tile of 64");
            assertTrue(flow.passes.stream().skip(1).allMatch(p -> p.width() <= 32 + 2 * r), "tiles after the back-off");
            assertEquals(1, told.size(), told.toString());
            assertTrue(told.get(0).contains("going on with tiles of 32 px"), told.get(0));
            assertSamplesEqual(expected, backedOff, "tile halved");
        }
    }
}
