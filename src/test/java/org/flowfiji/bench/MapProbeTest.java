package org.flowfiji.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class MapProbeTest {

    @Test
    void medianOfRepeatedMapsIgnoresOneSlowMap() {
        assertEquals(1.0, MapProbe.median(List.of(1.1, 0.9, 1.0, 3.0, 0.95)), 0);
        assertEquals(1.05, MapProbe.median(List.of(1.1, 3.0, 0.9, 1.0)), 1e-12);
        assertEquals(2.5, MapProbe.median(List.of(2.5)), 0);
    }

    @Test
    void deviationIsTheLargestRelativeDifferenceFromTheFirstSizeThatHasTheFigure() {
        JsonArray rows = new JsonArray();
        rows.add(row("error", 0));
        rows.add(row("relative_time_per_megapixel", 1.0));
        rows.add(row("relative_time_per_megapixel", 1.1));
        rows.add(row("relative_time_per_megapixel", 0.8));
        assertEquals(0.2, Benchmarks.maxDeviationFromFirst(rows, "relative_time_per_megapixel"), 1e-12);
        assertEquals(0, Benchmarks.maxDeviationFromFirst(rows, "seconds_per_megapixel"), 0);
    }

    private static JsonObject row(String key, double value) {
        JsonObject o = new JsonObject();
        o.addProperty(key, value);
        return o;
    }
}
