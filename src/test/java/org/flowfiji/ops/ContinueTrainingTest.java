package org.flowfiji.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.flowfiji.data.ImageData;
import org.flowfiji.flow.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training continues from a saved model: loaded parameters take gradients like fresh ones. */
class ContinueTrainingTest {

    @TempDir
    Path dir;

    @Test
    void continuesFromASavedModel() throws Exception {
        ImageData img = OpsTestData.blobs(4, 32, 32, 1, 11);
        Path first = dir.resolve("first.flow");
        Trainer.train(img, TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(first).optPatchSize(16)
                .optLevels(2).optSteps(2).optHidden(8).optBatchSize(4).optIterations(3).optSeed(1).build(), null, null);
        Path second = dir.resolve("second.flow");
        TrainResult r = Trainer.train(img, TrainSettings.builder().setArchitecture(Architecture.GLOW).setModelFile(second)
                .optPatchSize(16).optBatchSize(4).optIterations(3).optSeed(2).optContinueFrom(first).build(), null, null);
        assertEquals(3, r.iterations());
        assertTrue(Files.exists(second));
        assertTrue(Double.isFinite(r.trainBitsPerDim()));
    }
}
