package org.flowfiji.ops;

/** (being built) */
public final class Evaluator {
    private Evaluator() {}

    public static EvalResult evaluate(org.flowfiji.model.FlowModel model, org.flowfiji.data.ImageData data, ProgressListener progress, Cancellation cancel) {
        throw new UnsupportedOperationException("not yet built");
    }
}
