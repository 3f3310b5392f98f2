package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * The result of one layer pass.
 *
 * @param out the transformed tensor, NCHW
 * @param logdet log|det J| of the pass, one value per sample, shape [B]
 * @param logdetMap the same log-determinant per output element (shape of {@code out}), or
 *     {@code null} when the context did not ask for maps; its sum over C, H, W equals {@code logdet}
 */
public record Step(NDArray out, NDArray logdet, NDArray logdetMap) {}
