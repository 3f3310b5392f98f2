package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;

/**
 * An affine coupling layer: one part of the input passes unchanged and conditions an elementwise
 * affine map of the other part.
 *
 * <p>With conditioning part a, transformed part b and [t, r] = net(a):
 * <ul>
 *   <li>{@link Scale#SIGMOID} (Glow): {@code z_b = (x_b + t) · σ(r + 2)}, log-det map
 *       {@code log σ(r + 2)};</li>
 *   <li>{@link Scale#TANH} (RealNVP): {@code z_b = x_b · exp(s) + t} with {@code s = γ·tanh(r)},
 *       γ a learned per-channel scale (initially 1), log-det map {@code s};</li>
 *   <li>{@link Scale#ADDITIVE} (NICE): {@code z_b = x_b + t}, log-det 0 (the net outputs only t).</li>
 * </ul>
 * {@code z_a = x_a} with log-det map 0. Masks:
 * <ul>
 *   <li>{@link Mask#CHECKERBOARD}: a = pixels with (row + column) even (odd when {@code parity}),
 *       all channels; the net sees {@code m ⊙ x} and its outputs are used on the other pixels only;</li>
 *   <li>{@link Mask#CHANNEL}: a = the first ⌊C/2⌋ channels, b = the rest (swapped when
 *       {@code parity}); needs C ≥ 2.</li>
 * </ul>
 * Shapes: [B, C, H, W] in and out; the log-det map has the same shape, zero on the passed part.
 */
public final class AffineCoupling extends FlowBlock {

    private static final byte VERSION = 1;

    /** Which elements condition and which are transformed. */
    public enum Mask { CHECKERBOARD, CHANNEL }

    /** The form of the elementwise map. */
    public enum Scale { SIGMOID, TANH, ADDITIVE }

    /** The conditioner network. */
    public enum Net { GLOW, RESNET }

    private final int channels;
    private final Mask mask;
    private final boolean parity;
    private final Scale scale;
    private final int condChannels;
    private final int transChannels;
    private final CouplingNet net;
    private final Parameter tanhScale;
    private final Constants constants;

    /**
     * @param channels C
     * @param mask checkerboard or channel halves
     * @param parity swaps the roles of the two parts
     * @param scale sigmoid (Glow), tanh-bounded (RealNVP) or additive
     * @param net the conditioner's architecture
     * @param hidden the conditioner's hidden width
     * @param blocks residual blocks of a {@link Net#RESNET} conditioner (ignored for {@link Net#GLOW})
     * @param seed seed of the conditioner's initial weights
     */
    public AffineCoupling(int channels, Mask mask, boolean parity, Scale scale, Net net, int hidden, int blocks,
            long seed) {
        super(VERSION);
        if (channels < 1 || (mask == Mask.CHANNEL && channels < 2)) {
            throw new IllegalArgumentException(
                    "A " + mask + " coupling needs at least " + (mask == Mask.CHANNEL ? 2 : 1) + " channels, got "
                            + channels);
        }
        this.channels = channels;
        this.mask = mask;
        this.parity = parity;
        this.scale = scale;
        if (mask == Mask.CHECKERBOARD) {
            condChannels = channels;
            transChannels = channels;
        } else {
            int firstHalf = channels / 2;
            condChannels = parity ? channels - firstHalf : firstHalf;
            transChannels = channels - condChannels;
        }
        int out = scale == Scale.ADDITIVE ? transChannels : 2 * transChannels;
        CouplingNet n = net == Net.GLOW
                ? CouplingNet.glow(condChannels, hidden, out, seed)
                : CouplingNet.resNet(condChannels, hidden, out, blocks, seed);
        this.net = addChildBlock("net", n);
        constants = new Constants(n.getParameters().get(0).getValue());
        tanhScale = scale == Scale.TANH
                ? addParameter(Parameter.builder().setName("tanhScale").setType(Parameter.Type.WEIGHT)
                        .optShape(new Shape(1, transChannels, 1, 1)).optInitializer(Initializer.ONES).build())
                : null;
    }

    @Override
    public Step forward(FlowContext ctx, NDArray x) {
        return couple(ctx, x, true);
    }

    @Override
    public Step inverse(FlowContext ctx, NDArray z) {
        return couple(ctx, z, false);
    }

    private Step couple(FlowContext ctx, NDArray in, boolean forward) {
        Tensors.requireChannels("AffineCoupling", in, channels);
        if (mask == Mask.CHECKERBOARD) {
            NDArray m = checkerboard(ctx, in, parity);
            NDArray keep = in.mul(m);
            NDArray[] res = transform(ctx, in, net.apply(ctx, keep), forward);
            NDArray other = checkerboard(ctx, in, !parity);
            NDArray out = keep.add(res[0].mul(other));
            return Tensors.step(ctx, out, res[1].mul(other));
        }
        int firstHalf = channels / 2;
        NDList parts = in.split(new long[] {firstHalf}, 1);
        NDArray a = parity ? parts.get(1) : parts.get(0);
        NDArray b = parity ? parts.get(0) : parts.get(1);
        NDArray[] res = transform(ctx, b, net.apply(ctx, a), forward);
        NDArray out = parity ? NDArrays.concat(new NDList(res[0], a), 1) : NDArrays.concat(new NDList(a, res[0]), 1);
        // the passed part's log-det is zero: the sum comes from the transformed part alone
        NDArray map = null;
        if (ctx.wantMap()) {
            NDArray zeros = a.zerosLike();
            map = parity ? NDArrays.concat(new NDList(res[1], zeros), 1) : NDArrays.concat(new NDList(zeros, res[1]), 1);
        }
        return new Step(out, Tensors.perSample(res[1]), map);
    }

    /** The elementwise map of b given the net output h: {transformed b, per-element log-det}. */
    private NDArray[] transform(FlowContext ctx, NDArray b, NDArray h, boolean forward) {
        if (scale == Scale.ADDITIVE) {
            NDArray out = forward ? b.add(h) : b.sub(h);
            return new NDArray[] {out, b.zerosLike()};
        }
        NDList tr = h.split(2, 1);
        NDArray t = tr.get(0);
        NDArray r = tr.get(1);
        if (scale == Scale.SIGMOID) {
            NDArray pre = r.add(2);
            NDArray logSig = Activation.softPlus(pre.neg()).neg();
            NDArray sig = Activation.sigmoid(pre);
            if (forward) {
                return new NDArray[] {b.add(t).mul(sig), logSig};
            }
            return new NDArray[] {b.div(sig).sub(t), logSig.neg()};
        }
        NDArray s = r.tanh().mul(Tensors.value(ctx, tanhScale, b));
        if (forward) {
            return new NDArray[] {b.mul(s.exp()).add(t), s};
        }
        return new NDArray[] {b.sub(t).mul(s.neg().exp()), s.neg()};
    }

    /** The checkerboard mask [1, 1, H, W]: 1 where (row + column) is odd when {@code odd}, else even. */
    private NDArray checkerboard(FlowContext ctx, NDArray like, boolean odd) {
        int h = (int) like.getShape().get(2);
        int w = (int) like.getShape().get(3);
        int want = odd ? 1 : 0;
        return constants.get(ctx, like, odd ? "odd" : "even", new Shape(1, 1, h, w), () -> {
            double[] m = new double[h * w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    m[y * w + x] = (y + x) % 2 == want ? 1 : 0;
                }
            }
            return m;
        });
    }
}
