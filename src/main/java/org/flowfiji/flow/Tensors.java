package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;

/**
 * Small tensor helpers shared by the flow layers: parameter access on the input's device and
 * data type, per-sample sums and log-determinant bookkeeping.
 *
 * <p>Memory rule: every temporary array of a pass lives in the pass's manager
 * ({@link FlowContext#manager()}); parameter values are handed out as views attached to it, so no
 * expression ever attaches its result to the parameters' long-lived manager.
 */
final class Tensors {

    private Tensors() {}

    /**
     * The value of a parameter for a pass over {@code like}: taken from the context's parameter
     * store on {@code like}'s device and converted to {@code like}'s data type (so a float64 input
     * runs the whole layer in float64 while the stored parameters stay float32).
     */
    static NDArray value(FlowContext ctx, Parameter p, NDArray like) {
        NDArray v = ctx.parameters().getValue(p, like.getDevice(), ctx.training());
        NDArray view = v.getDataType() == like.getDataType()
                ? v.reshape(v.getShape())
                : v.toType(like.getDataType(), true);
        view.attach(ctx.manager());
        return view;
    }

    /**
     * The parameter's own array when it already has {@code like}'s device and data type (otherwise
     * the converted copy of {@link #value}), without the view {@link #value} makes: one operation
     * and one autograd node less per use. Only for places where no result attaches to the array's
     * manager: a convolution's weight and bias (results go to the input's manager) or the second
     * operand of an elementwise operation.
     */
    static NDArray operand(FlowContext ctx, Parameter p, NDArray like) {
        NDArray v = ctx.parameters().getValue(p, like.getDevice(), ctx.training());
        return v.getDataType() == like.getDataType() ? v : value(ctx, p, like);
    }

    /**
     * {@code x} itself when it lives in the pass's manager, otherwise a view of it attached there
     * (gradients still flow to x), so that everything computed from it stays in the pass's scope.
     */
    static NDArray inScope(FlowContext ctx, NDArray x) {
        if (x.getManager() == ctx.manager()) {
            return x;
        }
        NDArray view = x.reshape(x.getShape());
        view.attach(ctx.manager());
        return view;
    }

    /**
     * relu(pre), with pre's handle released: a backward pass needs only the ReLU's result, so
     * pre's memory is reused as soon as nothing else holds it.
     */
    static NDArray reluReleasing(NDArray pre) {
        NDArray r = Activation.relu(pre);
        pre.close();
        return r;
    }

    /** Sums every non-batch axis: [B, ...] to [B]. */
    static NDArray perSample(NDArray a) {
        long b = a.getShape().get(0);
        return a.reshape(b, -1).sum(new int[] {1});
    }

    /** Rearranges [B, C, H, W] to [C, B·H·W], for per-channel statistics. */
    static NDArray channelsFirst(NDArray x) {
        return x.transpose(1, 0, 2, 3).reshape(x.getShape().get(1), -1);
    }

    /** Zeros of shape [B] with {@code like}'s batch size, device and data type. */
    static NDArray zerosPerSample(FlowContext ctx, NDArray like) {
        return ctx.manager()
                .zeros(new Shape(like.getShape().get(0)), like.getDataType())
                .toDevice(like.getDevice(), false);
    }

    /**
     * A step whose log-determinant is given per element by {@code map} (shape of {@code out}):
     * logdet = sum of the map per sample; the map itself is kept only when the context asks for it.
     */
    static Step step(FlowContext ctx, NDArray out, NDArray map) {
        return new Step(out, perSample(map), ctx.wantMap() ? map : null);
    }

    /**
     * A step whose log-determinant is a per-channel constant {@code logScale} [1, C, 1, 1] at every
     * position: logdet = H·W·Σ_c logScale_c, map = logScale broadcast to the shape of {@code out}
     * (a view), map sum Σ_c logScale_c.
     */
    static Step perChannelStep(FlowContext ctx, NDArray out, NDArray logScale) {
        Shape s = out.getShape();
        NDArray total = logScale.sum();
        NDArray logdet = total.mul(s.get(2) * s.get(3)).broadcast(new Shape(s.get(0)));
        if (!ctx.wantMap()) {
            return new Step(out, logdet, null);
        }
        return new Step(out, logdet, logScale.broadcast(s), total.reshape(1, 1, 1));
    }

    /** A step with zero log-determinant (volume-preserving layers); map sum 0. */
    static Step volumePreserving(FlowContext ctx, NDArray out) {
        NDArray logdet = zerosPerSample(ctx, out);
        if (!ctx.wantMap()) {
            return new Step(out, logdet, null);
        }
        return new Step(out, logdet, out.zerosLike(), logdet.get(0).reshape(1, 1, 1));
    }

    /**
     * Overwrites a parameter's values in place (no gradient recorded): the parameter's own array
     * and, when the pass's parameter store holds a mirror on {@code like}'s device, that mirror too.
     */
    static void overwrite(FlowContext ctx, Parameter p, NDArray like, double[] values) {
        NDArray master = p.getArray();
        overwrite(master, values);
        NDArray mirror = ctx.parameters().getValue(p, like.getDevice(), ctx.training());
        if (mirror != master) {
            overwrite(mirror, values);
        }
    }

    /** Overwrites the values of {@code target} in place (no gradient recorded) with {@code values}. */
    static void overwrite(NDArray target, double[] values) {
        if (target.size() != values.length) {
            throw new IllegalArgumentException(
                    "Cannot overwrite " + target.getShape() + " with " + values.length + " values");
        }
        if (target.getDataType() == DataType.FLOAT64) {
            target.set(values.clone());
        } else if (target.getDataType() == DataType.FLOAT32) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            target.set(f);
        } else {
            throw new IllegalArgumentException("Parameters must be float32 or float64, got " + target.getDataType());
        }
    }

    /** Reads any float array as doubles (the conversion's temporary is closed at once). */
    static double[] doubles(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        try (NDArray converted = a.toType(DataType.FLOAT64, true)) {
            return converted.toDoubleArray();
        }
    }

    /** Checks that {@code x} is NCHW with {@code channels} channels. */
    static void requireChannels(String layer, NDArray x, int channels) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != channels) {
            throw new IllegalArgumentException(
                    layer + " expects NCHW input with " + channels + " channels, got shape " + s);
        }
    }
}
