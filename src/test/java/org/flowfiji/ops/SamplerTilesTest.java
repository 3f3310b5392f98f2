package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowLayerContract;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Samples of RealNVP and Glow made in tiles equal the same samples made whole, and an image does
 * not depend on the batch it is drawn in: the priors' values are keyed by position
 * ({@link LatentNoise}) and the flows are local.
 */
class SamplerTilesTest {

    /** A float model (no quantisation of the samples) whose every parameter is perturbed. */
    private static FlowModel model(Architecture arch, int levels) {
        return model(arch, levels, 1);
    }

    private static FlowModel model(Architecture arch, int levels, int channels) {
        FlowConfig c = FlowConfig.defaults(arch, channels).withLevels(levels).withSteps(2).withHidden(8);
        FlowModel m = FlowModel.create(c, new Normalizer(1000, 2500), 16, 32, null, 5, Device.cpu());
        // a new flow's couplings are the identity (zero-initialised last layers): without noise no
        // pixel would depend on its neighbours' latents and too small a margin would pass
        FlowLayerContract.perturb(m.flow(), 7, 0.1);
        return m;
    }

    private static double maxAbsDifferenceFromMean(float[] a) {
        double mean = 0;
        for (float v : a) mean += v;
        mean /= a.length;
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v - mean));
        return m;
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"REALNVP", "GLOW"})
    void tiledSamplesEqualWholeSamples(Architecture arch) {
        // two levels, then one; the last round has two channels
        for (int round = 0; round < 3; round++) {
            int levels = round == 0 ? 2 : 1;
            try (FlowModel m = model(arch, levels, round == 2 ? 2 : 1)) {
                int w = 264;
                int h = 136;
                assertTrue(w > 32 + 2 * Mapper.receptiveRadius(m.config()), "the image must need several tiles");
                ImageData whole = Sampler.sample(m, 2, w, h, 0.9, 11, 1024, null, null);
                ImageData tiled = Sampler.sample(m, 2, w, h, 0.9, 11, 32, null, null);
                for (int k = 0; k < 2; k++) {
                    float[] a = whole.plane(k);
                    float[] b = tiled.plane(k);
                    // the values spread around the normaliser's offset: compare at the scale of that spread
                    double scale = maxAbsDifferenceFromMean(a);
                    assertTrue(scale > 1, "the sample is flat: " + scale);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(a[i], b[i], 2e-5 * scale, arch + ", levels " + levels + ", " + m.channels()
                                + " channel(s), image " + k + ", channel " + i / (w * h) + ", pixel (" + (i % w) + ", "
                                + (i / w % h) + ") differs between tiled and whole samples");
                    }
                }
            }
        }
    }

    @Test
    void anImageDoesNotDependOnItsBatchButOnItsSeedAndPlace() {
        try (FlowModel m = model(Architecture.GLOW, 2)) {
            ImageData three = Sampler.sample(m, 3, 32, 16, 1.0, 3, null, null);
            ImageData one = Sampler.sample(m, 1, 32, 16, 1.0, 3, null, null);
            ImageData otherSeed = Sampler.sample(m, 1, 32, 16, 1.0, 4, null, null);
            assertEquals(3, three.planeCount());
            float[] first = three.plane(0);
            // a batch of another size may run other kernels of the engine (float rounding, amplified
            // by the inverse's scales): compare at the scale of the image's spread, as above
            double scale = maxAbsDifferenceFromMean(first);
            assertTrue(scale > 1, "the sample is flat: " + scale);
            for (int i = 0; i < first.length; i++) {
                assertEquals(first[i], one.plane(0)[i], 2e-5 * scale, "pixel " + i);
            }
            assertNotEquals(first[5], three.plane(1)[5], "two images of one batch are the same");
            assertNotEquals(first[5], otherSeed.plane(0)[5], "another seed gave the same image");
        }
    }

    /**
     * With two engine threads, batches are made two at a time on threads of their own; the images
     * are those made one batch after the other, reach the caller in order, and the progress counts
     * up to the last image. (The tests otherwise run with one engine thread.)
     */
    @ParameterizedTest
    @EnumSource(value = Architecture.class)
    void batchesOnTwoThreadsMakeTheSameImagesInOrder(Architecture arch) {
        try (FlowModel m = model(arch, 1)) {
            ImageData oneThread = Sampler.sample(m, 5, 32, 16, 1.0, 3, null, null);
            List<Long> done = new ArrayList<>();
            ImageData twoThreads;
            int before = Engines.threads();
            Engines.setThreads(2);
            try {
                twoThreads = Sampler.sample(m, 5, 32, 16, 1.0, 3, (stage, d, total) -> done.add(d), null);
            } finally {
                Engines.setThreads(before);
            }
            assertEquals(5, twoThreads.planeCount());
            // five images in batches of three: the first round makes images 0-2 and 3-4 at once
            assertEquals(List.of(3L, 5L), done, "progress");
            for (int k = 0; k < 5; k++) {
                float[] a = oneThread.plane(k);
                float[] b = twoThreads.plane(k);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-6 * Math.abs(a[i]) + 1e-3, arch + ", image " + k + ", pixel " + i);
                }
            }
        }
    }

    @Test
    void latentNoiseOfARegionIsThatPartOfTheWholeAndStandardNormal() {
        LatentNoise noise = new LatentNoise(9);
        int w = 200;
        int h = 10;
        float[] whole = noise.region(1, 0, 2, 3, 0, 0, h, w);
        // a region that starts and ends inside runs of the generator
        float[] part = noise.region(1, 1, 1, 3, 4, 70, 5, 100);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 100; x++) {
                    assertEquals(whole[((3 + c) * h + 4 + y) * w + 70 + x], part[(c * 5 + y) * 100 + x],
                            "channel " + c + ", row " + y + ", column " + x);
                }
            }
        }
        double sum = 0;
        double squares = 0;
        for (float v : whole) {
            sum += v;
            squares += v * v;
        }
        double mean = sum / whole.length;
        double var = squares / whole.length - mean * mean;
        // 12,000 values: the mean's standard error is 0.009, the variance's 0.013
        assertEquals(0, mean, 0.05, "mean");
        assertEquals(1, var, 0.07, "variance");
        assertNotEquals(whole[0], noise.region(0, 0, 1, 1, 0, 0, 1, 1)[0], "two levels share their values");
        assertNotEquals(whole[0], new LatentNoise(10).region(1, 0, 1, 1, 0, 0, 1, 1)[0], "two seeds share their values");
    }

    /**
     * IAF flips whole planes between its steps, so its samples larger than a tile are made whole
     * (with tiles they would fail: IAF has no receptive radius), and its images too do not depend
     * on their batch.
     */
    @Test
    void iafSamplesAreMadeWholeAndDoNotDependOnTheirBatch() {
        try (FlowModel m = model(Architecture.IAF, 1)) {
            ImageData small = Sampler.sample(m, 2, 40, 24, 1.0, 5, 16, null, null);
            ImageData whole = Sampler.sample(m, 2, 40, 24, 1.0, 5, 1024, null, null);
            ImageData second = Sampler.sample(m, 1, 40, 24, 1.0, 5, 1024, null, null);
            for (int i = 0; i < small.plane(0).length; i++) {
                assertEquals(whole.plane(1)[i], small.plane(1)[i], 1e-3, "pixel " + i + " with a small tile");
                assertEquals(whole.plane(0)[i], second.plane(0)[i], 1e-3, "pixel " + i + " of the first image alone");
            }
            assertNotEquals(whole.plane(0)[3], whole.plane(1)[3], "two images are the same");
        }
    }
}
