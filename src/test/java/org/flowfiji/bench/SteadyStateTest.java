package org.flowfiji.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SteadyStateTest {

    /** Marks of iterations 1..n ending at the given times. */
    private static List<long[]> marks(long... times) {
        List<long[]> m = new ArrayList<>();
        for (int i = 0; i < times.length; i++) m.add(new long[] {i + 1, times[i]});
        return m;
    }

    @Test
    void timingStartsAtTheFirstIterationEndingAfterTheWarmUpShare() {
        // span 0..100: the first fifth ends at 20; iteration 4 (t = 25) is the first to end after it
        List<long[]> m = marks(0, 10, 15, 25, 40, 60, 80, 100);
        assertArrayEquals(new long[] {4, 25}, Benchmarks.steadyStateStart(m, 3, 0.2));
    }

    @Test
    void atLeastTheWarmUpIterationsAreLeftOut() {
        // the share alone would start at iteration 2; the warm-up iterations push it to 5
        List<long[]> m = marks(0, 50, 60, 70, 80, 90, 100);
        assertArrayEquals(new long[] {5, 80}, Benchmarks.steadyStateStart(m, 5, 0.2));
    }

    @Test
    void noSteadyStateWhenNothingIsLeftToTime() {
        assertNull(Benchmarks.steadyStateStart(marks(0), 1, 0.2));
        assertNull(Benchmarks.steadyStateStart(marks(0, 100), 3, 0.2));
        assertNull(Benchmarks.steadyStateStart(marks(0, 5, 100), 1, 0.5));
    }
}
