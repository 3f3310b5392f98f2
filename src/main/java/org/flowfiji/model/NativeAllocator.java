package org.flowfiji.model;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

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
 *
 * <p><b>Huge pages.</b> libtorch itself can ask the kernel for transparent huge pages for tensors
 * of 2 MB and more ({@code madvise}); it does so when the environment variable
 * {@code THP_MEM_ALLOC_ENABLE} is 1 when its allocator first runs. It aligns those tensors to the
 * 4 KB page only, so huge pages back the whole 2 MB-aligned stretches inside each tensor (most of
 * a large one, possibly none of one of exactly 2 MB). On Linux it is set to 1
 * in this process before the engine starts, unless it is already set (the user's choice, 0
 * included) or {@code flows.mallocDefaults} is true. Tensors over 32 MB (mapped fresh each
 * time) and the heap as it grows then come in 2 MB pages instead of 4 KB ones (maps of 4096² and
 * 8192² planes took 4-10 % less time; see docs/benchmarks.md). Whether the kernel grants huge
 * pages depends on
 * {@code /sys/kernel/mm/transparent_hugepage/enabled} ({@code madvise} or {@code always}); with
 * {@code never} the request changes nothing.
 */
final class NativeAllocator {
    private NativeAllocator() {}

    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;

    /** libtorch's switch for huge pages under tensors of 2 MB and more. */
    static final String HUGE_PAGES_VARIABLE = "THP_MEM_ALLOC_ENABLE";

    private static boolean done;
    private static Boolean hugePages;

    /**
     * Sets {@value #HUGE_PAGES_VARIABLE}=1 in this process's environment unless it is already set
     * or the allocator is to be left alone; must run before libtorch's first tensor. Returns whether
     * libtorch will ask for huge pages (also when the user set the variable to 1).
     */
    static synchronized boolean hugePagesForLargeTensors() {
        if (hugePages != null) return hugePages;
        hugePages = false;
        if (!Platform.isLinux() || Boolean.getBoolean("flows.mallocDefaults")) return false;
        try {
            NativeLibrary libc = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
            String current = nativeVariable(libc, HUGE_PAGES_VARIABLE);
            if (current == null) {
                boolean set = libc.getFunction("setenv").invokeInt(new Object[] {HUGE_PAGES_VARIABLE, "1", 0}) == 0;
                current = set ? nativeVariable(libc, HUGE_PAGES_VARIABLE) : null;
            }
            hugePages = "1".equals(current);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            hugePages = false;
        }
        return hugePages;
    }

    /** The variable as native code sees it (Java's {@code System.getenv} is a copy taken at start-up). */
    static String nativeVariable(NativeLibrary libc, String name) {
        Pointer p = (Pointer) libc.getFunction("getenv").invoke(Pointer.class, new Object[] {name});
        return p == null ? null : p.getString(0);
    }

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
