package org.flowfiji.fiji;

import org.flowfiji.ops.TrainingListener;
import org.scijava.app.StatusService;
import org.scijava.log.LogService;

/**
 * Reports training progress without a window: the status bar every iteration (throttled), and a log line
 * with iteration, bits/dim and time left at every validation and about every tenth of the budget or every
 * 30 seconds. When a training window shows the curve, only validations and messages are logged.
 */
final class TrainingLogger implements TrainingListener {

    private static final long LOG_INTERVAL_NANOS = 30_000_000_000L;
    private static final long STATUS_INTERVAL_NANOS = 200_000_000L;

    private final LogService log;
    private final StatusService status;
    private final long logEvery;
    private final boolean windowShown;
    private long lastLog = System.nanoTime();
    private long lastStatus;
    private long lastLoggedIteration = -1;
    private double lastLoggedValidation = Double.NaN;

    TrainingLogger(LogService log, StatusService status, long totalIterations, boolean windowShown) {
        this.log = log;
        this.status = status;
        this.logEvery = totalIterations > 0 ? Math.max(1, totalIterations / 10) : Long.MAX_VALUE;
        this.windowShown = windowShown;
    }

    @Override
    public void onIteration(TrainingStatus s) {
        long now = System.nanoTime();
        if (status != null && now - lastStatus > STATUS_INTERVAL_NANOS) {
            lastStatus = now;
            String text = String.format("Flow training: iteration %d, %.3f bits/dim, %s left",
                    s.iteration(), s.trainBitsPerDim(), formatDuration(s.remainingSeconds()));
            if (s.totalIterations() > 0) status.showStatus((int) s.iteration(), (int) s.totalIterations(), text);
            else status.showStatus(text);
        }
        if (windowShown) return;
        if (s.iteration() % logEvery == 0 || now - lastLog > LOG_INTERVAL_NANOS) logLine(s);
    }

    @Override
    public void onValidation(TrainingStatus s) {
        logLine(s);
    }

    /** Logs the line of {@code s} unless the same iteration and validation were just logged. */
    private void logLine(TrainingStatus s) {
        boolean sameValidation = Double.compare(s.validationBitsPerDim(), lastLoggedValidation) == 0;
        if (s.iteration() == lastLoggedIteration && sameValidation) return;
        lastLog = System.nanoTime();
        lastLoggedIteration = s.iteration();
        lastLoggedValidation = s.validationBitsPerDim();
        log.info(line(s));
    }

    @Override
    public void onMessage(String message) {
        log.info("Flow training: " + message);
    }

    /** One log line: iteration, training and validation bits/dim, elapsed time and time left. */
    static String line(TrainingStatus s) {
        StringBuilder b = new StringBuilder("Flow training: iteration ").append(s.iteration());
        if (s.totalIterations() > 0) b.append('/').append(s.totalIterations());
        b.append(String.format("  train %.4f bits/dim", s.trainBitsPerDim()));
        if (Double.isFinite(s.validationBitsPerDim())) b.append(String.format("  validation %.4f bits/dim", s.validationBitsPerDim()));
        b.append("  elapsed ").append(formatDuration(s.elapsedSeconds()));
        b.append("  left ").append(formatDuration(s.remainingSeconds()));
        return b.toString();
    }

    /** h:mm:ss or m:ss; "?" when unknown. */
    static String formatDuration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long t = Math.round(seconds);
        long h = t / 3600, m = t / 60 % 60, sec = t % 60;
        return h > 0 ? String.format("%d:%02d:%02d", h, m, sec) : String.format("%d:%02d", m, sec);
    }
}
