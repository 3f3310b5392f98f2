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

    /** Applies the convolution to x [B, in, H, W], giving [B, out, H, W]. */
    NDArray apply(FlowContext ctx, NDArray x) {
        Tensors.requireChannels("Convolution", x, in);
        // the convolution's result attaches to x's manager, so the parameters need no views
        NDArray w = Tensors.operand(ctx, weight, x);
        NDArray b = Tensors.operand(ctx, bias, x);
        int pad = kernel / 2;
        return Conv2d.conv2d(x, w, b, new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1).singletonOrThrow();
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
