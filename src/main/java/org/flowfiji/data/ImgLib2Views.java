package org.flowfiji.data;

import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * ImgLib2 views of {@link ImageData} planes, without copies.
 *
 * <p>A plane's float array (channel-major, index {@code (c * H + y) * W + x}) is exactly the flat
 * layout of an ImgLib2 array image with axes (X, Y, C), so the view shares the plane's memory:
 * writing to the view writes to the plane.
 */
public final class ImgLib2Views {
    private ImgLib2Views() {}

    /**
     * Plane {@code plane} of {@code data} as an (X, Y) image when it has one channel, otherwise (X, Y, C).
     */
    public static ArrayImg<FloatType, FloatArray> wrap(ImageData data, int plane) {
        if (plane < 0 || plane >= data.planeCount())
            throw new IndexOutOfBoundsException("plane " + plane + " does not exist: '" + data.name() + "' has "
                    + data.planeCount() + " planes");
        float[] values = data.plane(plane);
        return data.channels() == 1
                ? ArrayImgs.floats(values, data.width(), data.height())
                : ArrayImgs.floats(values, data.width(), data.height(), data.channels());
    }
}
