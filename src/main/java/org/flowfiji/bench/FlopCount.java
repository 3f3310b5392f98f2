package org.flowfiji.bench;

import org.flowfiji.flow.FlowConfig;

/**
 * Multiply-adds of one density pass of a flow, counted analytically from its configuration.
 *
 * <p>Only the convolutions are counted (they are all but a fraction of a percent of the work):
 * a k x k convolution from {@code a} to {@code b} channels costs {@code k·k·a·b} multiply-adds per
 * output position. Elementwise layers (ActNorm, batch normalisation, squeezes, the affine maps of
 * the couplings, priors' elementwise terms, the likelihood map's bookkeeping) are left out, so the
 * GFLOP/s derived from these counts is a lower bound on the arithmetic actually done. One
 * multiply-add is two floating-point operations.
 *
 * <p>The layer structure follows {@code org.flowfiji.flow.Flows}:
 * <ul>
 *   <li>Glow, per level (after its squeeze, {@code c} channels, {@code H·W/4^(l+1)} positions):
 *       {@code steps} x [1x1 convolution c·c; conditioner conv3x3 (c/2 → hidden), conv1x1
 *       (hidden → hidden), conv3x3 (hidden → 2·(c - c/2), or c - c/2 when additive)]; after every
 *       level but the last a conditional split prior conv3x3 (kept → 2·(c - kept)) when priors are
 *       learned.</li>
 *   <li>RealNVP, per level ({@code H·W/4^l} positions): {@code steps} (last level: steps + 1)
 *       checkerboard couplings on c channels, then (not last) a squeeze and {@code steps} channel
 *       couplings on 4c channels; each coupling's ResNet conditioner is conv3x3 (in → hidden),
 *       {@code blocks} x 2 conv3x3 (hidden → hidden), conv3x3 (hidden → 2·out).</li>
 *   <li>IAF: per network pass of one step at c channels, conv3x3 (c → hidden), conv3x3
 *       (hidden → hidden), conv3x3 (hidden → 2c), computed densely (masked weights are zeros
 *       that still cost arithmetic).</li>
 * </ul>
 */
public final class FlopCount {

    private FlopCount() {}

    /** Multiply-adds of one density pass (Glow, RealNVP) over one C x H x W image. */
    public static double densityMultiplyAdds(FlowConfig c, long height, long width) {
        return switch (c.architecture()) {
            case GLOW -> glow(c, height, width);
            case REALNVP -> realNvp(c, height, width);
            case IAF -> throw new IllegalArgumentException(
                    "IAF's density pass is a sequential solve; count its network passes with iafPassMultiplyAdds");
        };
    }

    /** Multiply-adds of one network pass of every IAF step of every level over one C x H x W image. */
    public static double iafPassMultiplyAdds(FlowConfig c, long height, long width) {
        double total = 0;
        int ch = c.channels();
        double positions = (double) height * width;
        int hid = c.hidden();
        for (int l = 0; l < c.levels(); l++) {
            ch *= 4;
            positions /= 4;
            total += c.steps() * positions * 9.0 * ((double) ch * hid + (double) hid * hid + (double) hid * 2 * ch);
            if (l < c.levels() - 1) {
                ch = ch / 2;
            }
        }
        return total;
    }

    private static double glow(FlowConfig c, long height, long width) {
        double total = 0;
        int ch = c.channels();
        double positions = (double) height * width;
        int hid = c.hidden();
        for (int l = 0; l < c.levels(); l++) {
            ch *= 4;
            positions /= 4;
            int cond = ch / 2;
            int trans = ch - cond;
            int out = c.additiveCoupling() ? trans : 2 * trans;
            double perStep = (double) ch * ch + 9.0 * cond * hid + (double) hid * hid + 9.0 * hid * out;
            total += c.steps() * perStep * positions;
            if (l < c.levels() - 1) {
                int kept = ch / 2;
                if (c.learnedPrior()) {
                    total += 9.0 * kept * 2 * (ch - kept) * positions;
                }
                ch = kept;
            }
        }
        return total;
    }

    private static double realNvp(FlowConfig c, long height, long width) {
        double total = 0;
        int ch = c.channels();
        double positions = (double) height * width;
        int hid = c.hidden();
        for (int l = 0; l < c.levels(); l++) {
            boolean last = l == c.levels() - 1;
            int checker = last ? c.steps() + 1 : c.steps();
            total += checker * positions * resNet(c, ch, c.additiveCoupling() ? ch : 2 * ch, hid);
            if (!last) {
                ch *= 4;
                positions /= 4;
                for (int k = 0; k < c.steps(); k++) {
                    int first = ch / 2;
                    int cond = k % 2 == 1 ? ch - first : first;
                    int trans = ch - cond;
                    total += positions * resNet(c, cond, c.additiveCoupling() ? trans : 2 * trans, hid);
                }
                int kept = ch / 2;
                if (c.learnedPrior()) {
                    total += 9.0 * kept * 2 * (ch - kept) * positions;
                }
                ch = kept;
            }
        }
        return total;
    }

    private static double resNet(FlowConfig c, int in, int out, int hid) {
        return 9.0 * in * hid + c.blocks() * 2 * 9.0 * hid * hid + 9.0 * hid * out;
    }
}
