package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class DropoutCpuTest {
    private static final DropoutKernels K = CpuBackend.INSTANCE.kernels(DropoutKernels.class);

    @Test
    void keptFractionAndScaleAreRight() {
        long before = CpuDevice.INSTANCE.liveBytes();
        int n = 200_000;
        for (double keep : new double[] {0.1, 0.5, 0.7, 0.9}) {
            try (Tensor m = K.mask(Shape.of(400, 500), DType.FLOAT32, keep, 42)) {
                float kept = (float) (1 / keep);
                int count = 0;
                double sum = 0;
                for (float v : m.toFloatArray()) {
                    assertTrue(v == 0f || v == kept, "mask value " + v);
                    if (v != 0f) count++;
                    sum += v;
                }
                // Binomial(n, keep): 5 standard deviations.
                double sd = Math.sqrt(keep * (1 - keep) / n);
                assertEquals(keep, count / (double) n, 5 * sd, "kept fraction for keepProb " + keep);
                assertEquals(1.0, sum / n, 5 * sd / keep + 1e-6, "mean of the mask (the expected scale) for keepProb " + keep);
            }
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void repeatablePerSeedAndEqualToTheSequentialStream() {
        Shape s = Shape.of(7, 11, 1301); // > one parallel chunk, odd sizes
        try (Tensor a = K.mask(s, DType.FLOAT32, 0.6, 1234);
             Tensor b = K.mask(s, DType.FLOAT32, 0.6, 1234);
             Tensor c = K.mask(s, DType.FLOAT32, 0.6, 1235);
             Tensor d = K.mask(s, DType.FLOAT64, 0.6, 1234)) {
            float[] av = a.toFloatArray();
            assertArrayEquals(av, b.toFloatArray());
            assertFalse(Arrays.equals(av, c.toFloatArray()), "another seed gives another mask");
            // Element i is kept iff the i-th draw of new SeededRandom(seed) is below keepProb,
            // however the work was split over threads.
            SeededRandom r = new SeededRandom(1234);
            double[] dv = d.toDoubleArray();
            for (int i = 0; i < av.length; i++) {
                boolean keep = r.nextDouble() < 0.6;
                assertEquals(keep ? (float) (1 / 0.6) : 0f, av[i], "float32 element " + i);
                assertEquals(keep ? 1 / 0.6 : 0.0, dv[i], "float64 element " + i);
            }
        }
    }

    @Test
    void keepAllAndEdgeShapes() {
        try (Tensor m = K.mask(Shape.of(3, 5), DType.FLOAT64, 1.0, 9)) {
            for (double v : m.toDoubleArray()) assertEquals(1.0, v);
        }
        try (Tensor m = K.mask(Shape.of(0, 5), DType.FLOAT32, 0.5, 9)) {
            assertArrayEquals(new int[] {0, 5}, m.dims());
        }
        try (Tensor m = K.mask(Shape.scalar(), DType.FLOAT32, 0.5, 9)) {
            assertEquals(1, m.numel());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        for (double bad : new double[] {0, -0.5, 1.5, Double.NaN}) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> K.mask(Shape.of(4), DType.FLOAT32, bad, 1));
            assertTrue(ex.getMessage().contains("keepProb"), ex.getMessage());
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> K.mask(Shape.of(4), DType.INT32, 0.5, 1));
        assertTrue(ex.getMessage().contains("INT32"), ex.getMessage());
    }
}
