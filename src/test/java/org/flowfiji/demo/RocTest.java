package org.flowfiji.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RocTest {

    private static List<float[]> planes(float... v) {
        return List.of(v);
    }

    @Test
    void perfectReversedAndChance() {
        List<float[]> mask = planes(0, 0, 255, 255);
        assertEquals(1.0, Roc.of(planes(0.1f, 0.2f, 0.8f, 0.9f), mask).auc(), 0);
        assertEquals(0.0, Roc.of(planes(0.9f, 0.8f, 0.2f, 0.1f), mask).auc(), 0);
        assertEquals(0.5, Roc.of(planes(1, 1, 1, 1), mask).auc(), 0);
    }

    @Test
    void tiesCountHalfAndCurveEndsAtOne() {
        // positives 0.5, 0.9; negatives 0.5, 0.1: pairs (0.5 vs 0.5) = 1/2, others won -> 3.5 / 4
        Roc r = Roc.of(planes(0.5f, 0.9f, 0.5f, 0.1f), planes(255, 255, 0, 0));
        assertEquals(0.875, r.auc(), 1e-12);
        assertEquals(0.0, r.falsePositiveRate()[0]);
        assertEquals(1.0, r.falsePositiveRate()[r.falsePositiveRate().length - 1]);
        assertEquals(1.0, r.truePositiveRate()[r.truePositiveRate().length - 1]);
        assertEquals(2, r.positives());
        assertEquals(2, r.negatives());
    }

    @Test
    void matchesPairCountingOnRandomDataAcrossPlanes() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] s1 = new float[300], s2 = new float[200], m1 = new float[300], m2 = new float[200];
        for (int i = 0; i < 300; i++) {
            m1[i] = rnd.nextInt(4) == 0 ? 255 : 0;
            s1[i] = (float) rnd.nextInt(20) + (m1[i] > 0 ? 3 : 0);
        }
        for (int i = 0; i < 200; i++) {
            m2[i] = rnd.nextInt(5) == 0 ? 1 : 0;
            s2[i] = (float) rnd.nextInt(20) + (m2[i] > 0 ? 2 : 0);
        }
        float[] s = new float[500], m = new float[500];
        System.arraycopy(s1, 0, s, 0, 300);
        System.arraycopy(s2, 0, s, 300, 200);
        System.arraycopy(m1, 0, m, 0, 300);
        System.arraycopy(m2, 0, m, 300, 200);
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < 500; i++) {
            if (m[i] <= 0) continue;
            for (int j = 0; j < 500; j++) {
                if (m[j] > 0) continue;
                pairs++;
                wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
            }
        }
        assertEquals(wins / pairs, Roc.of(List.of(s1, s2), List.of(m1, m2)).auc(), 1e-12);
    }

    @Test
    void nonFiniteScoresRankLowest() {
        Roc r = Roc.of(planes(Float.NaN, 0.2f, 0.3f), planes(0, 255, 0));
        assertEquals(0.5, r.auc(), 1e-12);
    }

    @Test
    void undefinedWithoutBothClasses() {
        assertThrows(IllegalArgumentException.class, () -> Roc.of(planes(1, 2), planes(0, 0)));
        assertThrows(IllegalArgumentException.class, () -> Roc.of(planes(1, 2), List.of()));
        assertThrows(IllegalArgumentException.class, () -> Roc.of(planes(1, 2), planes(0, 1, 1)));
    }

    @Test
    void curveIsMonotone() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] s = new float[5000], m = new float[5000];
        for (int i = 0; i < s.length; i++) {
            m[i] = rnd.nextInt(10) == 0 ? 1 : 0;
            s[i] = (float) rnd.nextDouble();
        }
        Roc r = Roc.of(List.of(s), List.of(m));
        assertEquals(Roc.MAX_POINTS, r.falsePositiveRate().length);
        for (int i = 1; i < r.falsePositiveRate().length; i++) {
            assertEquals(true, r.falsePositiveRate()[i] >= r.falsePositiveRate()[i - 1]);
            assertEquals(true, r.truePositiveRate()[i] >= r.truePositiveRate()[i - 1]);
        }
        assertArrayEquals(new double[] {0, 0}, new double[] {r.falsePositiveRate()[0], r.truePositiveRate()[0]});
    }
}
