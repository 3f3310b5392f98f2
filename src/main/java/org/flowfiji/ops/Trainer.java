package org.flowfiji.ops;

/** (being built) */
public final class Trainer {
    private Trainer() {}

    public static TrainResult train(org.flowfiji.data.ImageData data, TrainSettings settings, TrainingListener listener, Cancellation cancel) throws java.io.IOException {
        throw new UnsupportedOperationException("not yet built");
    }
}
