package org.flowfiji.model;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts DJL's PyTorch engine once per JVM, offline, with the class loader that can see its jars.
 *
 * <p>Inside Fiji the plugin's classes come from a plugin class loader that is not the thread's
 * context class loader; DJL finds its engine and native library through the context class loader,
 * so it is set for the duration of the start.
 */
public final class Engines {
    private Engines() {}

    private static volatile Engine engine;

    /**
     * Sets libtorch's intra-op CPU threads for this JVM (0 or less leaves the engine's default, one
     * per core). Fewer threads than cores help when several jobs share a machine; the environment
     * variable {@code OMP_NUM_THREADS} does the same for a whole process.
     */
    public static void setThreads(int threads) {
        pytorch();
        if (threads > 0) ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }

    /** Whether the C library's allocator keeps freed memory for libtorch's next tensors ({@link NativeAllocator}). */
    public static boolean allocatorKeepsFreedMemory() {
        pytorch();
        return NativeAllocator.keepFreedMemory();
    }

    /**
     * The instruction set asked of libtorch's own CPU kernels ({@link VectorKernels}): "avx512",
     * the user's own value of ATEN_CPU_CAPABILITY, or null when libtorch chooses.
     */
    public static String vectorKernels() {
        pytorch();
        return VectorKernels.preferAvx512();
    }

    /**
     * Whether libtorch backs tensors of 2 MB and more with transparent huge pages where the kernel
     * allows it ({@link NativeAllocator#hugePagesForLargeTensors()}).
     */
    public static boolean largeTensorsOnHugePages() {
        pytorch();
        return NativeAllocator.hugePagesForLargeTensors();
    }

    /**
     * The kernel's transparent huge page mode: always, madvise (granted to memory that asks, as
     * libtorch's large tensors do here), never, or "unknown" where the kernel does not tell.
     */
    public static String transparentHugePageMode() {
        try {
            String line = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).trim();
            int a = line.indexOf('[');
            int b = line.indexOf(']');
            return a >= 0 && b > a ? line.substring(a + 1, b) : line;
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Whether libtorch's NNPACK convolutions are off because NNPACK cannot run here ({@link Nnpack}). */
    public static boolean nnpackOff() {
        pytorch();
        return Nnpack.offWhereUnavailable();
    }

    /** libtorch's intra-op CPU threads on the calling thread. */
    public static int threads() {
        pytorch();
        return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    }

    /**
     * Turns off gradient recording on this thread until the returned handle is closed (then the
     * previous mode is restored). Inference (maps, evaluation, sampling, validation) runs inside
     * it: without it libtorch would record an autograd graph for every pass, because the
     * parameters require gradients, costing time and memory for nothing.
     */
    public static Inference inference() {
        pytorch();
        boolean before = ai.djl.pytorch.jni.JniUtils.isGradMode();
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        return () -> ai.djl.pytorch.jni.JniUtils.setGradMode(before);
    }

    /** A scope without gradient recording; see {@link #inference()}. */
    @FunctionalInterface
    public interface Inference extends AutoCloseable {
        @Override
        void close();
    }

    public static Engine pytorch() {
        Engine e = engine;
        if (e != null) return e;
        synchronized (Engines.class) {
            if (engine == null) {
                if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
                Thread t = Thread.currentThread();
                ClassLoader before = t.getContextClassLoader();
                t.setContextClassLoader(Engines.class.getClassLoader());
                try {
                    NativeAllocator.keepFreedMemory();
                    NativeAllocator.hugePagesForLargeTensors();
                    VectorKernels.preferAvx512();
                    Engine started = Engine.getEngine("PyTorch");
                    Nnpack.offWhereUnavailable();
                    engine = started;
                } catch (RuntimeException | Error err) {
                    throw new IllegalStateException("The PyTorch engine could not start: " + err.getMessage()
                            + ". Check that pytorch-engine, pytorch-jni and pytorch-native-cpu (or -cu*) jars are installed.", err);
                } finally {
                    t.setContextClassLoader(before);
                }
            }
            return engine;
        }
    }
}
