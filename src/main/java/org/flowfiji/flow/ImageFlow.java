package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;

/**
 * A complete multi-scale image flow with its base density: what RealNVP, Glow and IAF share.
 *
 * <p>Works on normalised data x (NCHW float, H and W multiples of {@code 2^levels}); the
 * intensity normalisation and dequantization live outside, in the model. For any x,
 * {@code log p(x) = log p_Z(z) + log|det dz/dx|}, with every factored-out latent scored by its
 * (learned or standard) Gaussian prior.
 */
public interface ImageFlow extends Block {

    /** The configuration this flow was built from. */
    FlowConfig config();

    /**
     * Density direction. With {@code ctx.wantMap()} the output also carries the per-pixel map
     * [B, H, W]: every per-element contribution (base density and log-determinants, at every
     * level) carried back to the input pixels it covers, channels summed; it sums to log p(x).
     */
    FlowOutput forward(FlowContext ctx, NDArray x);

    /**
     * Sampling direction: draws {@code batch} images of {@code height x width} with latents
     * scaled by {@code temperature}. The returned log-probability is {@code log q(x)} of the
     * drawn x under the flow (differentiable when {@code ctx.training()}: IAF distillation uses it).
     */
    Sample sample(FlowContext ctx, int batch, int height, int width, float temperature);

    /**
     * Makes data-dependent initialisations (ActNorm) from a first batch; a no-op when there is
     * nothing to initialise or it was done before (it is stored with the parameters).
     */
    void initializeFromData(FlowContext ctx, NDArray x);
}
