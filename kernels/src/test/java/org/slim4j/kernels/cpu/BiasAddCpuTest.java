package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class BiasAddCpuTest extends OwnedTensors {
    private static final BiasAddKernels K = CpuBackend.INSTANCE.kernels(BiasAddKernels.class);

    private Tensor rand32(long seed, int... dims) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -1, 1));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    private Tensor golden(String c, String f) {
        return own(GoldenData.opTensor(c, f));
    }

    private static void report(String c, Tensor expected, Tensor got) {
        System.out.printf("golden %s: max |err| %.3g (max |out| %.3g)%n", c,
                Close.maxAbsDiff(expected.toDoubleArray(), got.toDoubleArray()), Close.maxAbs(expected.toDoubleArray()));
    }

    @Test
    void goldenBiasAdd() {
        for (String c : new String[] {"bias_add_nhwc", "bias_add_2d"}) {
            Tensor x = golden(c, "in_value.npy");
            Tensor b = golden(c, "in_bias.npy");
            Tensor expected = golden(c, "out_output.npy");
            Tensor got = own(K.biasAdd(x, b));
            Close.assertClose(expected, got, 1e-5, c);
            report(c, expected, got);
            Close.assertClose(golden(c, "ref64_output.npy"), own(K.biasAdd(f64(x), f64(b))), 1e-12, c + " float64");
        }
    }

    @Test
    void goldenBiasAddGrad() {
        String c = "bias_add_grad";
        Tensor dy = golden(c, "in_out_backprop.npy");
        Tensor expected = golden(c, "out_output.npy");
        Tensor got = own(K.biasAddGrad(dy));
        Close.assertClose(expected, got, 1e-5, c);
        report(c, expected, got);
        Close.assertClose(golden(c, "ref64_output.npy"), own(K.biasAddGrad(f64(dy))), 1e-12, c + " float64");
    }

    @Test
    void float32MatchesFloat64() {
        int[][] shapes = {{3, 5, 7, 9}, {11, 13}, {1, 1, 1, 17}, {7}, {2, 9, 11, 67}, {1000, 3}};
        long seed = 1;
        for (int[] s : shapes) {
            Tensor x = rand32(seed++, s);
            Tensor b = rand32(seed++, s[s.length - 1]);
            Close.assertClose(own(K.biasAdd(f64(x), f64(b))), own(K.biasAdd(x, b)), 1e-7, "biasAdd " + x.shape());
            Close.assertClose(own(K.biasAddGrad(f64(x))), own(K.biasAddGrad(x)), 1e-6, "biasAddGrad " + x.shape());
        }
    }

    @Test
    void float64ReferenceOnKnownValues() {
        Tensor x = own(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 3, 2));
        Tensor b = own(Tensor.of(new double[] {10, 100}, 2));
        assertArrayEquals(new double[] {11, 102, 13, 104, 15, 106}, own(K.biasAdd(x, b)).toDoubleArray());
        assertArrayEquals(new double[] {9, 12}, own(K.biasAddGrad(x)).toDoubleArray());
        assertArrayEquals(new float[] {9, 12}, own(K.biasAddGrad(own(x.cast(DType.FLOAT32)))).toFloatArray());
    }

    @Test
    void gradientOverManyRowsStaysAccurateAndRepeatable() {
        // 300k rows of one sign: a naive float running sum drifts by ~1e-3 relative here.
        Tensor dy = own(Tensor.randomUniform(5, DType.FLOAT32, Shape.of(300_000, 3), 0, 1));
        Tensor g = own(K.biasAddGrad(dy));
        Tensor g64 = own(K.biasAddGrad(f64(dy)));
        double[] exact = g64.toDoubleArray();
        double[] got = g.toDoubleArray();
        for (int j = 0; j < 3; j++) {
            assertTrue(Math.abs(got[j] - exact[j]) <= 2e-7 * exact[j], "column " + j + ": " + got[j] + " vs " + exact[j]);
        }
        assertArrayEquals(g.toFloatArray(), own(K.biasAddGrad(dy)).toFloatArray(), "same result on every call");
    }

    @Test
    void viewsAndEmptyTensors() {
        Tensor big = rand32(8, 6, 4, 5);
        Tensor x = own(big.slice0(2, 5));
        Tensor b = own(own(rand32(9, 3, 5).slice0(1, 2)).reshape(5));
        Close.assertClose(own(K.biasAdd(f64(x), f64(b))), own(K.biasAdd(x, b)), 1e-7, "sliced biasAdd");
        Close.assertClose(own(K.biasAddGrad(f64(x))), own(K.biasAddGrad(x)), 1e-6, "sliced biasAddGrad");
        Tensor g = own(K.biasAddGrad(own(Tensor.zeros(DType.FLOAT32, Shape.of(0, 4)))));
        assertArrayEquals(new float[4], g.toFloatArray());
        assertArrayEquals(new int[] {0, 4}, own(K.biasAdd(own(Tensor.zeros(DType.FLOAT32, Shape.of(0, 4))), own(Tensor.zeros(DType.FLOAT32, Shape.of(4))))).dims());
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor x = rand32(1, 2, 3, 4);
        Tensor b = rand32(2, 3);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> K.biasAdd(x, b));
        assertTrue(ex.getMessage().contains("biasAdd") && ex.getMessage().contains("[2, 3, 4]") && ex.getMessage().contains("[3]"), ex.getMessage());
        Tensor b2 = rand32(3, 1, 4);
        assertThrows(IllegalArgumentException.class, () -> K.biasAdd(x, b2));
        Tensor b64 = f64(rand32(4, 4));
        ex = assertThrows(IllegalArgumentException.class, () -> K.biasAdd(x, b64));
        assertTrue(ex.getMessage().contains("FLOAT64"), ex.getMessage());
        Tensor ints = own(Tensor.of(new int[] {1, 2, 3, 4}, 2, 2));
        ex = assertThrows(IllegalArgumentException.class, () -> K.biasAddGrad(ints));
        assertTrue(ex.getMessage().contains("INT32"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> K.biasAddGrad(own(Tensor.scalar(1f))));
    }

    @Test
    void leavesNothingAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Tensor x = Tensor.randomUniform(1, DType.FLOAT32, Shape.of(4, 6, 6, 8), -1, 1);
        Tensor b = Tensor.randomUniform(2, DType.FLOAT32, Shape.of(8), -1, 1);
        Tensor y = K.biasAdd(x, b);
        Tensor g = K.biasAddGrad(y);
        for (Tensor t : new Tensor[] {x, b, y, g}) t.close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }
}
