package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.tracker.Tracker;
import java.util.List;

/**
 * Adam for a share of the parameters, its moments kept as one flat array each.
 *
 * <p>Why: the flows have 100-200 parameter arrays of a few hundred to a few thousand values each.
 * Updated one by one, every array costs about a dozen engine operations for the squared norm and
 * the update; over the whole share these few operations run once, on the concatenated gradients
 * (the per-array work left is one view to gather the gradient, one to scatter the step, the
 * in-place step and resetting the gradient to zero).
 *
 * <p>The rule is DJL's {@code Adam} with its defaults (β1 0.9, β2 0.999, ε 1e-8, no weight
 * decay): with g the gradient times {@code factor} (gradient clipping) and t the step count from 1,
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − η_t·√(1−β2^t)/(1−β1^t) · m/(√v + ε), η_t
 * from the learning-rate tracker. A test checks it against DJL's {@code Adam} step by step.
 */
final class FlatAdam implements AutoCloseable {

    static final float BETA1 = 0.9f;
    static final float BETA2 = 0.999f;
    static final float EPSILON = 1e-8f;

    private final List<Parameter> params;
    private final long[] splitAt;
    private final Tracker learningRate;
    private final NDManager state;
    private final NDArray mean;
    private final NDArray variance;
    private int steps;

    /**
     * @param parent manager of the optimiser state (a sub-manager is created and closed with this)
     * @param params the share of parameters this optimiser updates (may be empty)
     * @param learningRate η_t by step count
     */
    FlatAdam(NDManager parent, List<Parameter> params, Tracker learningRate) {
        this.params = List.copyOf(params);
        this.learningRate = learningRate;
        this.splitAt = new long[Math.max(0, this.params.size() - 1)];
        long total = 0;
        for (int i = 0; i < this.params.size(); i++) {
            total += this.params.get(i).getArray().size();
            if (i < splitAt.length) splitAt[i] = total;
        }
        state = parent.newSubManager();
        DataType type = this.params.isEmpty() ? DataType.FLOAT32 : this.params.get(0).getArray().getDataType();
        mean = state.zeros(new Shape(total), type);
        variance = state.zeros(new Shape(total), type);
    }

    /** True when the share has no parameters. */
    boolean isEmpty() {
        return params.isEmpty();
    }

    /**
     * The share's current gradients, concatenated in parameter order into one array of
     * {@code scope}; null for an empty share.
     */
    NDArray gradients(NDManager scope) {
        if (params.isEmpty()) return null;
        NDList flat = new NDList(params.size());
        for (Parameter p : params) {
            NDArray g = p.getArray().getGradient();
            NDArray v = g.reshape(-1);
            v.attach(scope);
            g.attach(scope); // the gradient's own handle; the tensor stays with its parameter
            flat.add(v);
        }
        NDArray all = flat.size() == 1 ? flat.get(0) : NDArrays.concat(flat);
        all.attach(scope);
        return all;
    }

    /**
     * One step with the gradient {@code gradients} (from {@link #gradients}) times {@code factor},
     * then the parameters' gradients are reset to zero. Runs without recording gradients.
     */
    void step(NDArray gradients, float factor, NDManager scope) {
        if (params.isEmpty()) return;
        steps++;
        double coef1 = 1 - Math.pow(BETA1, steps);
        double coef2 = 1 - Math.pow(BETA2, steps);
        float lr = learningRate.getNewValue(steps);
        float corrected = (float) (lr * Math.sqrt(coef2) / coef1);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager tmp = scope.newSubManager()) {
            // results of operations on the moments attach to the state's manager: moved to tmp
            NDArray g = factor == 1f ? gradients : gradients.mul(factor);
            NDArray firstMoment = g.mul(1 - BETA1);
            NDArray secondMoment = g.square().muli(1 - BETA2);
            NDArray denominator = variance.muli(BETA2).addi(secondMoment).sqrt();
            denominator.attach(tmp);
            NDArray update = mean.muli(BETA1).addi(firstMoment).div(denominator.addi(EPSILON));
            update.attach(tmp);
            update.muli(corrected);
            for (NDArray a : new NDArray[] {g, firstMoment, secondMoment}) {
                if (a != gradients) a.attach(tmp);
            }
            NDList pieces = splitAt.length == 0 ? new NDList(update) : update.split(splitAt);
            for (int i = 0; i < params.size(); i++) {
                NDArray w = params.get(i).getArray();
                w.subi(pieces.get(i).reshape(w.getShape()));
                JniUtils.zeroGrad((PtNDArray) w);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    @Override
    public void close() {
        state.close();
    }
}
