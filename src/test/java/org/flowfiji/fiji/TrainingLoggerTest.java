package org.flowfiji.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.flowfiji.ops.TrainingListener.TrainingStatus;
import org.junit.jupiter.api.Test;

/** The headless training log line and the loss plot's tick values. */
class TrainingLoggerTest {

    @Test
    void logLineHasIterationBitsPerDimAndTimeLeft() {
        assertEquals("Flow training: iteration 200/2000  train 6.4123 bits/dim  validation 6.4410 bits/dim  elapsed 0:41  left 6:09",
                TrainingLogger.line(new TrainingStatus(200, 2000, 6.41234, 6.441, 41.2, 369)));
        assertEquals("Flow training: iteration 7  train 3.0000 bits/dim  elapsed 1:00:00  left ?",
                TrainingLogger.line(new TrainingStatus(7, -1, 3, Double.NaN, 3600, Double.NaN)));
    }

    @Test
    void durations() {
        assertEquals("0:00", TrainingLogger.formatDuration(0.2));
        assertEquals("2:05", TrainingLogger.formatDuration(125));
        assertEquals("1:02:03", TrainingLogger.formatDuration(3723));
        assertEquals("?", TrainingLogger.formatDuration(Double.POSITIVE_INFINITY));
    }

    @Test
    void plotTicksAreRoundNumbers() {
        assertEquals(List.of(0.0, 200.0, 400.0, 600.0, 800.0, 1000.0), LossPlot.ticks(0, 1000, 4));
        List<Double> t = LossPlot.ticks(6.03, 6.87, 6);
        assertEquals(6.2, t.get(1), 1e-12);
        assertEquals(0.1, t.get(1) - t.get(0), 1e-12);
        assertEquals(List.of(), LossPlot.ticks(1, 1, 5));
    }
}
