package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class MatMulCpuTest extends OwnedTensors {
    private static final MatMulKernels K = CpuBackend.INSTANCE.kernels(MatMulKernels.class);

    private Tensor rand32(long seed, int... dims) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -1, 1));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    @Test
    void goldenCases() {
        String[] cases = {"matmul", "matmul_transpose_a", "matmul_transpose_b", "matmul_large_k"};
        boolean[][] flags = {{false, false}, {true, false}, {false, true}, {false, false}};
        for (int i = 0; i < cases.length; i++) {
            String c = cases[i];
            Tensor a = own(GoldenData.opTensor(c, "in_a.npy"));
            Tensor b = own(GoldenData.opTensor(c, "in_b.npy"));
            Tensor expected = own(GoldenData.opTensor(c, "out_product.npy"));
            Tensor got = own(K.matmul(a, b, flags[i][0], flags[i][1]));
            Close.assertClose(expected, got, 1e-5, c + " float32");
            double err = Close.maxAbsDiff(expected.toDoubleArray(), got.toDoubleArray());
            System.out.printf("golden %s: max |err| %.3g (max |out| %.3g)%n", c, err, Close.maxAbs(expected.toDoubleArray()));
            // The float64 path against TensorFlow's float64 run of the same inputs.
            Tensor ref64 = own(GoldenData.opTensor(c, "ref64_product.npy"));
            Tensor got64 = own(K.matmul(f64(a), f64(b), flags[i][0], flags[i][1]));
            Close.assertClose(ref64, got64, 1e-12, c + " float64");
        }
    }

    @Test
    void float32MatchesFloat64ReferenceOnOddShapes() {
        int[][] mnk = {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {65, 129, 31}, {1, 257, 300}, {130, 3, 70}, {150, 160, 500},
            // few rows times a big op(B): the swapped order C^T = op(B)^T op(A)^T (MatMulCpu.swapOperands)
            {5, 600, 500}, {37, 1030, 300}};
        long seed = 1;
        for (int[] s : mnk) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                Tensor a = ta ? rand32(seed++, s[2], s[0]) : rand32(seed++, s[0], s[2]);
                Tensor b = tb ? rand32(seed++, s[1], s[2]) : rand32(seed++, s[2], s[1]);
                Tensor c32 = own(K.matmul(a, b, ta, tb));
                Tensor c64 = own(K.matmul(f64(a), f64(b), ta, tb));
                assertArrayEquals(new int[] {s[0], s[1]}, c32.dims());
                assertEquals(DType.FLOAT32, c32.dtype());
                assertEquals(DType.FLOAT64, c64.dtype());
                Close.assertClose(c64, c32, 1e-5, "matmul " + s[0] + "x" + s[1] + "x" + s[2] + " ta=" + ta + " tb=" + tb);
            }
        }
    }

    @Test
    void float64ReferenceIsRight() {
        // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]], in every transpose form.
        Tensor a = own(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
        Tensor b = own(Tensor.of(new double[] {7, 8, 9, 10, 11, 12}, 3, 2));
        Tensor at = own(Tensor.of(new double[] {1, 4, 2, 5, 3, 6}, 3, 2));
        Tensor bt = own(Tensor.of(new double[] {7, 9, 11, 8, 10, 12}, 2, 3));
        double[] expected = {58, 64, 139, 154};
        assertArrayEquals(expected, own(K.matmul(a, b, false, false)).toDoubleArray());
        assertArrayEquals(expected, own(K.matmul(at, b, true, false)).toDoubleArray());
        assertArrayEquals(expected, own(K.matmul(a, bt, false, true)).toDoubleArray());
        assertArrayEquals(expected, own(K.matmul(at, bt, true, true)).toDoubleArray());
        assertArrayEquals(new float[] {58, 64, 139, 154}, own(K.matmul(own(a.cast(DType.FLOAT32)), own(b.cast(DType.FLOAT32)), false, false)).toFloatArray());
    }

    @Test
    void viewsWithOffsetsAndEmptyDimensions() {
        // Row slices of a larger tensor start at a non-zero offset of shared storage.
        Tensor big = rand32(40, 10, 6);
        Tensor a = own(big.slice0(3, 8));
        Tensor bBig = rand32(41, 9, 4);
        Tensor b = own(bBig.slice0(2, 8));
        Tensor got = own(K.matmul(a, b, false, false));
        Tensor ref = own(K.matmul(own(a.copy()), own(b.copy()), false, false));
        assertArrayEquals(ref.toFloatArray(), got.toFloatArray());
        Tensor ref64 = own(K.matmul(f64(a), f64(b), false, false));
        Close.assertClose(ref64, got, 1e-6, "sliced operands");
        // K = 0 gives zeros; M = 0 gives an empty result.
        Tensor z = own(K.matmul(own(Tensor.zeros(DType.FLOAT32, Shape.of(3, 0))), own(Tensor.zeros(DType.FLOAT32, Shape.of(0, 4))), false, false));
        assertArrayEquals(new int[] {3, 4}, z.dims());
        assertArrayEquals(new float[12], z.toFloatArray());
        Tensor e = own(K.matmul(own(Tensor.zeros(DType.FLOAT64, Shape.of(0, 5))), own(Tensor.zeros(DType.FLOAT64, Shape.of(5, 2))), false, false));
        assertArrayEquals(new int[] {0, 2}, e.dims());
    }

    @Test
    void swappedProductUsesOffsets() {
        assertTrue(MatMulCpu.swapOperands(7, 600, 700, true), "the shape below must take the swapped path");
        assertTrue(MatMulCpu.swapOperands(125, 600, 700, false), "an untransposed B is swapped past Sgemm.SHORT_M rows");
        assertFalse(MatMulCpu.swapOperands(7, 600, 700, false), "short rows and an untransposed B stay with Sgemm's panel groups");
        Tensor a = own(rand32(50, 10, 700).slice0(2, 9));
        Tensor b = own(rand32(51, 603, 700).slice0(3, 603));
        Tensor got = own(K.matmul(a, b, false, true));
        Tensor ref = own(K.matmul(own(a.copy()), own(b.copy()), false, true));
        assertArrayEquals(ref.toFloatArray(), got.toFloatArray());
        Close.assertClose(own(K.matmul(f64(a), f64(b), false, true)), got, 1e-5, "swapped, sliced operands");
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor a = rand32(1, 2, 3);
        Tensor b = rand32(2, 4, 5);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> K.matmul(a, b, false, false));
        assertTrue(ex.getMessage().contains("matmul") && ex.getMessage().contains("[2, 3]") && ex.getMessage().contains("[4, 5]"), ex.getMessage());
        // Transposing a makes its inner dimension 2, which still mismatches.
        assertThrows(IllegalArgumentException.class, () -> K.matmul(a, b, true, false));
        Tensor v = rand32(3, 3);
        ex = assertThrows(IllegalArgumentException.class, () -> K.matmul(a, v, false, false));
        assertTrue(ex.getMessage().contains("2-D") && ex.getMessage().contains("[3]"), ex.getMessage());
        Tensor b64 = f64(rand32(4, 3, 5));
        ex = assertThrows(IllegalArgumentException.class, () -> K.matmul(a, b64, false, false));
        assertTrue(ex.getMessage().contains("FLOAT32") && ex.getMessage().contains("FLOAT64"), ex.getMessage());
        Tensor ia = own(Tensor.of(new int[] {1, 2, 3, 4}, 2, 2));
        ex = assertThrows(IllegalArgumentException.class, () -> K.matmul(ia, ia, false, false));
        assertTrue(ex.getMessage().contains("INT32"), ex.getMessage());
    }

    @Test
    void leavesNothingAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Tensor a = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(70, 90), -1, 1);
        Tensor b = Tensor.randomUniform(6, DType.FLOAT32, Shape.of(90, 50), -1, 1);
        Tensor c = K.matmul(a, b, false, false);
        Tensor a64 = a.cast(DType.FLOAT64);
        Tensor b64 = b.cast(DType.FLOAT64);
        Tensor c64 = K.matmul(a64, b64, false, false);
        for (Tensor t : new Tensor[] {a, b, c, a64, b64, c64}) t.close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }
}
