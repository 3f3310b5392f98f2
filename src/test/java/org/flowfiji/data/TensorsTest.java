package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import net.imglib2.FinalInterval;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.blocks.PrimitiveBlocks;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.position.FunctionRandomAccessible;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.UnsignedShortType;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import org.junit.jupiter.api.Test;

class TensorsTest {

    private static float named(long x, long y, long c) {
        return 1000 * c + 30 * y + x;
    }

    private static void assertNamed(NDArray a, long w, long h, long c, long x0, long y0) {
        assertEquals(new Shape(1, c, h, w), a.getShape());
        float[] v = a.toFloatArray();
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float e = named(x + x0, y + y0, ch);
                    float got = v[(int) ((ch * h + y) * w + x)];
                    if (e != got) fail("tensor [0," + ch + "," + y + "," + x + "]: expected " + e + " but was " + got);
                }
    }

    private static void assertImgEquals(RandomAccessibleInterval<? extends RealType<?>> e, RandomAccessibleInterval<? extends RealType<?>> a) {
        assertArrayEquals(e.dimensionsAsLongArray(), a.dimensionsAsLongArray(), "dimensions");
        RandomAccess<? extends RealType<?>> ra = a.randomAccess();
        var c = Views.flatIterable(e).localizingCursor();
        long[] pos = new long[e.numDimensions()];
        while (c.hasNext()) {
            float ev = c.next().getRealFloat();
            c.localize(pos);
            ra.setPosition(pos);
            if (ev != ra.get().getRealFloat())
                fail("pixel " + java.util.Arrays.toString(pos) + ": expected " + ev + " but was " + ra.get().getRealFloat());
        }
    }

    @Test
    void unsignedShortImageRoundTrip() {
        Img<UnsignedShortType> img = ArrayImgs.unsignedShorts(5, 4, 3);
        var c = img.localizingCursor();
        while (c.hasNext()) {
            c.fwd();
            c.get().set((int) named(c.getLongPosition(0), c.getLongPosition(1), c.getLongPosition(2)) + 40000);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = Tensors.toNDArray(m, img);
            NDArray shifted = a.sub(40000);
            assertNamed(shifted, 5, 4, 3, 0, 0);
            assertImgEquals(img, Tensors.toImg(a));
        }
    }

    @Test
    void offsetViewAndProceduralFallbackGiveTheSameValues() {
        FunctionRandomAccessible<FloatType> f = new FunctionRandomAccessible<>(2,
                (pos, t) -> t.set(named(pos.getLongPosition(0), pos.getLongPosition(1), 0)), FloatType::new);
        RandomAccessibleInterval<FloatType> procedural = Views.interval(f, new FinalInterval(new long[] {3, 2}, new long[] {9, 6}));
        Img<FloatType> stored = ArrayImgs.floats(20, 10);
        var c = stored.localizingCursor();
        while (c.hasNext()) {
            c.fwd();
            c.get().set(named(c.getLongPosition(0), c.getLongPosition(1), 0));
        }
        RandomAccessibleInterval<FloatType> offsetView = Views.interval(stored, new FinalInterval(new long[] {3, 2}, new long[] {9, 6}));
        assertDoesNotThrow(() -> PrimitiveBlocks.of(offsetView, PrimitiveBlocks.OnFallback.FAIL), "the stored view takes the block-copy path");
        assertThrows(IllegalArgumentException.class, () -> PrimitiveBlocks.of(procedural, PrimitiveBlocks.OnFallback.FAIL),
                "the procedural image takes the cursor fallback");
        try (NDManager m = NDManager.newBaseManager()) {
            assertNamed(Tensors.toNDArray(m, procedural), 7, 5, 1, 3, 2);
            assertNamed(Tensors.toNDArray(m, offsetView), 7, 5, 1, 3, 2);
            Img<FloatType> back = Tensors.toImg(Tensors.toNDArray(m, offsetView));
            assertEquals(2, back.numDimensions(), "a single channel comes back as (X, Y)");
            assertImgEquals(Views.zeroMin(offsetView), back);
        }
    }

    @Test
    void planesBatchAndViewsShareTheImageDataLayout() {
        int w = 6, h = 4, ch = 2;
        List<float[]> planes = new java.util.ArrayList<>();
        for (int p = 0; p < 3; p++) {
            float[] a = new float[ch * h * w];
            for (int c = 0; c < ch; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) a[(c * h + y) * w + x] = 100000 * p + named(x, y, c);
            planes.add(a);
        }
        ImageData d = new ImageData("p", w, h, ch, 32, planes, null);
        var view = ImgLib2Views.wrap(d, 2);
        assertArrayEquals(new long[] {w, h, ch}, view.dimensionsAsLongArray());
        assertEquals(200000 + named(5, 3, 1), view.getAt(5, 3, 1).get());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray batch = Tensors.planesToNDArray(m, d, new int[] {2, 0});
            assertEquals(new Shape(2, ch, h, w), batch.getShape());
            assertEquals(200000 + named(4, 1, 1), batch.getFloat(0, 1, 1, 4));
            assertEquals(named(4, 1, 1), batch.getFloat(1, 1, 1, 4));
            List<float[]> back = Tensors.toPlanes(batch);
            assertArrayEquals(d.plane(2), back.get(0));
            assertArrayEquals(d.plane(0), back.get(1));
            assertImgEquals(view, Tensors.toImg(Tensors.toNDArray(m, view)));
            assertThrows(IndexOutOfBoundsException.class, () -> Tensors.planesToNDArray(m, d, new int[] {3}));
        }
    }
}
