package org.flowfiji.fiji;

import ij.macro.Interpreter;
import java.awt.GraphicsEnvironment;

/**
 * Whether the commands may open windows.
 *
 * <p>{@link #HEADLESS}: a JVM without a display ({@code java.awt.headless=true}, Fiji's
 * {@code --headless}); nothing may touch AWT. {@link #BATCH}: a display exists but an ImageJ macro runs
 * in batch mode; results go to the log and to batch-mode images, no window opens. {@link #INTERACTIVE}:
 * training windows, Results windows and overlays are shown.
 */
public enum UiMode {
    HEADLESS, BATCH, INTERACTIVE;

    /** The mode of the running JVM and macro interpreter. */
    public static UiMode current() {
        if (GraphicsEnvironment.isHeadless()) return HEADLESS;
        if (Interpreter.isBatchMode()) return BATCH;
        return INTERACTIVE;
    }

    /** True when windows may be opened. */
    public boolean showsWindows() {
        return this == INTERACTIVE;
    }
}
