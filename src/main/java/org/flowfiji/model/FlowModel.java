package org.flowfiji.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.Indices;
import org.flowfiji.data.Normalizer;
import org.flowfiji.flow.FlowConfig;
import org.flowfiji.flow.FlowContext;
import org.flowfiji.flow.Flows;
import org.flowfiji.flow.ImageFlow;

/**
 * A flow with everything needed to use it on raw images: structure, intensity normaliser, input
 * spec (channels, bit depth, patch size, calibration), parameters on a device, training summary.
 *
 * <p>For raw intensities v of a plane with D = C*H*W elements, the model's log-density is
 * {@code log p(v) = log p_flow((v + u - offset) / scale) - D log(scale)}, with u the
 * dequantization offset (0.5 at evaluation for integer data, none for 32-bit data).
 * A model owns native memory: close it.
 */
public final class FlowModel implements AutoCloseable {

    private final FlowConfig config;
    private final Normalizer normalizer;
    private final int patchSize;
    private final int bitDepth;
    private final ImageData.Calibration calibration;
    private final TrainingSummary summary;
    private final NDManager manager;
    private final ImageFlow flow;
    private final Device device;

    private FlowModel(FlowConfig config, Normalizer normalizer, int patchSize, int bitDepth,
                      ImageData.Calibration calibration, TrainingSummary summary, NDManager manager, ImageFlow flow) {
        this.config = config;
        this.normalizer = normalizer;
        this.patchSize = patchSize;
        this.bitDepth = bitDepth;
        this.calibration = calibration == null ? ImageData.Calibration.NONE : calibration;
        this.summary = summary;
        this.manager = manager;
        this.flow = flow;
        this.device = manager.getDevice();
    }

    /**
     * A new, freshly initialised model (random parameters from {@code seed}) on a device.
     * Data-dependent initialisation is left to the trainer.
     */
    public static FlowModel create(FlowConfig config, Normalizer normalizer, int patchSize, int bitDepth,
                                   ImageData.Calibration calibration, long seed, Device device) {
        if (patchSize % config.sizeMultiple() != 0) {
            throw new IllegalArgumentException("patch size " + patchSize + " is not a multiple of 2^levels = "
                    + config.sizeMultiple() + ": choose a patch size like " + Indices.roundUp(patchSize, config.sizeMultiple()));
        }
        Engines.pytorch().setRandomSeed((int) seed);
        NDManager manager = Engines.pytorch().newBaseManager(device);
        try {
            ImageFlow flow = Flows.create(config, seed);
            flow.initialize(manager, DataType.FLOAT32, new Shape(1, config.channels(), patchSize, patchSize));
            return new FlowModel(config, normalizer, patchSize, bitDepth, calibration, null, manager, flow);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Loads and validates a {@code .flow} file on a device ("auto", "cpu", "gpu", "gpu:1"). */
    public static FlowModel load(Path file, String device) throws IOException {
        return ModelFile.read(file, Devices.select(device));
    }

    /** Writes this model atomically (temporary file in the same folder, then rename). */
    public void save(Path file) throws IOException {
        ModelFile.write(this, file);
    }

    /**
     * A view of the same parameters with a new training summary (what {@link #save} records). The
     * view shares this model's native memory: close only one of the two.
     */
    public FlowModel withSummary(TrainingSummary s) {
        return new FlowModel(config, normalizer, patchSize, bitDepth, calibration, s, manager, flow);
    }

    static FlowModel assemble(FlowConfig config, Normalizer normalizer, int patchSize, int bitDepth,
                              ImageData.Calibration calibration, TrainingSummary summary, Device device,
                              byte[] parameters, Path file) throws ModelFileException {
        NDManager manager = Engines.pytorch().newBaseManager(device);
        try {
            ImageFlow flow = Flows.create(config, 0);
            flow.initialize(manager, DataType.FLOAT32, new Shape(1, config.channels(), patchSize, patchSize));
            flow.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(parameters)));
            return new FlowModel(config, normalizer, patchSize, bitDepth, calibration, summary, manager, flow);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            manager.close();
            throw new ModelFileException(file, "the parameters do not match the architecture recorded in flow.json ("
                    + e.getMessage() + "). The file is damaged or was written by an incompatible version.", e);
        }
    }

    /** The parameters as DJL writes them. */
    public byte[] parameterBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            flow.saveParameters(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("could not serialise the model parameters", e);
        }
    }

    /** Replaces the parameters with ones from {@link #parameterBytes()} of a model of the same structure. */
    public void loadParameterBytes(byte[] bytes) {
        try {
            flow.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(bytes)));
        } catch (IOException | MalformedModelException e) {
            throw new IllegalStateException("could not restore the model parameters", e);
        }
    }

    /** An evaluation context on this model's parameters: no gradients, no training behaviour. */
    public FlowContext evalContext(NDManager scope, boolean wantMap) {
        return new FlowContext(new ParameterStore(scope, false), scope, false, wantMap);
    }

    public FlowConfig config() { return config; }
    public Normalizer normalizer() { return normalizer; }
    /** Side of the square training patches. */
    public int patchSize() { return patchSize; }
    /** Bit depth of the training data: 8, 16 or 32. */
    public int bitDepth() { return bitDepth; }
    public boolean isInteger() { return bitDepth != 32; }
    public int channels() { return config.channels(); }
    public ImageData.Calibration calibration() { return calibration; }
    /** How the model was trained, or null for a model not yet trained. */
    public TrainingSummary summary() { return summary; }
    public ImageFlow flow() { return flow; }
    public NDManager manager() { return manager; }
    public Device device() { return device; }

    @Override
    public void close() {
        manager.close();
    }
}
