package org.flowfiji.flow;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A convolution and the ReLU after it as one call into libtorch, for passes that record no
 * gradients (maps, sampling, evaluation). DJL offers neither a convolution with a fused activation
 * nor an in-place ReLU, so each ReLU of a coupling network read one activation and wrote another
 * of the same size. libtorch can do both; the calls are reached through a small TorchScript
 * module that holds no parameters, written here as a module file in memory and loaded once per JVM:
 *
 * <ul>
 *   <li>{@code conv_relu}: the engine's convolution, then a ReLU in place over its fresh result
 *       (the same values as the convolution and a ReLU apart, on any device);</li>
 *   <li>{@code packed_conv_relu}: oneDNN's convolution with the ReLU applied as its result is
 *       written and the kernel reordered once for the input's shape (CPU only). For inputs of few
 *       channels this runs 1.3 to 2.7 times faster than the engine's convolution and ReLU, whose
 *       convolution picks a slower kernel for them (Glow's 2 → 64 over a band of 170 x 512: 1.8
 *       against 4.4-5.0 ms, see docs/benchmarks.md); it equals the convolution and ReLU up to the
 *       order of the sums (bit for bit in every case measured).</li>
 * </ul>
 *
 * DJL runs a module's methods in libtorch's inference mode: their results may be read by later
 * operations but neither changed in place nor kept for a backward pass. When the engine is not
 * PyTorch, records gradients, or the module cannot be loaded (a libtorch without these
 * operations), the convolution and ReLU run as two DJL operations, as in training.
 */
final class FusedConvolutions {

    /**
     * Input channels up to which a convolution on the CPU runs as {@code packed_conv_relu}; from 32
     * channels up oneDNN's kernel for the engine's convolution is as fast (measured: 16 → 64 8.5
     * against 11.2 ms, 32 → 32 and 64 → 64 even or slower).
     */
    static final int PACKED_MAX_CHANNELS = 16;

    /**
     * Positions (batch x rows x columns) from which {@code packed_conv_relu} pays for reordering
     * its kernel (on a 16 x 16 input it took 0.29 ms against 0.15 ms).
     */
    static final long PACKED_MIN_POSITIONS = 8_192;

    private static final String SIGNATURE =
            "(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor, padding: List[int]) -> Tensor:\n";

    /** TorchScript source of the module: two methods, no parameters. */
    static final String SOURCE = "class Kernels(Module):\n"
            + "  __parameters__ = []\n"
            + "  __buffers__ = []\n"
            + "  training : bool\n"
            + "  _is_full_backward_hook : Optional[bool]\n"
            + "  def conv_relu" + SIGNATURE
            + "    return torch.relu_(torch.conv2d(x, w, b, [1, 1], padding))\n"
            + "  def packed_conv_relu" + SIGNATURE
            + "    packed = ops.aten.mkldnn_reorder_conv2d_weight(torch.to_mkldnn(torch.contiguous(w)),"
            + " padding, [1, 1], [1, 1], 1, torch.size(x))\n"
            + "    return ops.mkldnn._convolution_pointwise(x, packed, b, padding, [1, 1], [1, 1], 1,"
            + " \"relu\", annotate(List[Optional[number]], []), None)\n";

    private static final Object LOCK = new Object();
    private static volatile PtSymbolBlock module;
    private static volatile boolean unavailable;
    private static volatile boolean packedUnavailable;

    private FusedConvolutions() {}

    /**
     * Whether x's convolutions and ReLUs run fused: the engine records no gradients (libtorch's
     * oneDNN operations have none) and x is a float32 array of the PyTorch engine whose module loaded.
     */
    static boolean applies(NDArray x) {
        return !unavailable && x instanceof PtNDArray && x.getDataType() == DataType.FLOAT32
                && !JniUtils.isGradMode() && module(x.getManager()) != null;
    }

    /**
     * relu(conv2d(x, w, b)) with stride 1 and the given row and column padding, in x's manager
     * (only where {@link #applies} holds). The result is laid out as the engine's convolution
     * leaves it (channels-last for channels-last kernels).
     */
    static NDArray convRelu(NDArray x, NDArray w, NDArray b, int rowPad, int columnPad) {
        // 1x1 convolutions of some widths run with more outputs (see Conv2dBlock.pointwiseOutputs)
        NDArray[] widened = Conv2dBlock.widenedPointwise(w, b);
        if (widened != null) {
            return Conv2dBlock.firstChannels(convRelu(x, widened[0], widened[1], rowPad, columnPad), w.getShape().get(0));
        }
        String method = packs(x, w) ? "packed_conv_relu" : "conv_relu";
        return run(module(x.getManager()), method, x, w, b, rowPad, columnPad);
    }

    /** Whether oneDNN's fused convolution ran when the module was loaded (it is not used otherwise). */
    static boolean packedAvailable() {
        return !packedUnavailable;
    }

    private static boolean packs(NDArray x, NDArray w) {
        long positions = x.getShape().get(0) * x.getShape().get(2) * x.getShape().get(3);
        return !packedUnavailable && x.getDevice().getDeviceType().equals(Device.Type.CPU)
                && w.getShape().get(1) <= PACKED_MAX_CHANNELS && positions >= PACKED_MIN_POSITIONS;
    }

    private static NDArray run(PtSymbolBlock m, String method, NDArray x, NDArray w, NDArray b, int rowPad,
                               int columnPad) {
        IValue[] args = {IValue.from((PtNDArray) x), IValue.from((PtNDArray) w), IValue.from((PtNDArray) b),
                IValue.listFrom(rowPad, columnPad)};
        try (IValue result = IValueUtils.runMethod(m, method, args)) {
            return result.toTensor((PtNDManager) x.getManager());
        } finally {
            for (IValue a : args) {
                a.close();
            }
        }
    }

    /**
     * The module, loaded on first use into a manager of its own kept for the JVM's life; null if it
     * cannot load. Loading also runs {@code packed_conv_relu} once on a small input: a libtorch
     * without oneDNN's operations fails there, and only {@code conv_relu} is used from then on.
     */
    private static PtSymbolBlock module(NDManager like) {
        PtSymbolBlock m = module;
        if (m != null || unavailable) return m;
        synchronized (LOCK) {
            if (module == null && !unavailable) {
                NDManager keep = like.getEngine().newBaseManager(Device.cpu());
                try {
                    PtSymbolBlock loaded = JniUtils.loadModule((PtNDManager) keep,
                            new ByteArrayInputStream(archive(SOURCE)), false, false);
                    packedUnavailable = !runsPacked(loaded, keep);
                    module = loaded;
                } catch (EngineException | IOException | UncheckedIOException e) {
                    unavailable = true;
                    keep.close();
                }
            }
            return module;
        }
    }

    private static boolean runsPacked(PtSymbolBlock m, NDManager manager) {
        try (NDManager probe = manager.newSubManager()) {
            run(m, "packed_conv_relu", probe.ones(new Shape(1, 2, 4, 4)), probe.ones(new Shape(4, 2, 3, 3)),
                    probe.zeros(new Shape(4)), 1, 1);
            return true;
        } catch (EngineException e) {
            return false;
        }
    }

    /**
     * A TorchScript module file (the zip that {@code torch.jit.save} writes) of a module named
     * {@code Kernels} with the given source, no parameters and no constants.
     */
    static byte[] archive(String source) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
                put(zip, "kernels/version", ascii("3\n"));
                // pickle (protocol 2) of an empty tuple
                put(zip, "kernels/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
                put(zip, "kernels/data.pkl", objectPickle());
                put(zip, "kernels/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Pickle (protocol 2) of the module object: an instance of {@code __torch__.Kernels} whose
     * state is {@code {"training": False, "_is_full_backward_hook": None}}.
     */
    private static byte[] objectPickle() throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[] {(byte) 0x80, 2, 'c'}); // PROTO 2, GLOBAL
        p.write(ascii("__torch__\nKernels\n"));
        p.write(new byte[] {')', (byte) 0x81, '}', '('}); // EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK
        binUnicode(p, "training");
        p.write((byte) 0x89); // NEWFALSE
        binUnicode(p, "_is_full_backward_hook");
        p.write(new byte[] {'N', 'u', 'b', '.'}); // NONE, SETITEMS, BUILD, STOP
        return p.toByteArray();
    }

    private static void binUnicode(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write('X');
        for (int i = 0; i < 4; i++) {
            p.write((b.length >>> (8 * i)) & 0xff);
        }
        p.write(b, 0, b.length);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
