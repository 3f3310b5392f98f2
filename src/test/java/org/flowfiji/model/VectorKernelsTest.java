package org.flowfiji.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class VectorKernelsTest {

    private static final String FULL = "fpu vme sse sse2 avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni";

    private static String cpuinfo(String... flagLines) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < flagLines.length; i++) {
            sb.append("processor\t: ").append(i).append('\n');
            sb.append("model name\t: test\n");
            sb.append("flags\t\t: ").append(flagLines[i]).append("\n\n");
        }
        return sb.toString();
    }

    @Test
    void avx512OnlyWhenEveryProcessorHasEveryFlag() {
        assertTrue(VectorKernels.hasAvx512(cpuinfo(FULL, FULL)));
        assertFalse(VectorKernels.hasAvx512(cpuinfo(FULL.replace(" avx512bw", ""))), "without AVX-512BW");
        assertFalse(VectorKernels.hasAvx512(cpuinfo(FULL.replace(" fma", ""))), "without FMA");
        assertFalse(VectorKernels.hasAvx512(cpuinfo(FULL, FULL.replace(" avx512vl", ""))), "one processor without VL");
        assertFalse(VectorKernels.hasAvx512(cpuinfo("fpu sse sse2 avx avx2 fma")), "an AVX2 processor");
        assertFalse(VectorKernels.hasAvx512(""), "no cpuinfo");
        // a flag that only starts like a required one is not it
        assertFalse(VectorKernels.hasAvx512(cpuinfo(FULL.replace("avx512f ", "avx512fp16 "))), "avx512fp16 is not avx512f");
    }

    @Test
    void libtorchIsAskedForAvx512KernelsExactlyWhereTheProcessorHasThem() throws IOException {
        assumeTrue(Platform.isLinux() && Platform.isIntel() && Platform.is64Bit(), "Linux on x86-64 only");
        assumeTrue(System.getenv(VectorKernels.VARIABLE) == null, "the user chose the kernels");
        assumeTrue(!Boolean.getBoolean("flows.vectorKernelDefaults"), "switched off");
        boolean avx512 = VectorKernels.hasAvx512(Files.readString(Path.of("/proc/cpuinfo")));
        String chosen = Engines.vectorKernels();
        String seen = NativeAllocator.nativeVariable(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME), VectorKernels.VARIABLE);
        if (avx512) {
            assertEquals("avx512", chosen);
            assertEquals("avx512", seen, "native code does not see the variable");
        } else {
            assertEquals(null, chosen, "AVX-512 kernels asked for on a processor without them");
            assertEquals(null, seen);
        }
    }
}
