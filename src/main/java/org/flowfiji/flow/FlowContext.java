package org.flowfiji.flow;

import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;

/**
 * What a layer needs to know about the pass it is part of.
 *
 * @param parameters where layers read their parameter values (on the pass's device)
 * @param manager the scope for temporary arrays of this pass
 * @param training true when gradients are recorded and training-only behaviour applies
 *     (batch statistics, data-dependent initialisation)
 * @param wantMap true when every layer must also return its per-element log-determinant map
 * @param updateStatistics true when a training pass may update running statistics (batch
 *     normalisation); when a batch is split across threads, only the first part's pass does, so
 *     the update is made once per batch and in the same order every run
 */
public record FlowContext(ParameterStore parameters, NDManager manager, boolean training, boolean wantMap,
                          boolean updateStatistics) {

    /** A context whose training passes update running statistics. */
    public FlowContext(ParameterStore parameters, NDManager manager, boolean training, boolean wantMap) {
        this(parameters, manager, training, wantMap, training);
    }

    /** An evaluation context without maps. */
    public static FlowContext eval(ParameterStore ps, NDManager manager) {
        return new FlowContext(ps, manager, false, false);
    }

    /** The same context with its temporary arrays in {@code scope}. */
    public FlowContext withManager(NDManager scope) {
        return new FlowContext(parameters, scope, training, wantMap, updateStatistics);
    }

    /** The same context asking for (or not asking for) maps. */
    public FlowContext withMap(boolean map) {
        return new FlowContext(parameters, manager, training, map, updateStatistics);
    }
}
