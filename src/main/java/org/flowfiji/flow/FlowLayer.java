package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;

/**
 * One invertible transformation of an image-shaped tensor: the flow contract.
 *
 * <p><b>Direction.</b> {@link #forward} goes from data to latent (the density direction),
 * {@link #inverse} from latent to data (the sampling direction). For a layer {@code f} with
 * {@code z = f(x)}:
 * <ul>
 *   <li>{@code forward(x)} returns {@code z} and {@code log|det dz/dx|} per sample (shape [B]);</li>
 *   <li>{@code inverse(z)} returns {@code x} and {@code log|det dx/dz| = -log|det dz/dx|};</li>
 *   <li>when {@link FlowContext#wantMap()} is set, both also return the log-determinant as a
 *       per-element map with the shape of their output, whose sum over all non-batch elements
 *       equals the per-sample log-determinant. Maps are what make exact likelihood maps possible.</li>
 * </ul>
 * Inputs and outputs are NCHW float tensors. A layer may change C, H and W (a squeeze does), but
 * never the number of elements per sample. Layers are DJL blocks; their parameters live in the
 * block, their non-parameter state in the block's metadata.
 */
public interface FlowLayer {

    /** Data to latent: {@code z = f(x)} with {@code log|det dz/dx|}. */
    Step forward(FlowContext ctx, NDArray x);

    /** Latent to data: {@code x = f^-1(z)} with {@code log|det dx/dz|}. */
    Step inverse(FlowContext ctx, NDArray z);
}
