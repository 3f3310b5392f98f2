package org.flowfiji.demo;

import java.util.Arrays;
import java.util.List;

/**
 * Pixel-level receiver operating characteristic of an anomaly score against a ground-truth mask.
 *
 * <p>Pixels whose mask value is above zero are the positives (anomalous), the others negatives.
 * The area under the curve is the probability that a random anomalous pixel scores higher than a
 * random normal one, ties counting one half (the Mann-Whitney statistic), computed exactly in one
 * pass over the pixels sorted by score. Non-finite scores rank lowest.
 *
 * @param auc area under the ROC curve, in [0, 1]; 0.5 is chance
 * @param falsePositiveRate curve abscissae, from 0 to 1 (one point per distinct score, thinned)
 * @param truePositiveRate curve ordinates
 * @param positives anomalous pixels
 * @param negatives normal pixels
 */
public record Roc(double auc, double[] falsePositiveRate, double[] truePositiveRate, long positives, long negatives) {

    /** Curve points kept at most (the AUC always uses every pixel). */
    static final int MAX_POINTS = 400;

    /**
     * The ROC of {@code scores} (higher = more anomalous) against {@code masks}, pooled over all
     * planes; planes pair up by index and must have equal lengths.
     *
     * @throws IllegalArgumentException when the sizes differ or the mask has no positive or no
     *     negative pixel (the AUC is then undefined)
     */
    public static Roc of(List<float[]> scores, List<float[]> masks) {
        if (scores.size() != masks.size()) {
            throw new IllegalArgumentException("the score has " + scores.size() + " planes but the mask has " + masks.size());
        }
        int n = 0;
        for (int p = 0; p < scores.size(); p++) {
            if (scores.get(p).length != masks.get(p).length) {
                throw new IllegalArgumentException("plane " + (p + 1) + ": score and mask sizes differ");
            }
            n += scores.get(p).length;
        }
        double[] s = new double[n];
        boolean[] pos = new boolean[n];
        int k = 0;
        long positives = 0;
        for (int p = 0; p < scores.size(); p++) {
            float[] sc = scores.get(p);
            float[] m = masks.get(p);
            for (int i = 0; i < sc.length; i++, k++) {
                s[k] = Float.isFinite(sc[i]) ? sc[i] : Double.NEGATIVE_INFINITY;
                pos[k] = m[i] > 0;
                if (pos[k]) positives++;
            }
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            throw new IllegalArgumentException("the ROC needs both anomalous and normal pixels in the mask (it has "
                    + positives + " anomalous and " + negatives + " normal)");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(s[b], s[a]));
        // walk from the highest score down; ties form one step of the curve
        long tp = 0, fp = 0;
        double[] fpr = new double[n + 1];
        double[] tpr = new double[n + 1];
        int points = 1;
        double aucTimesPN = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            long tieP = 0, tieN = 0;
            while (j < n && s[order[j]] == s[order[i]]) {
                if (pos[order[j]]) tieP++;
                else tieN++;
                j++;
            }
            // each negative in this tie group is beaten by all positives above it, half of the tied ones
            aucTimesPN += tieN * (tp + 0.5 * tieP);
            tp += tieP;
            fp += tieN;
            fpr[points] = fp / (double) negatives;
            tpr[points] = tp / (double) positives;
            points++;
            i = j;
        }
        double auc = aucTimesPN / ((double) positives * negatives);
        return new Roc(auc, thin(fpr, points), thin(tpr, points), positives, negatives);
    }

    private static double[] thin(double[] a, int length) {
        if (length <= MAX_POINTS) return Arrays.copyOf(a, length);
        double[] out = new double[MAX_POINTS];
        for (int i = 0; i < MAX_POINTS; i++) out[i] = a[(int) Math.round(i * (length - 1) / (double) (MAX_POINTS - 1))];
        return out;
    }
}
