package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * A same-padded 2-D convolution with bias, used inside coupling networks and priors.
 *
 * <p>{@code y = w * x + b}: x [B, in, H, W], weight [out, in, k, k], bias [out], y [B, out, H, W]
 * (stride 1, padding k/2, k odd). The weight starts either at N(0, 1/(in·k·k)) from a seed or at
 * zero (a zero-initialised last layer makes a coupling start as the identity).
 */
final class Conv2dBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int in;
    private final int out;
    private final int kernel;
    private final Parameter weight;
    private final Parameter bias;

    Conv2dBlock(int in, int out, int kernel, boolean zeroInit, long seed) {
        super(VERSION);
        if (in < 1 || out < 1 || kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException(
                    "Convolution needs positive channel counts and an odd kernel, got in=" + in + " out=" + out
                            + " kernel=" + kernel);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        Initializer w = zeroInit ? Initializer.ZEROS : Init.normal(Math.sqrt(1.0 / (in * kernel * kernel)), seed);
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(out, in, kernel, kernel)).optInitializer(w).build());
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(out)).optInitializer(Initializer.ZEROS).build());
    }

    /**
     * Applies the convolution to x [B, in, H, W], giving [B, out, H, W] in the standard
     * (row-major NCHW) layout.
     */
    NDArray apply(FlowContext ctx, NDArray x) {
        return standardLayout(applyChannelsLast(ctx, x, weight(ctx, x)));
    }

    /**
     * The weight [out, in, k, k] as an array of the pass's scope whose memory is laid out
     * channels-last ([out, k, k, in] in memory), computed from the parameter (gradients flow back
     * to it). Given such a weight, the engine runs the convolution channels-last: a
     * channels-first input is reordered once inside the convolution, a channels-last input not at
     * all, and the result is channels-last. At the few to tens of channels of coupling networks
     * this runs the oneDNN kernels 1.3 to 2 times faster than the channels-first layout, whose
     * every convolution reorders its input and output (docs/benchmarks.md).
     */
    NDArray weight(FlowContext ctx, NDArray like) {
        return channelsLast(Tensors.inScope(ctx, Tensors.operand(ctx, weight, like)));
    }

    /**
     * w [out, in, k, k] copied into channels-last memory order ([out, k, k, in] in memory), same
     * shape and values; the copy belongs to w's manager and carries w's gradient.
     */
    static NDArray channelsLast(NDArray w) {
        Shape s = w.getShape();
        // a permuted view cannot be flattened in place, so this reshape copies into [out, k, k, in] order
        return w.transpose(0, 2, 3, 1).reshape(s.get(0), -1)
                .reshape(s.get(0), s.get(2), s.get(3), s.get(1)).transpose(0, 3, 1, 2);
    }

    /**
     * The convolution with a weight from {@link #weight}: [B, out, H, W] as the engine leaves it
     * (channels-last in memory on the CPU), for the next convolution or elementwise operation.
     */
    NDArray applyChannelsLast(FlowContext ctx, NDArray x, NDArray w) {
        Tensors.requireChannels("Convolution", x, in);
        // the convolution's result attaches to x's manager
        NDArray b = Tensors.operand(ctx, bias, x);
        int pad = kernel / 2;
        return Conv2d.conv2d(x, w, b, new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1).singletonOrThrow();
    }

    /**
     * y with the same shape and values in row-major [B, C, H, W] memory order: a copy when y is
     * laid out otherwise (flattening a permuted layout cannot be a view), y's own memory when
     * it already is.
     */
    static NDArray standardLayout(NDArray y) {
        Shape s = y.getShape();
        return y.reshape(s.get(0), -1).reshape(s);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        return new NDList(apply(new FlowContext(parameterStore, x.getManager(), training, false), x));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), out, s.get(2), s.get(3))};
    }
}
