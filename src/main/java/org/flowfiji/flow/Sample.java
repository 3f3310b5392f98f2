package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * Images drawn from a flow.
 *
 * @param x the samples, NCHW, in normalised units
 * @param logProb log q(x) of each sample under the flow at temperature 1, shape [B]; null when the
 *     pass was asked not to compute it
 */
public record Sample(NDArray x, NDArray logProb) {}
