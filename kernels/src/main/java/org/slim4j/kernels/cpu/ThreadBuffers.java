package org.slim4j.kernels.cpu;

import java.util.Arrays;

/**
 * The kernels' per-thread scratch arrays: each kernel keeps its own ThreadLocal and asks here
 * for an array at least as long as a call needs. Arrays grow on demand and are kept, so a
 * training step's hot paths allocate nothing after the first step; contents are whatever the
 * last call on that thread left.
 */
final class ThreadBuffers {
    private ThreadBuffers() {
    }

    /** The thread's float array in {@code tl}, replaced by a new one when shorter than size. */
    static float[] floats(ThreadLocal<float[]> tl, int size) {
        float[] a = tl.get();
        if (a.length < size) {
            a = new float[size];
            tl.set(a);
        }
        return a;
    }

    /** The thread's int array in {@code tl}, replaced by a new one when shorter than size. */
    static int[] ints(ThreadLocal<int[]> tl, int size) {
        int[] a = tl.get();
        if (a.length < size) {
            a = new int[size];
            tl.set(a);
        }
        return a;
    }

    /** The thread's partial-sum arrays in {@code tl}: at least {@code count} of at least {@code size} floats. */
    static float[][] partials(ThreadLocal<float[][]> tl, int count, int size) {
        float[][] p = tl.get();
        if (p.length < count) {
            p = Arrays.copyOf(p, count);
            tl.set(p);
        }
        for (int i = 0; i < count; i++) {
            if (p[i] == null || p[i].length < size) p[i] = new float[size];
        }
        return p;
    }
}
