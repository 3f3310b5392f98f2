package org.flowfiji.flow;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.io.DataInputStream;
import java.io.IOException;

/**
 * Base class of every flow layer: a DJL block whose DJL forward pass is the flow's
 * {@link FlowLayer#forward density direction}.
 *
 * <p>As a DJL {@link Block}, {@code forward(parameterStore, [x], training)} returns
 * {@code [z, logdet]} with x and z NCHW and logdet of shape [B]. All parameter shapes are fixed
 * when a layer is constructed (they depend on the channel count only, never on the image size),
 * so {@link #initialize} accepts any NCHW input shape with the right channel count. Subclasses
 * that change the tensor shape (a squeeze) override {@link #outputShape}.
 */
public abstract class FlowBlock extends AbstractBlock implements FlowLayer {

    /**
     * @param version the block's serialisation version, checked when parameters are loaded
     */
    protected FlowBlock(byte version) {
        super(version);
    }

    /** The forward (data to latent) output shape for an NCHW input shape; the same shape by default. */
    public Shape outputShape(Shape input) {
        return input;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        Step s = forward(new FlowContext(parameterStore, x.getManager(), training, false), x);
        return new NDList(s.out(), s.logdet());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {outputShape(inputShapes[0]), new Shape(inputShapes[0].get(0))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, inputShapes);
        }
    }

    /** Rejects parameters written by a different version of this layer. */
    protected final void checkVersion(byte loadVersion) throws MalformedModelException {
        if (loadVersion != version) {
            throw new MalformedModelException("Cannot load parameters of " + getClass().getSimpleName()
                    + ": file has version " + loadVersion + ", this software reads version " + version);
        }
    }

    /** Reads the metadata the base class writes (the input shapes) after checking the version. */
    protected final void loadBaseMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        checkVersion(loadVersion);
        readInputShapes(is);
    }
}
