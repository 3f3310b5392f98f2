package org.flowfiji.ops;

/** (being built) */
public final class Sampler {
    private Sampler() {}

    public static org.flowfiji.data.ImageData sample(org.flowfiji.model.FlowModel model, int count, int width, int height, double temperature, long seed, ProgressListener progress, Cancellation cancel) {
        throw new UnsupportedOperationException("not yet built");
    }
}
