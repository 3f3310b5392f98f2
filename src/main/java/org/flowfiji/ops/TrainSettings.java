package org.flowfiji.ops;

import java.nio.file.Path;
import org.flowfiji.flow.Architecture;

/**
 * Everything a training run needs besides the data. Immutable; made with {@link #builder()}.
 * Sizes left at 0 take the architecture's defaults ({@code FlowConfig.defaults}).
 */
public record TrainSettings(
        Architecture architecture,
        int patchSize,
        int levels,
        int steps,
        int hidden,
        int batchSize,
        double learningRate,
        long iterations,
        double minutes,
        double validationFraction,
        long seed,
        String device,
        Path modelFile,
        Path continueFrom,
        Path teacher,
        int warmupIterations,
        double gradientClip,
        int validationInterval,
        boolean augment) {

    public TrainSettings {
        if (architecture == null) throw new IllegalArgumentException("architecture is required (RealNVP, Glow or IAF)");
        if (patchSize < 2) throw new IllegalArgumentException("patch size must be >= 2, got " + patchSize);
        if (levels < 0 || steps < 0 || hidden < 0) throw new IllegalArgumentException("levels, steps and hidden must be >= 0 (0 = default)");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        if (iterations < 1 && !(minutes > 0)) throw new IllegalArgumentException("give a budget: iterations >= 1 or minutes > 0");
        if (validationFraction < 0 || validationFraction >= 1) throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validationFraction);
        if (modelFile == null) throw new IllegalArgumentException("an output model file is required");
        if (device == null || device.isBlank()) device = "auto";
        if (validationInterval < 1) validationInterval = 50;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setX} for required values, {@code optX} for the rest. */
    public static final class Builder {
        private Architecture architecture = Architecture.GLOW;
        private int patchSize = 32;
        private int levels;
        private int steps;
        private int hidden;
        private int batchSize = 16;
        private double learningRate = 1e-3;
        private long iterations = 1000;
        private double minutes;
        private double validationFraction = 0.1;
        private long seed = 1;
        private String device = "auto";
        private Path modelFile;
        private Path continueFrom;
        private Path teacher;
        private int warmupIterations = 100;
        private double gradientClip = 50;
        private int validationInterval = 50;
        private boolean augment = true;

        public Builder setArchitecture(Architecture a) { architecture = a; return this; }
        public Builder setModelFile(Path p) { modelFile = p; return this; }
        public Builder optPatchSize(int v) { patchSize = v; return this; }
        public Builder optLevels(int v) { levels = v; return this; }
        public Builder optSteps(int v) { steps = v; return this; }
        public Builder optHidden(int v) { hidden = v; return this; }
        public Builder optBatchSize(int v) { batchSize = v; return this; }
        public Builder optLearningRate(double v) { learningRate = v; return this; }
        /** Iteration budget; with minutes > 0 training stops at whichever comes first. */
        public Builder optIterations(long v) { iterations = v; return this; }
        /** Wall-clock budget in minutes (0 = none). */
        public Builder optMinutes(double v) { minutes = v; return this; }
        public Builder optValidationFraction(double v) { validationFraction = v; return this; }
        public Builder optSeed(long v) { seed = v; return this; }
        public Builder optDevice(String v) { device = v; return this; }
        public Builder optContinueFrom(Path p) { continueFrom = p; return this; }
        public Builder optTeacher(Path p) { teacher = p; return this; }
        public Builder optWarmupIterations(int v) { warmupIterations = v; return this; }
        public Builder optGradientClip(double v) { gradientClip = v; return this; }
        public Builder optValidationInterval(int v) { validationInterval = v; return this; }
        public Builder optAugment(boolean v) { augment = v; return this; }

        public TrainSettings build() {
            return new TrainSettings(architecture, patchSize, levels, steps, hidden, batchSize, learningRate,
                    iterations, minutes, validationFraction, seed, device, modelFile, continueFrom, teacher,
                    warmupIterations, gradientClip, validationInterval, augment);
        }
    }
}
