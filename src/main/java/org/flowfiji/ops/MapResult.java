package org.flowfiji.ops;

import java.util.List;
import org.flowfiji.data.ImageData;

/**
 * A likelihood map and its per-plane figures.
 *
 * @param map a 32-bit image with the input's size, planes, channels 1 and calibration; null when
 *     the map was streamed into a file ({@link Mapper#mapToTiff})
 * @param logLikelihoodNats log p(plane) per plane (for a ratio map: the difference of the two models)
 * @param mapSumNats the sum of each map plane in nats (equals logLikelihoodNats in EXACT mode)
 * @param bitsPerDim per plane
 */
public record MapResult(ImageData map, List<Double> logLikelihoodNats, List<Double> mapSumNats, List<Double> bitsPerDim) {}
