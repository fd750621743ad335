package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.layers.Initializers.Mode;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** TF's initialiser definitions, checked by the statistics of large samples. */
class InitializersTest {
    /** Standard deviation of a standard normal truncated to [-2, 2]. */
    private static final double TRUNC_STD = 0.8796256610342398;

    private static double[] sample(Initializer init, Shape shape, long seed) {
        try (Tensor t = init.create(shape, DType.FLOAT32, new SeededRandom(seed))) {
            assertEquals(shape, t.shape());
            return t.toDoubleArray();
        }
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private static double std(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / v.length);
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    @Test
    void truncatedNormalStaysWithinTwoSigma() {
        double[] v = sample(Initializers.truncatedNormal(0.5, 0.1), Shape.of(200, 500), 1);
        assertEquals(0.5, mean(v), 0.001);
        assertEquals(0.1 * TRUNC_STD, std(v), 0.001);
        double worst = 0;
        for (double x : v) worst = Math.max(worst, Math.abs(x - 0.5));
        assertTrue(worst <= 0.2 + 1e-6, "max deviation " + worst);
        assertTrue(worst > 0.19, "samples should reach close to the 2-sigma bound, got " + worst);
    }

    @Test
    void fansFollowTfContribLayers() {
        Shape conv = Shape.of(3, 5, 16, 32);
        assertEquals(3 * 5 * 16, Initializers.fans(conv, Mode.FAN_IN));
        assertEquals(3 * 5 * 32, Initializers.fans(conv, Mode.FAN_OUT));
        assertEquals((3 * 5 * 16 + 3 * 5 * 32) / 2.0, Initializers.fans(conv, Mode.FAN_AVG));
        assertEquals(100, Initializers.fans(Shape.of(100, 10), Mode.FAN_IN));
        assertEquals(10, Initializers.fans(Shape.of(100, 10), Mode.FAN_OUT));
        assertEquals(7, Initializers.fans(Shape.of(7), Mode.FAN_IN), "rank 1: fan_in = fan_out = the size");
        assertEquals(1, Initializers.fans(Shape.scalar(), Mode.FAN_AVG));
    }

    @Test
    void varianceScalingNormalUsesTheTruncationCorrectedStddev() {
        Shape s = Shape.of(3, 3, 64, 128);
        double[] v = sample(Initializers.varianceScaling(2.0, Mode.FAN_IN, false), s, 2);
        double sigma = Math.sqrt(1.3 * 2.0 / (3 * 3 * 64));
        assertEquals(0, mean(v), 0.002);
        assertEquals(sigma * TRUNC_STD, std(v), sigma * 0.01);
        assertTrue(maxAbs(v) <= 2 * sigma + 1e-6);
        // He initialisation is the default
        double[] d = sample(Initializers.varianceScaling(), s, 2);
        assertArrayEquals(v, d, 0.0);
    }

    @Test
    void varianceScalingUniformLimitIsSqrtThreeFactorOverN() {
        Shape s = Shape.of(300, 200);
        double[] v = sample(Initializers.varianceScaling(1.5, Mode.FAN_OUT, true), s, 3);
        double limit = Math.sqrt(3 * 1.5 / 200);
        assertTrue(maxAbs(v) <= limit);
        assertTrue(maxAbs(v) > 0.99 * limit);
        assertEquals(limit / Math.sqrt(3), std(v), limit * 0.01, "std of U(-a, a) is a/sqrt(3)");
    }

    @Test
    void xavierIsVarianceScalingWithFanAvg() {
        Shape s = Shape.of(5, 5, 32, 64);
        double n = (5 * 5 * 32 + 5 * 5 * 64) / 2.0;
        double[] uniform = sample(Initializers.xavier(), s, 4);
        assertArrayEquals(sample(Initializers.varianceScaling(1.0, Mode.FAN_AVG, true), s, 4), uniform, 0.0);
        assertArrayEquals(sample(Initializers.glorotUniform(), s, 4), uniform, 0.0);
        assertTrue(maxAbs(uniform) <= Math.sqrt(3.0 / n));
        double[] normal = sample(Initializers.xavier(false), s, 5);
        assertArrayEquals(sample(Initializers.glorotNormal(), s, 5), normal, 0.0);
        assertEquals(Math.sqrt(1.3 / n) * TRUNC_STD, std(normal), Math.sqrt(1.3 / n) * 0.01);
    }

    @Test
    void constantsAndUniform() {
        assertArrayEquals(new double[] {0, 0, 0}, sample(Initializers.zeros(), Shape.of(3), 0));
        assertArrayEquals(new double[] {1, 1}, sample(Initializers.ones(), Shape.of(2), 0));
        assertArrayEquals(new double[] {0.1, 0.1}, sample(Initializers.constant(0.1), Shape.of(2), 0), 1e-7);
        double[] u = sample(Initializers.randomUniform(-3, 5), Shape.of(100000), 9);
        assertEquals(1, mean(u), 0.05);
        for (double x : u) assertTrue(x >= -3 && x < 5);
        double[] n = sample(Initializers.randomNormal(2, 3), Shape.of(100000), 9);
        assertEquals(2, mean(n), 0.05);
        assertEquals(3, std(n), 0.05);
        assertTrue(maxAbs(n) > 2 + 2 * 3, "an untruncated normal goes beyond two sigma");
    }

    @Test
    void float64VariablesGetTheSameDrawsAsFloat32() {
        Shape s = Shape.of(4, 6);
        try (Tensor f = Initializers.xavier().create(s, DType.FLOAT32, new SeededRandom(11));
             Tensor d = Initializers.xavier().create(s, DType.FLOAT64, new SeededRandom(11))) {
            assertEquals(DType.FLOAT64, d.dtype());
            double[] a = f.toDoubleArray();
            double[] b = d.toDoubleArray();
            for (int i = 0; i < a.length; i++) assertEquals((float) b[i], (float) a[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> Initializers.zeros().create(s, DType.INT32, new SeededRandom(1)));
    }

    @Test
    void storeSeedsEachVariableByNameReproducibly() {
        try (VariableStore a = new VariableStore(5); VariableStore b = new VariableStore(5); VariableStore c = new VariableStore(6)) {
            Initializer init = Initializers.truncatedNormal(1.0);
            Tensor a1 = a.create("x/weights", Shape.of(50), init, null, true, true).value();
            Tensor a2 = a.create("y/weights", Shape.of(50), init, null, true, true).value();
            // b creates them in the other order: the values still depend only on seed and name
            Tensor b2 = b.create("y/weights", Shape.of(50), init, null, true, true).value();
            Tensor b1 = b.create("x/weights", Shape.of(50), init, null, true, true).value();
            Tensor c1 = c.create("x/weights", Shape.of(50), init, null, true, true).value();
            assertArrayEquals(a1.toDoubleArray(), b1.toDoubleArray(), 0.0);
            assertArrayEquals(a2.toDoubleArray(), b2.toDoubleArray(), 0.0);
            assertFalse(java.util.Arrays.equals(a1.toDoubleArray(), a2.toDoubleArray()), "different names, different draws");
            assertFalse(java.util.Arrays.equals(a1.toDoubleArray(), c1.toDoubleArray()), "different seeds, different draws");
        }
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Initializers.truncatedNormal(-1));
        assertThrows(IllegalArgumentException.class, () -> Initializers.randomUniform(1, 0));
        assertThrows(IllegalArgumentException.class, () -> Initializers.varianceScaling(-1, Mode.FAN_IN, true));
        assertThrows(IllegalArgumentException.class, () -> Regularizers.l2(-0.1));
    }
}
