package org.flowfiji.model;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * Settings of the C library's allocator, which serves libtorch's tensors.
 *
 * <p>With glibc's defaults, a freed block of more than 128 KB (the limit grows with use) or a free
 * region at the top of the heap of more than 128 KB goes back to the kernel, so the next tensor of
 * that size comes back as fresh pages that the kernel must zero on first touch: on these flows'
 * passes, which allocate and free thousands of 0.1-30 MB tensors, that costs as much as a good part
 * of the arithmetic (a ReLU over a 4.7 MB activation: 1.1-1.4 ms with the defaults, 0.4-0.7 ms
 * without the round trips). So, on Linux with glibc, blocks up to 32 MB come from the heap and up
 * to 1 GB of free heap is kept for reuse. Resident memory then stays near its peak during a run
 * instead of falling between tensors; blocks over 32 MB are still mapped and returned one by one.
 *
 * <p>Left alone when any {@code MALLOC_*} environment variable is set (the user's own tuning), when
 * the system property {@code flows.mallocDefaults} is true, and where there is no glibc
 * {@code mallopt} (other systems and C libraries).
 */
final class NativeAllocator {
    private NativeAllocator() {}

    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;

    private static boolean done;

    /** Applies the settings once per JVM; returns true if they are in effect. */
    static synchronized boolean keepFreedMemory() {
        if (done) return true;
        if (!Platform.isLinux() || Boolean.getBoolean("flows.mallocDefaults")) return false;
        for (String name : System.getenv().keySet()) {
            if (name.startsWith("MALLOC_")) return false;
        }
        try {
            Function mallopt = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME).getFunction("mallopt");
            boolean ok = mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, 32 << 20}) == 1;
            ok &= mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, 1 << 30}) == 1;
            ok &= mallopt.invokeInt(new Object[] {M_TOP_PAD, 64 << 20}) == 1;
            done = ok;
            return ok;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }
}
