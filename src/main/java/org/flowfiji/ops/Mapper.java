package org.flowfiji.ops;

/** (being built) */
public final class Mapper {
    private Mapper() {}

    public static MapResult map(org.flowfiji.model.FlowModel model, org.flowfiji.model.FlowModel reference, org.flowfiji.data.ImageData data, MapSettings settings, ProgressListener progress, Cancellation cancel) {
        throw new UnsupportedOperationException("not yet built");
    }
}
