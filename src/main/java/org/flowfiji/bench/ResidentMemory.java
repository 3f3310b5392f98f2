package org.flowfiji.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process as the Linux kernel reports it in {@code /proc/self/status}:
 * {@code VmRSS} (resident now) and {@code VmHWM} (the peak since the process started or since
 * the last {@link #resetPeak()}). Resident memory counts everything the process holds in RAM:
 * the Java heap pages it has touched, the JVM itself and the native memory of the tensor engine.
 *
 * <p>On systems without {@code /proc} every figure is -1.
 */
public final class ResidentMemory {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ResidentMemory() {}

    /** Resident set size now, in bytes, or -1 when unknown. */
    public static long current() {
        return field("VmRSS:");
    }

    /** Peak resident set size (high-water mark), in bytes, or -1 when unknown. */
    public static long peak() {
        return field("VmHWM:");
    }

    /**
     * Resets the high-water mark to the current resident size (writes 5 to
     * {@code /proc/self/clear_refs}).
     *
     * @return true when the kernel accepted the reset
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Bytes to mebibytes. */
    public static double mebibytes(long bytes) {
        return bytes < 0 ? -1 : bytes / (1024.0 * 1024.0);
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L;
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            return -1;
        }
        return -1;
    }
}
