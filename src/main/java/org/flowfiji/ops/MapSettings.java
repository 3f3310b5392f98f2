package org.flowfiji.ops;

import java.util.Locale;

/**
 * How a likelihood map is made.
 *
 * @param mode EXACT: per-pixel share of log p(image), summing to it; WINDOW: log p of the patch
 *     around each pixel per dimension (a local anomaly score)
 * @param units NATS or BITS per pixel
 * @param tileSize inference tile side (a multiple of 2^levels); 0 = automatic
 * @param windowStride WINDOW mode: stride between windows in pixels (0 = patch size / 4)
 */
public record MapSettings(Mode mode, Units units, int tileSize, int windowStride) {

    public enum Mode {
        EXACT, WINDOW;

        public static Mode parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Unknown map mode '" + s + "': use exact or window");
            }
        }
    }

    public enum Units {
        NATS, BITS;

        public static Units parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Unknown units '" + s + "': use nats or bits");
            }
        }
    }

    public static MapSettings defaults() {
        return new MapSettings(Mode.EXACT, Units.NATS, 0, 0);
    }
}
