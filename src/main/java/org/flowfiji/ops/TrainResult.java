package org.flowfiji.ops;

import java.nio.file.Path;

/**
 * What a training run produced.
 *
 * @param modelFile the written model (the best by validation bits/dim)
 * @param iterations iterations run
 * @param seconds wall-clock training time
 * @param patchesPerSecond training throughput
 * @param trainBitsPerDim final running training bits/dim
 * @param validationBitsPerDim best validation bits/dim (the kept model's)
 * @param stoppedEarly true when the user pressed Finish
 */
public record TrainResult(Path modelFile, long iterations, double seconds, double patchesPerSecond,
                          double trainBitsPerDim, double validationBitsPerDim, boolean stoppedEarly) {}
