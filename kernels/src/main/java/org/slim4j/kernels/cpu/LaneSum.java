package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The sum of a vector's lanes in lane order. {@code reduceLanes(ADD)} leaves the order unspecified,
 * and HotSpot's intrinsic (a tree) and its Java fallback (used before C2 compiles the caller) add
 * in different orders: the first training steps of a run, taken while the JIT warms up, then
 * differed in the last bits from run to run. A fixed order keeps every run bit-identical. The
 * serial adds cost about 10 ns more per sum than reduceLanes; the callers sum once per long run.
 */
final class LaneSum {
    private LaneSum() {
    }

    static float ordered(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }
}
