package org.flowfiji.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The architectures have the structure their documentation describes, sized by the configuration. */
class FlowsTest {

    private static String kinds(List<FlowBlock> level) {
        return level.stream().map(b -> {
            if (b instanceof AffineCoupling) {
                return "C";
            }
            if (b instanceof BatchNormFlow) {
                return "B";
            }
            if (b instanceof ActNorm) {
                return "A";
            }
            if (b instanceof Squeeze) {
                return "S";
            }
            if (b instanceof InvertibleConv1x1) {
                return "W";
            }
            return "?";
        }).collect(Collectors.joining());
    }

    @Test
    void realNvpHasCheckerboardSqueezeChannelPerScaleAndMoreCheckerboardsLast() {
        FlowConfig config = new FlowConfig(Architecture.REALNVP, 1, 3, 2, 4, 1, false, false, false);
        MultiScaleFlow flow = Flows.realNvp(config, 1);
        List<List<FlowBlock>> levels = flow.levels();
        assertEquals(3, levels.size());
        assertEquals("CBCBSCBCB", kinds(levels.get(0)));
        assertEquals("CBCBSCBCB", kinds(levels.get(1)));
        assertEquals("CBCBCB", kinds(levels.get(2)));
        FlowConfig withActNorm = new FlowConfig(Architecture.REALNVP, 1, 2, 1, 4, 1, false, false, true);
        assertEquals("CASCA", kinds(Flows.realNvp(withActNorm, 1).levels().get(0)));
    }

    @Test
    void glowHasSqueezeThenStepsOfActNormConvolutionCoupling() {
        FlowConfig config = new FlowConfig(Architecture.GLOW, 3, 2, 3, 4, 1, false, true, true);
        MultiScaleFlow flow = Flows.glow(config, 1);
        assertEquals(2, flow.levels().size());
        for (List<FlowBlock> level : flow.levels()) {
            assertEquals("SAWCAWCAWC", kinds(level));
        }
        assertTrue(flow.getChildren().keys().stream().anyMatch(k -> k.contains("split0")));
        assertEquals(config, flow.config());
    }
}
