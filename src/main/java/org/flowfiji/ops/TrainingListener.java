package org.flowfiji.ops;

/** Receives training progress; every method is called on the training thread. */
public interface TrainingListener {

    /** After every iteration. */
    void onIteration(TrainingStatus status);

    /** After every validation pass (status.validationBitsPerDim() is then finite). */
    default void onValidation(TrainingStatus status) {}

    /** An informational message (NaN recovery, best model kept, checkpoint written). */
    default void onMessage(String message) {}

    TrainingListener NONE = s -> {};

    /**
     * One point of training progress.
     *
     * @param iteration iterations done (1-based)
     * @param totalIterations the iteration budget, or -1 when the budget is wall-clock time
     * @param trainBitsPerDim running mean training loss in bits/dim (raw intensity units)
     * @param validationBitsPerDim last validation bits/dim, NaN before the first validation
     * @param elapsedSeconds wall-clock time since training started
     * @param remainingSeconds estimated time left
     */
    record TrainingStatus(long iteration, long totalIterations, double trainBitsPerDim,
                          double validationBitsPerDim, double elapsedSeconds, double remainingSeconds) {}
}
