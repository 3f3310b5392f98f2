package org.flowfiji.model;

import java.io.IOException;
import java.nio.file.Path;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.FlowConfig;

/** A trained flow with everything needed to use it: structure, normaliser, input spec, parameters. */
public final class FlowModel implements AutoCloseable {

    /** Loads and validates a {@code .flow} file on a device ("auto", "cpu", "gpu", "gpu:1"). */
    public static FlowModel load(Path file, String device) throws IOException {
        throw new UnsupportedOperationException("not yet built");
    }

    public FlowConfig config() { throw new UnsupportedOperationException(); }
    public Normalizer normalizer() { throw new UnsupportedOperationException(); }
    /** Side of the square training patches. */
    public int patchSize() { throw new UnsupportedOperationException(); }
    /** Bit depth of the training data: 8, 16 or 32. */
    public int bitDepth() { throw new UnsupportedOperationException(); }
    public int channels() { throw new UnsupportedOperationException(); }
    public ImageData.Calibration calibration() { throw new UnsupportedOperationException(); }

    @Override
    public void close() {}
}
