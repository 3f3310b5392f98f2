package org.flowfiji.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
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
}
