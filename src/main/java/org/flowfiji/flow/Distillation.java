package org.flowfiji.flow;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;

/**
 * Trains a student flow (an {@link IafFlow}) to match a trained teacher flow (RealNVP or Glow) by
 * minimising the reverse Kullback-Leibler divergence on the student's own samples.
 *
 * <p><b>Loss.</b> With x_b = student sample b (drawn with gradients: {@code x = f(z)},
 * {@code z ~ N(0, I)}, through the student's parallel sampling direction) and its log-density
 * {@code log q(x_b)} from the same pass,
 * <pre>  L = (1/B) Σ_b [log q(x_b) - log p_teacher(x_b)] / D   (nats per dimension, D = C·H·W),</pre>
 * an unbiased estimate of {@code KL(q || p_teacher) / D}. Everything is parallel: the student
 * never runs its sequential density direction. The teacher is scored in evaluation mode
 * (no data-dependent initialisation, running batch statistics); its parameters are frozen when the
 * distillation is created (no gradient is recorded for them), but the gradient flows through
 * {@code x} into the student. The teacher's density pass must be built of differentiable tensor
 * operations, as RealNVP's and Glow's are (an IAF teacher's sequential solve is not).
 *
 * <p><b>Shapes.</b> Samples [B, C, H, W] with H and W multiples of both flows' {@code 2^levels};
 * the loss is a scalar.
 */
public final class Distillation {

    private final ImageFlow student;
    private final ImageFlow teacher;

    /**
     * Pairs a student with a teacher; freezes the teacher's parameters.
     *
     * @param student the flow being trained (initialised, same channel count as the teacher)
     * @param teacher the trained flow it learns from
     */
    public Distillation(ImageFlow student, ImageFlow teacher) {
        if (student == null || teacher == null) {
            throw new IllegalArgumentException("Distillation needs both a student and a teacher flow");
        }
        if (student.config().channels() != teacher.config().channels()) {
            throw new IllegalArgumentException("Student and teacher must model the same channels: student has "
                    + student.config().channels() + ", teacher " + teacher.config().channels());
        }
        this.student = student;
        this.teacher = teacher;
        teacher.freezeParameters(true);
    }

    /**
     * One loss estimate and what it was computed from.
     *
     * @param loss the reverse-KL estimate in nats per dimension, a scalar
     * @param sample the student's samples and their {@code log q} [B]
     * @param teacherLogProb {@code log p_teacher} of the samples [B]
     */
    public record Estimate(NDArray loss, Sample sample, NDArray teacherLogProb) {}

    /**
     * Draws {@code batch} student samples and estimates the loss. Run it with
     * {@code ctx.training()} inside a gradient collector to train the student.
     */
    public Estimate estimate(FlowContext ctx, int batch, int height, int width) {
        Sample s = student.sample(ctx.withMap(false), batch, height, width, 1f);
        FlowContext scoring = new FlowContext(ctx.parameters(), ctx.manager(), false, false);
        NDArray logP = teacher.forward(scoring, s.x()).logLikelihood();
        long d = s.x().getShape().size(1, 2, 3);
        NDArray loss = s.logProb().sub(logP).mean().div(d);
        return new Estimate(loss, s, logP);
    }

    /**
     * One optimisation step: a loss estimate with gradients, backpropagation, an update of every
     * student parameter by {@code optimizer}, gradients reset.
     *
     * @param ps the parameter store of the pass
     * @param manager parent scope; the step's arrays live in a sub-manager closed before returning
     * @return the loss before the update, in nats per dimension
     */
    public double step(ParameterStore ps, NDManager manager, Optimizer optimizer, int batch, int height, int width) {
        double value;
        try (NDManager sub = manager.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = estimate(new FlowContext(ps, sub, true, false), batch, height, width).loss();
                value = loss.toType(DataType.FLOAT64, false).getDouble();
                gc.backward(loss);
            }
            for (Pair<String, Parameter> p : student.getParameters()) {
                NDArray w = p.getValue().getArray();
                if (!p.getValue().requiresGradient() || !w.hasGradient()) {
                    continue;
                }
                NDArray grad = w.getGradient();
                grad.attach(sub);
                optimizer.update(p.getValue().getId(), w, grad);
                grad.subi(grad);
            }
        }
        if (!Double.isFinite(value)) {
            throw new ArithmeticException("Distillation loss is not finite (" + value
                    + "): lower the learning rate or check the teacher");
        }
        return value;
    }
}
