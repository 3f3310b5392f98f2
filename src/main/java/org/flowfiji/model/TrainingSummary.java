package org.flowfiji.model;

import java.util.List;

/**
 * What a model file records about how the model was made.
 *
 * @param data names of the training images
 * @param iterations iterations run
 * @param seconds wall-clock training time
 * @param trainBitsPerDim final running training bits/dim
 * @param validationBitsPerDim best validation bits/dim (the stored parameters are the best ones)
 * @param seed training seed
 * @param batchSize patches per iteration
 * @param learningRate peak learning rate
 * @param software software versions: this toolkit, DJL, PyTorch, Java
 * @param date ISO-8601 time the model was written
 * @param history the loss curve: one point per validation
 */
public record TrainingSummary(List<String> data, long iterations, double seconds, double trainBitsPerDim,
                              double validationBitsPerDim, long seed, int batchSize, double learningRate,
                              java.util.Map<String, String> software, String date, List<HistoryPoint> history) {

    /** One point of the training curve. */
    public record HistoryPoint(long iteration, double seconds, double trainBitsPerDim, double validationBitsPerDim) {}
}
