package org.flowfiji.ops;

/**
 * Stop requests from a user, polled by every long operation once per iteration, tile or batch.
 *
 * <p>{@link #cancel()} means stop and discard (training writes no model; maps and samples return
 * nothing). {@link #finish()} means training stops early and keeps the best model so far.
 */
public final class Cancellation {

    private volatile boolean cancelled;
    private volatile boolean finishRequested;

    /** Stop as soon as possible and discard the work. */
    public void cancel() { cancelled = true; }

    /** Training only: stop after the current iteration and keep the best model so far. */
    public void finish() { finishRequested = true; }

    public boolean isCancelled() { return cancelled; }

    public boolean isFinishRequested() { return finishRequested; }

    /** Throws {@link CancelledException} when a cancel was requested. */
    public void check() {
        if (cancelled) throw new CancelledException();
    }

    /** Thrown out of an operation that a user cancelled. */
    public static final class CancelledException extends RuntimeException {
        public CancelledException() { super("Cancelled by the user"); }
    }
}
