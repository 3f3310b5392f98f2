package org.flowfiji.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class MapProbeTest {

    @Test
    void medianOfRepeatedMapsIgnoresOneSlowMap() {
        assertEquals(1.0, MapProbe.median(List.of(1.1, 0.9, 1.0, 3.0, 0.95)), 0);
        assertEquals(1.05, MapProbe.median(List.of(1.1, 3.0, 0.9, 1.0)), 1e-12);
        assertEquals(2.5, MapProbe.median(List.of(2.5)), 0);
    }
}
