package org.flowfiji.ops;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.model.Engines;

/**
 * The forward and backward passes of one training batch, split into parts that run at the same
 * time, each on its own thread with one engine (intra-op) thread.
 *
 * <p>Why: a training pass of these flows is thousands of small operations (convolutions over a few
 * channels of 8x8 to 32x32 patches). Splitting each operation over the cores gains little on such
 * sizes, and the per-operation work on the Java side and in the engine's dispatcher stays on one
 * thread; splitting the batch keeps every core busy with whole operations instead.
 *
 * <p>The parts share the model's parameters. Each part's loss is its share of the batch loss (its
 * summed negative log-likelihood over the whole batch's size), and the engine adds the parts'
 * gradients into the parameters' gradients, so the sum is the gradient of the whole batch's loss.
 * With two parts the result does not depend on which part finishes first (float addition of two
 * terms is commutative); with more, the order of the additions may change the last bits of the
 * gradients from run to run. Layers with batch statistics (RealNVP's batch normalisation) normalise
 * each part by its own statistics, and only the first part updates the running averages.
 *
 * <p>One part runs on the calling thread with the engine's usual threads (GPU devices, batches of
 * one, and passes that draw random numbers from the engine, such as distillation, whose draws must
 * come in a fixed order). The parts' threads also take other work of an iteration that divides
 * into independent shares ({@link #onEachThread}: the trainer's gradient norms and optimiser
 * updates, a share of the parameters each). While the threads exist, the engine's stored thread
 * count is one (threads that start using the engine meanwhile get one intra-op thread); closing
 * gives it back. {@link #lasting} gives workers of the same kind, kept and shared, for work that
 * does not train (the sampler's batches).
 *
 * <p><b>First passes in turn.</b> The first batch's parts run one after the other (each on its own
 * thread), later batches at the same time. libtorch 2.7.1's oneDNN 3.7.1 can crash the process
 * when two threads create the same convolution primitive at the same moment, as the parts of a
 * batch do (same shapes, same operations, same time): a segmentation fault in a backward
 * convolution run without its scratchpad, in one of 19 runs of the test suite on a 2-vCPU AMD
 * EPYC, and within a few hundred fresh shapes when two threads ran the same convolution's
 * forward and backward passes side by side. Once one thread has created a primitive, the others
 * take it from oneDNN's primitive cache, and running it side by side never failed (thousands of
 * shapes). A training's batches all have the same shapes, so its first batch creates what the
 * others use. The sampler names the shapes of its rounds of batches
 * ({@link #onEachThread(Object, Object, IntFunction)}): the first round of each runs in turn. See
 * docs/architecture.md.
 */
final class BatchPasses implements AutoCloseable {

    /** One part's pass: returns its loss, differentiable with respect to the parameters. */
    @FunctionalInterface
    interface Pass {
        /**
         * @param ctx the part's training context (its own scope and parameter store)
         * @param offset first sample of the part in the batch
         * @param count samples in the part
         */
        NDArray loss(FlowContext ctx, int offset, int count);
    }

    private static final ThreadLocal<Boolean> SINGLE_THREADED = ThreadLocal.withInitial(() -> false);

    /** The workers that outlive their users (see {@link #lasting}), by their number. */
    private static final Map<Integer, BatchPasses> LASTING = new HashMap<>();

    private final int parts;
    private final ExecutorService pool;
    private final int engineThreadsBefore;
    private final boolean kept;
    /** Whether a batch has run: the first one runs its parts in turn. */
    private boolean ran;
    /** The shapes of each owner's work that has run on these threads (see {@link #onEachThread(Object, Object, IntFunction)}). */
    private final Map<Object, Set<Object>> shapesRun = new WeakHashMap<>();

    BatchPasses(int parts) {
        this(parts, "flow-training-", false);
    }

    private BatchPasses(int parts, String threadName, boolean kept) {
        this.parts = parts;
        this.kept = kept;
        if (parts > 1) {
            engineThreadsBefore = Engines.threads();
            AtomicInteger n = new AtomicInteger();
            pool = Executors.newFixedThreadPool(parts, r -> {
                Thread t = new Thread(r, threadName + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        } else {
            engineThreadsBefore = 0;
            pool = null;
        }
    }

    /**
     * Passes for batches of {@code batch} samples on {@code device}: one part per engine thread on a
     * CPU (at most one per sample), or a single part.
     *
     * @param ordered true when the pass draws random numbers from the engine (one part then)
     */
    static BatchPasses forBatch(Device device, int batch, boolean ordered) {
        boolean split = !ordered && Device.Type.CPU.equals(device.getDeviceType());
        return new BatchPasses(split ? Math.max(1, Math.min(batch, Engines.threads())) : 1);
    }

    /**
     * Parts for work that does not train, such as the sampler's batches, on threads that are kept
     * for the rest of the JVM's life and shared by every such user (closing it does nothing): one
     * part per engine thread on a CPU when there are two items or more (some parts may then have
     * none), else a single part on the calling thread. Threads made for each call gained
     * nothing: a fresh thread's first passes find none of the memory the C library keeps per
     * thread (16 samples of 256 x 256 took as long as one batch after the other; on kept threads
     * 9-12 % less). The workers are made the first time for each thread count (and kept while
     * other counts are used); the engine's count for threads that start later is then given
     * back. On a worker itself (one engine thread) this gives one part, so work that a worker
     * starts runs on that worker.
     */
    static synchronized BatchPasses lasting(Device device, int items) {
        int parts = Device.Type.CPU.equals(device.getDeviceType()) && items > 1 ? Engines.threads() : 1;
        if (parts <= 1) return new BatchPasses(1);
        BatchPasses kept = LASTING.get(parts);
        if (kept == null) {
            kept = new BatchPasses(parts, "flow-worker-", true);
            // each worker takes its one engine thread now, and the count other threads get is restored
            kept.onEachThread(k -> null);
            JniUtils.setNumThreads(kept.engineThreadsBefore);
            LASTING.put(parts, kept);
        }
        return kept;
    }

    /** How many parts a batch is split into. */
    int parts() {
        return parts;
    }

    /**
     * Runs the passes of a batch of {@code batch} samples and their backward passes, leaving the
     * summed gradients in the parameters; returns the batch loss (the sum of the parts' losses).
     *
     * @throws ArithmeticException if a part's pass throws one (the others have finished by then)
     */
    double run(NDManager root, int batch, Pass pass) {
        IntFunction<Double> part = k -> {
            int from = (int) ((long) batch * k / parts);
            int to = (int) ((long) batch * (k + 1) / parts);
            return part(root, pass, from, to - from, k == 0);
        };
        List<Double> losses = onEachThread(part, !ran);
        ran = true;
        double total = 0;
        for (double loss : losses) {
            total += loss;
        }
        return total;
    }

    /**
     * Runs {@code task(k)} for every part k at the same time, each on its part's thread (on the
     * calling thread when there is one part), and returns the results in part order.
     *
     * @throws RuntimeException the first part's failure (an {@link Error} as it is), once every part
     *     has finished
     */
    <T> List<T> onEachThread(IntFunction<T> task) {
        return onEachThread(task, false);
    }

    /**
     * {@link #onEachThread} for work of {@code owner} (held weakly) with the given {@code shapes}
     * (a value with equals): the first time these workers run it, part k + 1 starts when part k
     * has finished (see "First passes in turn" above); afterwards all parts at the same time.
     */
    <T> List<T> onEachThread(Object owner, Object shapes, IntFunction<T> task) {
        Set<Object> seen;
        synchronized (shapesRun) {
            seen = shapesRun.computeIfAbsent(owner, o -> ConcurrentHashMap.newKeySet());
        }
        List<T> results = onEachThread(task, !seen.contains(shapes));
        seen.add(shapes);
        return results;
    }

    private <T> List<T> onEachThread(IntFunction<T> task, boolean inTurn) {
        if (parts == 1) return Collections.singletonList(task.apply(0));
        List<Future<T>> futures = new ArrayList<>(parts);
        for (int k = 0; k < parts; k++) {
            int part = k;
            Future<T> f = pool.submit(() -> {
                if (!SINGLE_THREADED.get()) {
                    // once per thread: the setting also resizes the engine's thread pools. The engine
                    // gives a thread the process's count on the thread's first use; that comes first
                    // here, or it would undo the one thread as soon as the count is given back
                    JniUtils.getNumThreads();
                    JniUtils.setNumThreads(1);
                    SINGLE_THREADED.set(true);
                }
                return task.apply(part);
            });
            futures.add(f);
            if (inTurn) awaitQuietly(f);
        }
        List<T> results = new ArrayList<>(parts);
        Throwable failure = null;
        for (Future<T> f : futures) {
            try {
                results.add(f.get());
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(x -> x.cancel(false));
                throw new IllegalStateException("Interrupted while training", e);
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException(failure);
        return results;
    }

    /** Waits for f to finish; its result or failure is collected with the others'. */
    private static void awaitQuietly(Future<?> f) {
        try {
            f.get();
        } catch (ExecutionException e) {
            // reported once every part has finished
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double part(NDManager root, Pass pass, int offset, int count, boolean first) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try (NDManager kept = root.newSubManager()) {
            NDArray loss;
            // the forward pass's arrays are released before the backward pass: libtorch's autograd
            // holds the activations that pass needs and frees each one once its gradients are
            // computed, so the gradients reuse memory that is still in the caches
            try (NDManager scope = kept.newSubManager()) {
                FlowContext ctx = new FlowContext(new ParameterStore(scope, false), scope, true, false, first);
                loss = pass.loss(ctx, offset, count);
                loss.attach(kept);
            }
            NDArray seed = kept.ones(loss.getShape(), loss.getDataType());
            JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, false, false);
            return loss.getFloat();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Stops the threads and gives the engine back the thread count it had before. */
    @Override
    public void close() {
        if (pool == null || kept) return;
        pool.shutdownNow();
        JniUtils.setNumThreads(engineThreadsBefore);
    }
}
