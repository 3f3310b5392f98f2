package org.flowfiji.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.process.FloatProcessor;
import org.junit.jupiter.api.Test;

/** The likelihood overlay: one image ROI per Z/T plane at the right position, replaced on a second run. */
class LikelihoodOverlayTest {

    private static ImagePlus map(int planes) {
        ImageStack stack = new ImageStack(8, 8);
        for (int p = 0; p < planes; p++) {
            float[] v = new float[64];
            for (int i = 0; i < v.length; i++) v[i] = -i - 10 * p;
            stack.addSlice(new FloatProcessor(8, 8, v));
        }
        return new ImagePlus("map", stack);
    }

    @Test
    void onePositionedRoiPerPlaneOfAHyperstack() {
        ImagePlus image = TestImages.blobs16(8, 6, 3);
        image.setDimensions(1, 3, 2);
        image.setOpenAsHyperStack(true);
        LikelihoodOverlay.add(image, map(6), "Ice", 40);
        Overlay overlay = image.getOverlay();
        assertEquals(6, overlay.size());
        for (int p = 0; p < 6; p++) {
            Roi roi = overlay.get(p);
            assertTrue(roi instanceof ImageRoi);
            assertEquals(0.4, ((ImageRoi) roi).getOpacity(), 1e-9);
            assertEquals(p % 3 + 1, roi.getZPosition(), "slice of plane " + (p + 1));
            assertEquals(p / 3 + 1, roi.getTPosition(), "frame of plane " + (p + 1));
        }
        LikelihoodOverlay.add(image, map(6), "Fire", 60);
        assertEquals(6, image.getOverlay().size(), "a second run replaces the overlay");
    }

    @Test
    void keepsOtherOverlayRoisAndRefusesBadOptions() {
        ImagePlus image = TestImages.blobs16(8, 2, 3);
        Overlay overlay = new Overlay(new Roi(1, 1, 3, 3));
        image.setOverlay(overlay);
        LikelihoodOverlay.add(image, map(2), "grays", 100);
        assertEquals(3, image.getOverlay().size());
        assertEquals("Unknown lut 'Viridis': use one of Fire, Ice, Spectrum, Grays, Red/Green",
                assertThrows(IllegalArgumentException.class, () -> LikelihoodOverlay.add(image, map(2), "Viridis", 50)).getMessage());
        assertEquals("opacity must be between 0 and 100 (percent), got 150.0",
                assertThrows(IllegalArgumentException.class, () -> LikelihoodOverlay.add(image, map(2), "Fire", 150)).getMessage());
    }
}
