package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * The result of one layer pass.
 *
 * @param out the transformed tensor, NCHW
 * @param logdet log|det J| of the pass, one value per sample, shape [B]
 * @param logdetMap the same log-determinant per output element (shape of {@code out}), or
 *     {@code null} when the context did not ask for maps; its sum over C, H, W equals {@code logdet}
 * @param mapSum with a map, when a layer has it for free: the map summed over channels as one value
 *     [1, 1, 1] that every position's sum equals (layers whose log-determinant is a constant per
 *     channel); else {@code null}, and the sum is taken from {@code logdetMap}
 */
public record Step(NDArray out, NDArray logdet, NDArray logdetMap, NDArray mapSum) {

    /** A step without a map sum of its own. */
    public Step(NDArray out, NDArray logdet, NDArray logdetMap) {
        this(out, logdet, logdetMap, null);
    }
}
