package org.flowfiji.model;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns libtorch's NNPACK convolutions off where NNPACK cannot run.
 *
 * <p>libtorch tries NNPACK for a convolution that oneDNN does not take (libtorch 2.7.1 leaves to
 * its own kernels the 1x1 convolutions of fewer than 16 images on one engine thread, which is
 * what each part of a training batch split over two threads is). Where NNPACK does not support the
 * processor (the 2-vCPU AMD EPYC this project is measured on, for one), every such call
 * tries to start NNPACK again and prints "Could not initialize NNPACK! Reason: Unsupported
 * hardware." to the process's standard error: 128 lines per iteration of Glow at the defaults,
 * 3,840 for 30 iterations, in Fiji's console or a batch job's log. The convolution then runs on
 * libtorch's own kernels anyway. So, once the engine has started, this asks libtorch whether NNPACK
 * is available (one such line where it is not) and if not turns it off
 * ({@code torch.backends.nnpack.set_flags(False)} in Python): the same kernels run, without the
 * attempt and the line. Where NNPACK runs, nothing changes.
 *
 * <p>libtorch's C++ API is reached by its exported symbols (the Itanium C++ ABI of Linux), like
 * the C library's {@code mallopt} in {@link NativeAllocator}; where a symbol is missing (another
 * libtorch) or the system is not Linux, nothing is changed.
 */
final class Nnpack {
    private Nnpack() {}

    private static final String GLOBAL_CONTEXT = "_ZN2at13globalContextEv";
    private static final String AVAILABLE = "_ZN2at4_ops17_nnpack_available4callEv";
    private static final String SET_ENABLED = "_ZN2at7Context20setUserEnabledNNPACKEb";
    private static final String ENABLED = "_ZNK2at7Context17userEnabledNNPACKEv";

    private static Boolean off;

    /**
     * Turns NNPACK off if libtorch reports it unavailable; returns whether it is off (false also
     * where this could not be done). Call after the engine has started; runs once per JVM.
     */
    static synchronized boolean offWhereUnavailable() {
        if (off != null) return off;
        off = false;
        try {
            Path lib = loadedTorch();
            if (lib == null) return false;
            NativeLibrary torch = NativeLibrary.getInstance(lib.toString());
            if (asBool(torch.getFunction(AVAILABLE).invokeInt(new Object[0]))) return false;
            Pointer context = torch.getFunction(GLOBAL_CONTEXT).invokePointer(new Object[0]);
            torch.getFunction(SET_ENABLED).invokeVoid(new Object[] {context, Boolean.FALSE});
            off = !asBool(torch.getFunction(ENABLED).invokeInt(new Object[] {context}));
        } catch (LinkageError | RuntimeException e) {
            off = false;
        }
        return off;
    }

    /** A C++ bool comes back in the lowest byte of the register. */
    private static boolean asBool(int register) {
        return (register & 0xFF) != 0;
    }

    /** The libtorch_cpu library this process has loaded (Linux: from /proc/self/maps), or null. */
    private static Path loadedTorch() {
        if (!Platform.isLinux()) return null;
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            // address, permissions, offset, device, inode, then the path (which may hold spaces)
            return lines.map(l -> l.split("\\s+", 6)).filter(f -> f.length == 6).map(f -> f[5].trim())
                    .filter(p -> p.endsWith("/libtorch_cpu.so"))
                    .findFirst().map(Path::of).orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
