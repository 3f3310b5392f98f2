package org.flowfiji.fiji;

import ij.IJ;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.ProgressListener;
import org.scijava.app.StatusService;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;

/**
 * What the three flow commands share: a {@link Cancellation} wired to SciJava's {@code cancel}, progress
 * through {@link StatusService}, messages through {@link LogService}, and failure reporting.
 *
 * <p>A command that fails or is stopped calls {@link #cancel(String)} with a message a user can act on;
 * callers read it with {@link #getCancelReason()} (the ImageJ 1.x launchers show it as an error).
 */
public abstract class FlowCommand extends ContextCommand {

    @Parameter
    protected LogService log;

    @Parameter(required = false)
    protected StatusService status;

    /** Stop requests for the running operation; {@link #cancel(String)} triggers it. */
    protected final Cancellation cancellation = new Cancellation();

    @Override
    public void cancel(String reason) {
        cancellation.cancel();
        super.cancel(reason);
    }

    private volatile boolean failed;

    /** Logs {@code message} as an error and marks the command as stopped with it. */
    protected void fail(String message) {
        failed = true;
        log.error(message);
        super.cancel(message);
    }

    /** Logs an unexpected failure with its stack trace and marks the command as stopped with {@code message}. */
    protected void fail(String message, Throwable cause) {
        failed = true;
        log.error(message, cause);
        super.cancel(message);
    }

    /** True when the last run failed (the cancel reason says why); false when it succeeded or was stopped. */
    public boolean hasFailed() {
        return failed;
    }

    /** Marks the command as stopped by the user (nothing to report as an error). */
    protected void stopped(String message) {
        log.info(message);
        super.cancel(message);
    }

    /**
     * A progress listener that reports to the status bar and stops the work when the user presses
     * Escape in ImageJ (interactive sessions only).
     */
    protected ProgressListener progress() {
        UiMode mode = UiMode.current();
        if (mode.showsWindows()) IJ.resetEscape();
        return new ProgressListener() {
            private long lastReport;

            @Override
            public void progress(String task, long done, long total) {
                if (mode.showsWindows() && IJ.escapePressed()) cancel("Stopped with Escape");
                cancellation.check();
                long now = System.nanoTime();
                if (status == null || (done < total && now - lastReport < 100_000_000L)) return;
                lastReport = now;
                status.showStatus((int) Math.min(done, Integer.MAX_VALUE), (int) Math.min(total, Integer.MAX_VALUE), task);
            }

            @Override
            public void message(String text) {
                log.warn(text);
            }
        };
    }

    /** Clears the status bar at the end of a run. */
    protected void clearStatus() {
        if (status != null) status.clearStatus();
    }

    /**
     * An existing model file given by parameter {@code key}.
     *
     * @throws IllegalArgumentException naming the key and the problem
     */
    protected static Path existingModel(File file, String key) {
        if (file == null || file.getPath().isBlank())
            throw new IllegalArgumentException(key + " is required: give the .flow file of a trained model");
        Path path = file.toPath();
        if (!Files.isRegularFile(path))
            throw new IllegalArgumentException(key + "=" + file + " does not exist: give the .flow file of a trained model");
        return path;
    }

    /** An optional model file: null when not given, otherwise it must exist. */
    protected static Path optionalModel(File file, String key) {
        if (file == null || file.getPath().isBlank()) return null;
        return existingModel(file, key);
    }

    /** The message of {@code e}, or its class name when it has none. */
    protected static String messageOf(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
