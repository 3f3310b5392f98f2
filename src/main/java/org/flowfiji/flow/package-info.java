/**
 * Normalizing flows on images as DJL blocks: the layers (ActNorm, invertible 1x1 convolution,
 * affine couplings, batch normalisation, squeeze), the multi-scale composition with its Gaussian
 * priors, and the RealNVP and Glow architectures ({@link org.flowfiji.flow.Flows}).
 *
 * <p><b>Direction.</b> {@code forward} always goes from data to latent (the density direction):
 * it returns {@code z = f(x)} and {@code log|det ∂z/∂x|} per sample, so that
 * {@code log p(x) = log p_Z(z) + log|det ∂z/∂x|}. {@code inverse} goes from latent to data (the
 * sampling direction) and returns {@code log|det ∂x/∂z|}, the negative of the forward value at the
 * corresponding point. A composition sums its layers' log-determinants; its inverse runs the layers
 * in reverse order. Inputs are NCHW float tensors of normalised intensities; layers may change C, H
 * and W but never the number of elements per sample.
 *
 * <p><b>Log-determinant maps.</b> On request ({@link org.flowfiji.flow.FlowContext#wantMap()})
 * every layer also returns its log-determinant per element of its output, summing to the
 * per-sample value. A multi-scale flow turns these maps and the per-element prior log-densities
 * into a per-pixel map: each term is summed over channels, and a latent position at a grid that is
 * {@code f} times coarser than the image (f = 2^l after l squeezes) is spread evenly over the
 * {@code f x f} pixel block it covers (each pixel receives value / f²). The pixel map therefore sums
 * exactly to {@code log p(x)} of the image (up to floating-point rounding).
 *
 * <p>This package depends on DJL only (no ImageJ, SciJava or UI classes). Parameters are created in
 * float32 from a seed; a float64 input runs a layer in float64 (parameters are converted on the fly),
 * which is how log-determinants are checked against brute-force Jacobians.
 */
package org.flowfiji.flow;
