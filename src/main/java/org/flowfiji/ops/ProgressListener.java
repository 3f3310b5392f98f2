package org.flowfiji.ops;

/** Progress of a long operation: {@code done} of {@code total} units of {@code task}. */
@FunctionalInterface
public interface ProgressListener {

    void progress(String task, long done, long total);

    /**
     * A note for the user about the run that is not an error, such as a change of plan (a map that
     * goes on in smaller tiles after memory ran out). Ignored unless a listener shows it.
     */
    default void message(String text) {}

    /** A listener that reports progress through {@code progress} and passes messages on to this one. */
    default ProgressListener withProgress(ProgressListener progress) {
        ProgressListener messages = this;
        return new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {
                progress.progress(task, done, total);
            }

            @Override
            public void message(String text) {
                messages.message(text);
            }
        };
    }

    /** A listener that ignores everything. */
    ProgressListener NONE = (t, d, n) -> {};
}
