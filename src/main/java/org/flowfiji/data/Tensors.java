package org.flowfiji.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.blocks.PrimitiveBlocks;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.NativeType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ByteType;
import net.imglib2.type.numeric.integer.IntType;
import net.imglib2.type.numeric.integer.LongType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.integer.UnsignedByteType;
import net.imglib2.type.numeric.integer.UnsignedIntType;
import net.imglib2.type.numeric.integer.UnsignedShortType;
import net.imglib2.type.numeric.real.DoubleType;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

/**
 * Copies between ImgLib2 images, {@link ImageData} planes and DJL {@link NDArray}s (float32, NCHW).
 *
 * <p>Axis convention: an ImgLib2 image has axes (X, Y) or (X, Y, C), X varying fastest; its
 * tensor is {@code [1, C, H, W]} with W = size along X, H = size along Y. Element (x, y, c) of
 * the image is element {@code [0, c, y, x]} of the tensor, so the flat orders coincide: index
 * {@code (c * H + y) * W + x}, which is also the layout of an {@link ImageData} plane.
 *
 * <p>Image to tensor copies go through {@link PrimitiveBlocks} (no per-pixel virtual calls) for
 * images of the standard ImgLib2 real types whose view chain PrimitiveBlocks understands; any
 * other image (unusual types, converted or procedural views) falls back to a cursor loop.
 */
public final class Tensors {
    private Tensors() {}

    /**
     * An image as a float32 tensor {@code [1, C, H, W]}, attached to {@code manager}.
     *
     * @param img a 2D (X, Y) image (C = 1) or a 3D (X, Y, C) image; any real pixel type and any
     *     interval minimum
     */
    public static NDArray toNDArray(NDManager manager, RandomAccessibleInterval<? extends RealType<?>> img) {
        int n = img.numDimensions();
        if (n != 2 && n != 3)
            throw new IllegalArgumentException("expected a 2D (X, Y) or 3D (X, Y, C) image, got " + n + " dimensions");
        long size = 1;
        for (int d = 0; d < n; d++) size *= img.dimension(d);
        if (size > Integer.MAX_VALUE)
            throw new IllegalArgumentException("image of " + size + " pixels is too large for one tensor: process it in tiles");
        long w = img.dimension(0);
        long h = img.dimension(1);
        long c = n == 3 ? img.dimension(2) : 1;
        return manager.create(toFloatArray(img), new Shape(1, c, h, w));
    }

    /**
     * The values of an image as a float array in flat order (X fastest, then Y, then C).
     */
    public static float[] toFloatArray(RandomAccessibleInterval<? extends RealType<?>> img) {
        int n = img.numDimensions();
        long size = 1;
        int[] dims = new int[n];
        for (int d = 0; d < n; d++) {
            dims[d] = (int) img.dimension(d);
            size *= dims[d];
        }
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("image of " + size + " pixels is too large for one array");
        Object type = img.getType();
        if (type instanceof NativeType<?>) {
            float[] fast = copyWithBlocks(img, dims, (int) size);
            if (fast != null) return fast;
        }
        float[] out = new float[(int) size];
        int i = 0;
        Cursor<? extends RealType<?>> cursor = Views.flatIterable(img).cursor();
        while (cursor.hasNext()) out[i++] = cursor.next().getRealFloat();
        return out;
    }

    /**
     * Copies with PrimitiveBlocks; null when the type or the view is not supported (the caller
     * then falls back to a cursor).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static float[] copyWithBlocks(RandomAccessibleInterval<?> img, int[] dims, int size) {
        PrimitiveBlocks blocks;
        try {
            blocks = PrimitiveBlocks.of((RandomAccessibleInterval) img, PrimitiveBlocks.OnFallback.FAIL);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return null;
        }
        long[] min = img.minAsLongArray();
        Object t = img.getType();
        float[] out = new float[size];
        if (t instanceof FloatType) {
            blocks.copy(min, out, dims);
        } else if (t instanceof UnsignedByteType || t instanceof ByteType) {
            byte[] a = new byte[size];
            blocks.copy(min, a, dims);
            if (t instanceof UnsignedByteType) for (int i = 0; i < size; i++) out[i] = a[i] & 0xff;
            else for (int i = 0; i < size; i++) out[i] = a[i];
        } else if (t instanceof UnsignedShortType || t instanceof ShortType) {
            short[] a = new short[size];
            blocks.copy(min, a, dims);
            if (t instanceof UnsignedShortType) for (int i = 0; i < size; i++) out[i] = a[i] & 0xffff;
            else for (int i = 0; i < size; i++) out[i] = a[i];
        } else if (t instanceof UnsignedIntType || t instanceof IntType) {
            int[] a = new int[size];
            blocks.copy(min, a, dims);
            if (t instanceof UnsignedIntType) for (int i = 0; i < size; i++) out[i] = a[i] & 0xffffffffL;
            else for (int i = 0; i < size; i++) out[i] = a[i];
        } else if (t instanceof LongType) {
            long[] a = new long[size];
            blocks.copy(min, a, dims);
            for (int i = 0; i < size; i++) out[i] = a[i];
        } else if (t instanceof DoubleType) {
            double[] a = new double[size];
            blocks.copy(min, a, dims);
            for (int i = 0; i < size; i++) out[i] = (float) a[i];
        } else {
            return null;
        }
        return out;
    }

    /**
     * A tensor as an ImgLib2 image backed by a copy of its values.
     *
     * @param array float tensor {@code [1, C, H, W]}, {@code [C, H, W]} or {@code [H, W]}
     * @return (X, Y) when C = 1, otherwise (X, Y, C)
     */
    public static Img<FloatType> toImg(NDArray array) {
        Shape s = array.getShape();
        int r = s.dimension();
        long w, h, c;
        if (r == 2) {
            h = s.get(0);
            w = s.get(1);
            c = 1;
        } else if (r == 3 || (r == 4 && s.get(0) == 1)) {
            c = s.get(r - 3);
            h = s.get(r - 2);
            w = s.get(r - 1);
        } else {
            throw new IllegalArgumentException("expected a tensor [1, C, H, W], [C, H, W] or [H, W], got " + s
                    + ": take one batch element first");
        }
        float[] data = floats(array);
        return c == 1 ? ArrayImgs.floats(data, w, h) : ArrayImgs.floats(data, w, h, c);
    }

    /**
     * Planes of an image as one batch tensor {@code [B, C, H, W]}, B = {@code planeIndices.length}.
     */
    public static NDArray planesToNDArray(NDManager manager, ImageData data, int[] planeIndices) {
        if (planeIndices.length == 0) throw new IllegalArgumentException("no planes selected");
        int n = data.planeSize();
        float[] batch = new float[planeIndices.length * n];
        for (int b = 0; b < planeIndices.length; b++) {
            int p = planeIndices[b];
            if (p < 0 || p >= data.planeCount())
                throw new IndexOutOfBoundsException("plane " + p + " does not exist: '" + data.name() + "' has "
                        + data.planeCount() + " planes");
            System.arraycopy(data.plane(p), 0, batch, b * n, n);
        }
        return manager.create(batch, new Shape(planeIndices.length, data.channels(), data.height(), data.width()));
    }

    /**
     * A batch tensor {@code [B, C, H, W]} as B planes of C·H·W values each (the {@link ImageData} layout).
     */
    public static List<float[]> toPlanes(NDArray batch) {
        Shape s = batch.getShape();
        if (s.dimension() != 4) throw new IllegalArgumentException("expected a batch tensor [B, C, H, W], got " + s);
        float[] all = floats(batch);
        int b = (int) s.get(0);
        int n = all.length / Math.max(1, b);
        List<float[]> planes = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            float[] p = new float[n];
            System.arraycopy(all, i * n, p, 0, n);
            planes.add(p);
        }
        return planes;
    }

    private static float[] floats(NDArray array) {
        return array.getDataType() == DataType.FLOAT32 ? array.toFloatArray() : array.toType(DataType.FLOAT32, false).toFloatArray();
    }
}
