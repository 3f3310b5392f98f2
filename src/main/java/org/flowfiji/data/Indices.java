package org.flowfiji.data;

/** Index arithmetic shared by the readers, the generator and the tiled maps. */
public final class Indices {
    private Indices() {}

    /**
     * Mirrors an index into {@code [0, length)} without repeating the edge:
     * ... 2 1 0 1 2 ... length-2 length-1 length-2 ..., periodic beyond both ends.
     */
    public static int mirror(int i, int length) {
        if (length == 1) return 0;
        int period = 2 * (length - 1);
        int k = Math.floorMod(i, period);
        return k < length ? k : period - k;
    }

    /** The smallest multiple of {@code m} that is {@code >= v} (v >= 0, m > 0). */
    public static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }
}
