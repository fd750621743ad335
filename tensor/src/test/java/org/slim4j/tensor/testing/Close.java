package org.slim4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.slim4j.tensor.Tensor;

/** Closeness assertions for tensors: max |actual - expected| <= tol * max(1, max |expected|). */
public final class Close {
    private Close() {
    }

    public static double maxAbsDiff(double[] expected, double[] actual) {
        if (expected.length != actual.length) throw new AssertionError("lengths " + expected.length + " vs " + actual.length);
        double m = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (Double.isNaN(d)) return Double.NaN;
            m = Math.max(m, d);
        }
        return m;
    }

    public static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** Relative-to-scale closeness, the rule the golden selftest uses. */
    public static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertArrayEquals(expected.dims(), actual.dims(), what + ": shape");
        assertClose(expected.toDoubleArray(), actual.toDoubleArray(), tol, what);
    }

    public static void assertClose(double[] expected, double[] actual, double tol, String what) {
        double err = maxAbsDiff(expected, actual);
        double bound = tol * Math.max(1.0, maxAbs(expected));
        if (!(err <= bound)) {
            fail(what + ": max abs error " + err + " exceeds " + bound);
        }
    }
}
