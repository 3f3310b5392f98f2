package org.flowfiji.data;

/**
 * An axis-aligned rectangle of pixels: columns {@code [x, x + width)}, rows {@code [y, y + height)}.
 */
public record Region(int x, int y, int width, int height) {

    public Region {
        if (width < 1 || height < 1) throw new IllegalArgumentException("region size must be positive: " + width + "x" + height);
    }

    /** The whole image. */
    public static Region full(ImageData data) {
        return new Region(0, 0, data.width(), data.height());
    }

    /** True when the pixel (px, py) lies inside. */
    public boolean contains(int px, int py) {
        return px >= x && px < x + width && py >= y && py < y + height;
    }

    /** True when the two rectangles share at least one pixel. */
    public boolean overlaps(Region o) {
        return x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height;
    }

    /** True when this rectangle lies inside a {@code w} x {@code h} image. */
    public boolean fitsIn(int w, int h) {
        return x >= 0 && y >= 0 && x + width <= w && y + height <= h;
    }

    @Override
    public String toString() {
        return width + "x" + height + " at (" + x + ", " + y + ")";
    }
}
