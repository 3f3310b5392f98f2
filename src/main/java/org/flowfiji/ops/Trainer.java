package org.flowfiji.ops;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.Distillation;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.model.Devices;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;
import org.flowfiji.model.ModelFile;
import org.flowfiji.model.TrainingSummary;

/**
 * Trains a flow on the patches of an image or stack by maximum likelihood (or, for IAF with a
 * teacher, by distillation), and writes the best model by validation bits/dim.
 *
 * <p>Objective: the mean negative log-likelihood per dimension of dequantized, normalised patches,
 * {@code -(log p_flow(x))/D}; reported figures add back {@code log(scale)} and divide by ln 2, so
 * they are bits/dim in raw intensity units. Adam with linear learning-rate warm-up, global
 * gradient-norm clipping, and a guard that restores the last good parameters (and restarts the
 * optimiser) when the loss or a gradient is not finite. Validation uses a fixed set of patches from
 * held-out planes (or a held-out band of a single plane), dequantized deterministically
 * ({@code u = 0.5}), so the split never leaks. The kept model is the one with the best validation
 * bits/dim (the best distillation loss when distilling an IAF, whose objective is not the data
 * likelihood). The budget is iterations, minutes, or both
 * (whichever ends first). A seed fixes the initial parameters, the patches, their augmentation
 * and dequantization, and the split; the engine's kernels are not bit-reproducible from run to run
 * on this build, so two runs of the same seed agree exactly over the first iterations and then
 * drift apart by rounding (Glow at the default sizes: identical after 10 iterations, 7.951 and
 * 7.962 training bits/dim after 40, with one or two threads and in earlier versions too).
 *
 * <p>On a CPU, each batch is split into one part per engine thread, run at the same time with one
 * intra-op thread each ({@link BatchPasses}); the parts' gradients add up to the batch's. RealNVP's
 * batch normalisation then uses each part's own statistics.
 *
 * <p>A distilled IAF takes its teacher's intensity normaliser, so both model the same normalised data.
 *
 * <p>While training, the best model so far is checkpointed next to the model file
 * ({@code name.checkpoint.flow}); the checkpoint is removed when training ends.
 * {@link Cancellation#cancel()} discards everything; {@link Cancellation#finish()} keeps the best model.
 */
public final class Trainer {
    private Trainer() {}

    private static final double LN2 = Math.log(2);
    /** Validation patches drawn once per run. */
    static final int VALIDATION_PATCHES = 64;
    /** Consecutive non-finite steps after which training gives up. */
    static final int MAX_BAD_STEPS = 20;

    public static TrainResult train(ImageData data, TrainSettings s, TrainingListener listener, Cancellation cancel)
            throws IOException {
        if (listener == null) listener = TrainingListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        FlowConfig config = configFor(s, data.channels());
        TrainingData td = TrainingData.prepare(data, s, config.sizeMultiple());
        Device device = Devices.select(s.device());
        Path checkpoint = checkpointPath(s.modelFile());
        FlowModel teacher = s.teacher() == null ? null : FlowModel.load(s.teacher(), s.device());
        try (FlowModel model = startModel(s, config, teacher == null ? td.normalizer() : teacher.normalizer(), data, device);
             BatchPasses passes = BatchPasses.forBatch(device, s.batchSize(), teacher != null)) {
            if (teacher != null) checkTeacher(teacher, model);
            return loop(model, teacher, passes, td, s, listener, cancel, checkpoint, data);
        } finally {
            if (teacher != null) teacher.close();
            Files.deleteIfExists(checkpoint);
        }
    }

    static FlowConfig configFor(TrainSettings s, int channels) {
        FlowConfig c = FlowConfig.defaults(s.architecture(), channels);
        if (s.levels() > 0) c = c.withLevels(s.levels());
        if (s.steps() > 0) c = c.withSteps(s.steps());
        if (s.hidden() > 0) c = c.withHidden(s.hidden());
        if (s.patchSize() % c.sizeMultiple() != 0) {
            throw new IllegalArgumentException("patch size " + s.patchSize() + " is not a multiple of 2^levels = "
                    + c.sizeMultiple() + ": use e.g. " + Indices.roundUp(s.patchSize(), c.sizeMultiple()));
        }
        return c;
    }

    static Path checkpointPath(Path model) {
        String name = model.getFileName().toString();
        String stem = name.endsWith(".flow") ? name.substring(0, name.length() - 5) : name;
        return model.resolveSibling(stem + ".checkpoint.flow");
    }

    private static FlowModel startModel(TrainSettings s, FlowConfig config, Normalizer norm, ImageData data, Device device)
            throws IOException {
        if (s.continueFrom() != null) {
            FlowModel prev = FlowModel.load(s.continueFrom(), s.device());
            if (!prev.config().equals(config) && (s.levels() > 0 || s.steps() > 0 || s.hidden() > 0)
                    || prev.config().architecture() != config.architecture()) {
                FlowConfig pc = prev.config();
                prev.close();
                throw new IllegalArgumentException("continue_from model " + s.continueFrom() + " is a "
                        + pc.architecture().label() + " with levels=" + pc.levels() + " steps=" + pc.steps() + " hidden="
                        + pc.hidden() + ", which differs from the requested architecture/sizes: leave sizes at 0 or match them");
            }
            if (prev.channels() != data.channels()) {
                int c = prev.channels();
                prev.close();
                throw new IllegalArgumentException("continue_from model expects " + c + " channel(s), the image has " + data.channels());
            }
            return prev;
        }
        return FlowModel.create(config, norm, s.patchSize(), data.bitDepth(), data.calibration(), s.seed(), device);
    }

    private static void checkTeacher(FlowModel teacher, FlowModel student) {
        if (student.config().architecture() != Architecture.IAF) {
            throw new IllegalArgumentException("a teacher model is only used to distil an IAF: set architecture=IAF or remove the teacher");
        }
        if (teacher.config().architecture() == Architecture.IAF) {
            throw new IllegalArgumentException("the teacher must be a RealNVP or Glow model (its density is parallel)");
        }
        if (teacher.channels() != student.channels()) {
            throw new IllegalArgumentException("teacher has " + teacher.channels() + " channel(s), the data " + student.channels());
        }
        if (!teacher.normalizer().equals(student.normalizer())) {
            throw new IllegalArgumentException("the continued IAF and the teacher use different intensity normalisers: "
                    + "distil a new IAF (without continue_from) from this teacher");
        }
    }

    /**
     * Makes every trainable parameter record gradients. Loading parameters (a model to continue
     * from, or the last good state after a non-finite step) replaces their arrays with fresh ones
     * that do not.
     */
    static void attachGradients(List<Parameter> params) {
        for (Parameter prm : params) {
            NDArray arr = prm.getArray();
            if (!arr.hasGradient()) arr.setRequiresGradient(true);
        }
    }

    private static TrainResult loop(FlowModel model, FlowModel teacher, BatchPasses passes, TrainingData td, TrainSettings s,
                                    TrainingListener listener, Cancellation cancel, Path checkpoint, ImageData data)
            throws IOException {
        Engines.pytorch().setRandomSeed((int) s.seed());
        int p = s.patchSize();
        int b = s.batchSize();
        Distillation distillation = teacher != null ? new Distillation(model.flow(), teacher.flow()) : null;
        float[] buf = new float[b * model.channels() * p * p];
        List<Parameter> params = trainable(model);
        attachGradients(params);
        if (s.continueFrom() == null) {
            td.nextTrainingBatch(buf, b, model.normalizer(), model.isInteger());
            initializeFromData(model, buf, b, p);
        }
        FlatAdam[] optimizer = new FlatAdam[passes.parts()];
        resetOptimizer(optimizer, model.manager(), params, s);
        try {
            return iterate(model, passes, td, s, listener, cancel, checkpoint, data, distillation, buf, params, optimizer);
        } finally {
            for (FlatAdam share : optimizer) {
                if (share != null) share.close();
            }
        }
    }

    private static TrainResult iterate(FlowModel model, BatchPasses passes, TrainingData td, TrainSettings s,
                                       TrainingListener listener, Cancellation cancel, Path checkpoint, ImageData data,
                                       Distillation distillation, float[] buf, List<Parameter> params, FlatAdam[] optimizer)
            throws IOException {
        int ch = model.channels();
        int p = s.patchSize();
        int b = s.batchSize();
        double logScale = Math.log(model.normalizer().scale());
        long maxIter = s.iterations() > 0 ? s.iterations() : Long.MAX_VALUE;
        double budgetSeconds = s.minutes() > 0 ? s.minutes() * 60 : Double.POSITIVE_INFINITY;
        boolean distil = distillation != null;
        NDManager root = model.manager();
        byte[] lastGood = model.parameterBytes();
        byte[] best = lastGood;
        double bestVal = Double.NaN;
        double bestScore = Double.POSITIVE_INFINITY;
        double runningTrain = Double.NaN;
        List<TrainingSummary.HistoryPoint> history = new ArrayList<>();
        long start = System.nanoTime();
        long it = 0;
        int badSteps = 0;
        boolean finished = false;
        double lastVal = Double.NaN;
        while (it < maxIter) {
            cancel.check();
            if (cancel.isFinishRequested()) {
                finished = true;
                break;
            }
            double elapsed = (System.nanoTime() - start) * 1e-9;
            if (elapsed >= budgetSeconds) break;
            double lossNats = Double.NaN;
            boolean ok = false;
            try (NDManager scope = root.newSubManager()) {
                if (!distil) td.nextTrainingBatch(buf, b, model.normalizer(), model.isInteger());
                lossNats = passes.run(root, b, distil
                        ? (ctx, offset, count) -> distillation.estimate(ctx, b, p, p).loss()
                        : negativeLogLikelihood(model, buf, b, p));
                // each part's thread takes its share of the parameters (every parts-th one): the
                // squared norm of its gradients, then (once the global norm is known) its update
                NDArray[] grads = new NDArray[optimizer.length];
                double norm2 = 0;
                for (double sq : passes.onEachThread(k -> {
                    grads[k] = optimizer[k].gradients(scope);
                    if (grads[k] == null) return 0.0;
                    try (NDManager partScope = scope.newSubManager()) {
                        NDArray sum = grads[k].square().sum();
                        sum.attach(partScope);
                        return (double) sum.getFloat();
                    }
                })) {
                    norm2 += sq;
                }
                ok = Double.isFinite(lossNats) && Double.isFinite(norm2);
                if (ok) {
                    double norm = Math.sqrt(norm2);
                    float factor = (float) (s.gradientClip() > 0 && norm > s.gradientClip() ? s.gradientClip() / norm : 1.0);
                    passes.onEachThread(k -> {
                        optimizer[k].step(grads[k], factor, scope);
                        return null;
                    });
                }
            } catch (ArithmeticException e) {
                listener.onMessage("Iteration " + (it + 1) + ": " + e.getMessage());
            }
            it++;
            if (!ok) {
                badSteps++;
                model.loadParameterBytes(lastGood);
                params = trainable(model);
                attachGradients(params);
                resetOptimizer(optimizer, root, params, s);
                listener.onMessage("Iteration " + it + ": loss or gradient not finite; restored the last good parameters");
                if (badSteps >= MAX_BAD_STEPS) {
                    throw new IllegalStateException("Training diverged: " + badSteps
                            + " consecutive iterations gave non-finite values. Lower the learning rate (e.g. "
                            + s.learningRate() / 10 + ") or the batch size.");
                }
                continue;
            }
            badSteps = 0;
            double trainBpd = distil ? lossNats / LN2 : (lossNats + logScale) / LN2;
            runningTrain = Double.isNaN(runningTrain) ? trainBpd : 0.95 * runningTrain + 0.05 * trainBpd;
            elapsed = (System.nanoTime() - start) * 1e-9;
            double remaining = remainingSeconds(it, maxIter, elapsed, budgetSeconds);
            boolean validate = it % s.validationInterval() == 0 || it == maxIter || elapsed + elapsed / it >= budgetSeconds;
            if (validate) {
                double val = td.hasValidation() ? validationBitsPerDim(model, td, listener) : runningTrain;
                lastVal = val;
                lastGood = model.parameterBytes();
                history.add(new TrainingSummary.HistoryPoint(it, elapsed, runningTrain, val));
                double score = distil ? runningTrain : val;
                if (Double.isFinite(score) && score < bestScore) {
                    bestScore = score;
                    bestVal = val;
                    best = lastGood;
                    writeCheckpoint(model, checkpoint, summary(td, s, it, elapsed, runningTrain, bestVal, history));
                }
                listener.onValidation(new TrainingListener.TrainingStatus(it, s.iterations() > 0 ? s.iterations() : -1,
                        runningTrain, val, elapsed, remaining));
            }
            listener.onIteration(new TrainingListener.TrainingStatus(it, s.iterations() > 0 ? s.iterations() : -1,
                    runningTrain, lastVal, elapsed, remaining));
        }
        double seconds = (System.nanoTime() - start) * 1e-9;
        if (it == 0) throw new IllegalStateException("Training stopped before the first iteration: nothing to save");
        if (history.isEmpty() || history.get(history.size() - 1).iteration() != it) {
            double val = td.hasValidation() ? validationBitsPerDim(model, td, listener) : runningTrain;
            history.add(new TrainingSummary.HistoryPoint(it, seconds, runningTrain, val));
            double score = distil ? runningTrain : val;
            if (Double.isFinite(score) && score < bestScore) {
                bestScore = score;
                bestVal = val;
                best = model.parameterBytes();
            }
            // the last validation (after Finish, or at the end of the budget) reaches the loss plot too
            listener.onValidation(new TrainingListener.TrainingStatus(it, s.iterations() > 0 ? s.iterations() : -1,
                    runningTrain, val, seconds, 0));
        }
        cancel.check();
        model.loadParameterBytes(best);
        TrainingSummary sum = summary(td, s, it, seconds, runningTrain, bestVal, history);
        model.withSummary(sum).save(s.modelFile());
        double pps = it * (double) b / seconds;
        return new TrainResult(s.modelFile(), it, seconds, pps, runningTrain, bestVal, finished);
    }

    /** Data-dependent initialisation (ActNorm) from a batch of {@code b} normalised patches of side {@code p}. */
    public static void initializeFromData(FlowModel model, float[] batch, int b, int p) {
        try (NDManager scope = model.manager().newSubManager()) {
            FlowContext ctx = new FlowContext(new ParameterStore(scope, false), scope, true, false);
            model.flow().initializeFromData(ctx, PlaneTensors.create(scope, batch, b, model.channels(), p, p));
        }
    }

    /**
     * The training objective of a batch of {@code b} normalised patches of side {@code p} in
     * {@code batch}, as passes over parts of it: a part's loss is its share of the batch's mean
     * negative log-likelihood per dimension, so the parts' losses add up to the batch's.
     */
    static BatchPasses.Pass negativeLogLikelihood(FlowModel model, float[] batch, int b, int p) {
        int ch = model.channels();
        float perBatch = (float) ((double) b * ch * p * p);
        return (ctx, offset, count) -> {
            NDArray x = PlaneTensors.create(ctx.manager(), batch, offset * ch * p * p, count, ch, p, p);
            return model.flow().forward(ctx, x).logLikelihood().sum().neg().div(perBatch);
        };
    }

    static List<Parameter> trainable(FlowModel model) {
        List<Parameter> params = new ArrayList<>();
        for (Pair<String, Parameter> pr : model.flow().getParameters()) {
            if (pr.getValue().requiresGradient()) params.add(pr.getValue());
        }
        return params;
    }

    /**
     * Fresh Adam state (closing the previous one) for each part's thread: share k holds every
     * parts-th parameter from the k-th.
     */
    private static void resetOptimizer(FlatAdam[] shares, NDManager root, List<Parameter> params, TrainSettings s) {
        int parts = shares.length;
        for (int k = 0; k < parts; k++) {
            if (shares[k] != null) shares[k].close();
            List<Parameter> share = new ArrayList<>();
            for (int i = k; i < params.size(); i += parts) share.add(params.get(i));
            shares[k] = new FlatAdam(root, share, learningRate(s));
        }
    }

    private static Tracker learningRate(TrainSettings s) {
        return s.warmupIterations() > 0
                ? Tracker.warmUp().setMainTracker(Tracker.fixed((float) s.learningRate()))
                    .optWarmUpSteps(s.warmupIterations()).optWarmUpBeginValue((float) (s.learningRate() / s.warmupIterations()))
                    .build()
                : Tracker.fixed((float) s.learningRate());
    }

    private static double remainingSeconds(long it, long maxIter, double elapsed, double budget) {
        double perIter = elapsed / it;
        double byIter = maxIter == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : (maxIter - it) * perIter;
        return Math.max(0, Math.min(byIter, budget - elapsed));
    }

    private static TrainingSummary summary(TrainingData td, TrainSettings s, long it, double seconds, double train,
                                           double bestVal, List<TrainingSummary.HistoryPoint> history) {
        return new TrainingSummary(td.sourceNames(), it, seconds, train, bestVal, s.seed(), s.batchSize(), s.learningRate(),
                ModelFile.softwareVersions(), ModelFile.now(), List.copyOf(history));
    }

    private static void writeCheckpoint(FlowModel model, Path checkpoint, TrainingSummary sum) throws IOException {
        model.withSummary(sum).save(checkpoint);
    }

    /**
     * Mean bits/dim (raw units) of the fixed validation patches, evaluated at bin centres; NaN when
     * the model's density is not defined on them (an IAF whose solve fails, see {@code IafStep}).
     */
    static double validationBitsPerDim(FlowModel model, TrainingData td, TrainingListener listener) {
        try (Engines.Inference noGrad = Engines.inference()) {
            double bpd = validationBitsPerDimOrThrow(model, td);
            if (!Double.isFinite(bpd)) {
                listener.onMessage("Validation: the model's log-density of the held-out patches is not finite");
            }
            return bpd;
        } catch (ArithmeticException e) {
            listener.onMessage("Validation: " + e.getMessage());
            return Double.NaN;
        }
    }

    private static double validationBitsPerDimOrThrow(FlowModel model, TrainingData td) {
        float[] patches = td.validationPatches(model.normalizer(), model.isInteger());
        int n = td.validationCount();
        int ch = model.channels();
        int p = td.patchSize();
        double dims = (double) ch * p * p;
        double total = 0;
        int chunk = 16;
        for (int start = 0; start < n; start += chunk) {
            int b = Math.min(chunk, n - start);
            float[] part = java.util.Arrays.copyOfRange(patches, start * ch * p * p, (start + b) * ch * p * p);
            try (NDManager scope = model.manager().newSubManager()) {
                NDArray x = PlaneTensors.create(scope, part, b, ch, p, p);
                float[] ll = model.flow().forward(model.evalContext(scope, false), x).logLikelihood().toFloatArray();
                for (float v : ll) total += v;
            }
        }
        double meanNll = -total / n / dims;
        return (meanNll + Math.log(model.normalizer().scale())) / LN2;
    }
}
