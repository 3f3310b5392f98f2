package org.flowfiji.cli;

import java.io.PrintStream;
import org.flowfiji.ops.ProgressListener;
import org.flowfiji.ops.TrainingListener;

/**
 * Progress on the terminal (stderr): a bar redrawn in place on a console, or one line every few
 * seconds when stderr is a file or pipe. Quiet runs print nothing.
 */
final class ConsoleProgress implements ProgressListener, TrainingListener {

    private final PrintStream out = System.err;
    private final boolean quiet;
    private final boolean console = System.console() != null;
    private long lastPrint;
    private String lastTask = "";

    ConsoleProgress(boolean quiet) {
        this.quiet = quiet;
    }

    @Override
    public void progress(String task, long done, long total) {
        if (quiet || total <= 0) return;
        long now = System.nanoTime();
        boolean end = done >= total;
        if (!end && task.equals(lastTask) && now - lastPrint < (console ? 200_000_000L : 5_000_000_000L)) return;
        lastPrint = now;
        lastTask = task;
        int pct = (int) Math.min(100, done * 100 / total);
        if (console) {
            int bars = pct / 4;
            out.print("\r" + task + " [" + "#".repeat(bars) + " ".repeat(25 - bars) + "] " + pct + "%" + (end ? "\n" : ""));
        } else {
            out.println(task + ": " + pct + "%");
        }
        out.flush();
    }

    @Override
    public void onIteration(TrainingStatus s) {
        if (quiet) return;
        long now = System.nanoTime();
        boolean last = s.totalIterations() > 0 && s.iteration() >= s.totalIterations();
        if (!last && now - lastPrint < (console ? 500_000_000L : 10_000_000_000L)) return;
        lastPrint = now;
        String line = String.format("iteration %d%s  train %.4f bits/dim  val %s  %.0f s elapsed, %.0f s left",
                s.iteration(), s.totalIterations() > 0 ? "/" + s.totalIterations() : "", s.trainBitsPerDim(),
                Double.isNaN(s.validationBitsPerDim()) ? "-" : String.format("%.4f", s.validationBitsPerDim()),
                s.elapsedSeconds(), s.remainingSeconds());
        if (console) out.print("\r" + line + (last ? "\n" : ""));
        else out.println(line);
        out.flush();
    }

    @Override
    public void onMessage(String message) {
        if (!quiet) out.println(message);
    }

    @Override
    public void message(String text) {
        onMessage(text);
    }
}
