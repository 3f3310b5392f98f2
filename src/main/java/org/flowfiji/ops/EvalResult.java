package org.flowfiji.ops;

import java.util.List;

/**
 * Log-likelihood of every plane of an image under a model.
 *
 * @param logLikelihoodNats log p(plane) in nats, raw intensity units, one per plane
 * @param bitsPerDim -log p / (D ln 2) per plane, D = C*H*W
 */
public record EvalResult(List<Double> logLikelihoodNats, List<Double> bitsPerDim) {

    public double meanBitsPerDim() {
        return bitsPerDim.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
