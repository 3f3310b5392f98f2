package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * The density-direction result of an {@link ImageFlow}.
 *
 * @param logLikelihood log p(x) per sample, shape [B] ({@code logPrior + logdet})
 * @param logPrior log p_Z(z) of all latents (factored-out and top) per sample, shape [B]
 * @param logdet log|det dz/dx| per sample, shape [B]
 * @param pixelMap per-pixel log-density [B, H, W] summing to {@code logLikelihood}, or null
 */
public record FlowOutput(NDArray logLikelihood, NDArray logPrior, NDArray logdet, NDArray pixelMap) {}
