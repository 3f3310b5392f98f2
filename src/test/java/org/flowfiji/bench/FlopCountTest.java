package org.flowfiji.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.flowfiji.flow.Architecture;
import org.flowfiji.flow.FlowConfig;
import org.junit.jupiter.api.Test;

/** The analytic multiply-add counts against hand-counted small configurations. */
class FlopCountTest {

    @Test
    void glowOneLevel() {
        // 1 channel, 8x8 image, one level: squeeze to 4 channels on 4x4 = 16 positions; 2 steps of
        // 1x1 conv 4*4, conv3x3 2->h, conv1x1 h->h, conv3x3 h->4 (2 * (4 - 2)); no split at the last level.
        FlowConfig c = new FlowConfig(Architecture.GLOW, 1, 1, 2, 8, 1, false, true, true);
        double perStep = 16 + 9 * 2 * 8 + 8 * 8 + 9 * 8 * 4;
        assertEquals(2 * perStep * 16, FlopCount.densityMultiplyAdds(c, 8, 8), 1e-9);
    }

    @Test
    void glowSplitPriorCounted() {
        FlowConfig two = new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, true, true);
        FlowConfig standard = new FlowConfig(Architecture.GLOW, 1, 2, 1, 4, 1, false, false, true);
        // the conditional prior after level 0: conv3x3 from 2 kept to 2 * 2 channels on 4x4 positions of an 8x8 image
        assertEquals(9 * 2 * 4 * 16, FlopCount.densityMultiplyAdds(two, 8, 8) - FlopCount.densityMultiplyAdds(standard, 8, 8), 1e-9);
    }

    @Test
    void realNvpOneLevel() {
        // one level = steps + 1 checkerboard couplings on 1 channel; ResNet: conv3x3 1->h, blocks*2 conv3x3 h->h, conv3x3 h->2
        FlowConfig c = new FlowConfig(Architecture.REALNVP, 1, 1, 1, 4, 1, false, false, false);
        double perCoupling = 9 * 4 + 2 * 9 * 16 + 9 * 4 * 2;
        assertEquals(2 * perCoupling * 64, FlopCount.densityMultiplyAdds(c, 8, 8), 1e-9);
    }
}
