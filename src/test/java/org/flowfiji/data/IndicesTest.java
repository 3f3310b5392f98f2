package org.flowfiji.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class IndicesTest {

    @Test
    void mirrorReflectsWithoutRepeatingTheEdge() {
        assertEquals(1, Indices.mirror(-1, 10));
        assertEquals(2, Indices.mirror(-2, 10));
        assertEquals(8, Indices.mirror(10, 10));
        assertEquals(0, Indices.mirror(18, 10));
        assertEquals(1, Indices.mirror(-7, 4), "mirrored again past the far edge");
        assertEquals(0, Indices.mirror(5, 1));
        for (int i = 0; i < 10; i++) assertEquals(i, Indices.mirror(i, 10));
    }

    @Test
    void roundUpGivesTheNextMultiple() {
        assertEquals(0, Indices.roundUp(0, 4));
        assertEquals(4, Indices.roundUp(1, 4));
        assertEquals(28, Indices.roundUp(28, 4));
        assertEquals(32, Indices.roundUp(29, 4));
    }
}
