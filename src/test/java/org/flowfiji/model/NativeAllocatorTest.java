package org.flowfiji.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    private static boolean glibc() {
        try {
            NativeLibrary.getInstance(Platform.C_LIBRARY_NAME).getFunction("gnu_get_libc_version");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    @Test
    void onGlibcTheAllocatorKeepsFreedMemoryUnlessTheUserTunedIt() {
        assumeTrue(Platform.isLinux() && glibc(), "glibc only");
        assumeTrue(System.getenv().keySet().stream().noneMatch(n -> n.startsWith("MALLOC_")), "no MALLOC_* tuning");
        assumeTrue(!Boolean.getBoolean("flows.mallocDefaults"), "not switched off");
        assertTrue(Engines.allocatorKeepsFreedMemory(), "mallopt refused the settings");
    }

    private static boolean defaults() {
        return Boolean.getBoolean("flows.mallocDefaults") || System.getenv(NativeAllocator.HUGE_PAGES_VARIABLE) != null;
    }

    @Test
    void libtorchIsAskedForHugePagesUnlessTheUserChose() {
        assumeTrue(Platform.isLinux() && glibc(), "glibc only");
        assumeTrue(!defaults(), "the user set the variable or switched the settings off");
        assertTrue(Engines.largeTensorsOnHugePages(), "the variable was not set");
        assertEquals("1", NativeAllocator.nativeVariable(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME),
                NativeAllocator.HUGE_PAGES_VARIABLE), "native code does not see the variable");
    }

    /** Huge-page-backed anonymous memory of this process, in KB (/proc/self/smaps_rollup). */
    private static long anonHugePagesKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
            if (line.startsWith("AnonHugePages:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IOException("no AnonHugePages line");
    }

    @Test
    void aLargeTensorLiesOnHugePagesWhereTheKernelGrantsThem() throws IOException {
        assumeTrue(Platform.isLinux() && glibc() && Files.isReadable(Path.of("/proc/self/smaps_rollup")), "Linux only");
        assumeTrue(!defaults(), "the user set the variable or switched the settings off");
        String mode = Engines.transparentHugePageMode();
        assumeTrue(mode.equals("madvise") || mode.equals("always"), "the kernel grants no huge pages (" + mode + ")");
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
            long before = anonHugePagesKb();
            // 128 MB, over glibc's 32 MB limit for heap blocks: mapped fresh and written whole
            NDArray big = m.ones(new Shape(32L << 20));
            long after = anonHugePagesKb();
            assertEquals(32L << 20, (long) big.sum().getFloat());
            assertTrue(after - before >= 64 << 10, "huge pages grew by " + (after - before) + " KB for a 128 MB tensor");
        }
    }
}
