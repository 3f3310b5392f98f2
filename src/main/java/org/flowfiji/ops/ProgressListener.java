package org.flowfiji.ops;

/** Progress of a long operation: {@code done} of {@code total} units of {@code task}. */
@FunctionalInterface
public interface ProgressListener {

    void progress(String task, long done, long total);

    /** A listener that ignores everything. */
    ProgressListener NONE = (t, d, n) -> {};
}
