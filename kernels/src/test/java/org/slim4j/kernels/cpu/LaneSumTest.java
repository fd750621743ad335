package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** LaneSum adds lanes first to last, whatever the JIT tier: values where the order changes the float sum. */
class LaneSumTest {
    @Test
    void addsTheLanesInLaneOrder() {
        int n = FloatVector.SPECIES_PREFERRED.length();
        float[] v = new float[n];
        // 1, 1e8, -1e8, 1 repeated: in lane order the sum is 1 (the 1 before 1e8 is lost, the one after
        // it is not); added pairwise, as a tree-shaped reduction does, it is 0.
        float[] pattern = {1f, 1e8f, -1e8f, 1f};
        for (int i = 0; i < n; i++) v[i] = pattern[i % 4];
        float expected = 0f;
        for (float x : v) expected += x;
        assertEquals(1f, expected);
        // Many calls, so that the same code runs interpreted, then compiled.
        for (int rep = 0; rep < 200_000; rep++) {
            assertEquals(expected, LaneSum.ordered(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0)), "call " + rep);
        }
    }
}
