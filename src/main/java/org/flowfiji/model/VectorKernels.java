package org.flowfiji.model;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which vector instructions libtorch's own CPU kernels use: its elementwise operations,
 * reductions and copies (oneDNN's convolutions and the BLAS choose their own).
 *
 * <p>libtorch carries AVX2 and AVX-512 versions of those kernels and takes the AVX-512 ones when
 * its processor detection finds AVX-512F, VL, BW and DQ. On the AMD EPYC machine of
 * docs/benchmarks.md it did not find them, although the processor has them and Linux lists them
 * in {@code /proc/cpuinfo}, and it ran the AVX2 kernels; with the AVX-512 ones IAF trained about
 * 13 % and RealNVP about 3 % faster there, Glow within the machine's noise (docs/benchmarks.md). libtorch's environment variable
 * {@value #VARIABLE}{@code =avx512} selects them, and libtorch then does not check the processor
 * itself: an AVX-512 kernel on a processor without AVX-512 would stop the JVM with an illegal
 * instruction. So the variable is set only on Linux on x86-64, only when every flag of
 * {@link #REQUIRED} is in {@code /proc/cpuinfo} (Linux leaves out the flags whose registers the
 * kernel does not save), before libtorch runs its first operation; and not when the variable is
 * already set (the user's choice, {@code avx2} or {@code default} included) or the system property
 * {@code flows.vectorKernelDefaults} is true.
 */
final class VectorKernels {
    private VectorKernels() {}

    /** libtorch's switch for its CPU kernels' instruction set. */
    static final String VARIABLE = "ATEN_CPU_CAPABILITY";

    /** The {@code /proc/cpuinfo} flags libtorch's AVX-512 kernels need. */
    static final List<String> REQUIRED = List.of("avx512f", "avx512vl", "avx512bw", "avx512dq", "fma");

    private static boolean done;
    private static String value;

    /**
     * Sets {@value #VARIABLE}=avx512 in this process's environment where that is safe and the user
     * has not chosen (see the class description); must run before libtorch's first operation.
     * Returns the variable's value as native code sees it, or null when it is not set.
     */
    static synchronized String preferAvx512() {
        if (done) return value;
        done = true;
        try {
            NativeLibrary libc = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
            value = NativeAllocator.nativeVariable(libc, VARIABLE);
            if (value == null && !Boolean.getBoolean("flows.vectorKernelDefaults") && Platform.isLinux()
                    && Platform.isIntel() && Platform.is64Bit() && hasAvx512(readCpuinfo())) {
                libc.getFunction("setenv").invokeInt(new Object[] {VARIABLE, "avx512", 0});
                value = NativeAllocator.nativeVariable(libc, VARIABLE);
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            value = null;
        }
        return value;
    }

    private static String readCpuinfo() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * Whether every processor listed in a {@code /proc/cpuinfo} text has all the {@link #REQUIRED}
     * flags (false when the text lists no flags).
     */
    static boolean hasAvx512(String cpuinfo) {
        List<Set<String>> processors = cpuinfo.lines()
                .filter(l -> l.startsWith("flags"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim().toLowerCase(Locale.ROOT))
                .map(f -> Arrays.stream(f.split("\\s+")).collect(Collectors.toSet()))
                .toList();
        return !processors.isEmpty() && processors.stream().allMatch(p -> p.containsAll(REQUIRED));
    }
}
