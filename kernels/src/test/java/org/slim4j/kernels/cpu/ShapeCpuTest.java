package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

/**
 * The kernels copy blocks; the expected values here come from per-element index arithmetic on
 * plain double arrays (an independent oracle), for every dtype.
 */
class ShapeCpuTest extends OwnedTensors {
    private static final ShapeKernels K = CpuBackend.INSTANCE.kernels(ShapeKernels.class);
    private static final DType[] DTYPES = {DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64, DType.UINT8};

    /** Distinct-ish values representable in every dtype (0..199 for uint8). */
    private Tensor values(long seed, DType dt, int... dims) {
        SeededRandom r = new SeededRandom(seed);
        double[] v = new double[Shape.of(dims).numel()];
        for (int i = 0; i < v.length; i++) v[i] = dt.isFloating() ? r.nextDouble() * 4 - 2 : r.nextInt(200);
        return own(Tensor.fromDoubles(dt, Shape.of(dims), v));
    }

    // ---- oracle ----------------------------------------------------------------------------------

    private static int[] strides(int[] dims) {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    private static int[] unravel(int flat, int[] dims) {
        int[] idx = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) {
            idx[i] = flat % dims[i];
            flat /= dims[i];
        }
        return idx;
    }

    private static int ravel(int[] idx, int[] dims) {
        int[] s = strides(dims);
        int off = 0;
        for (int i = 0; i < idx.length; i++) off += idx[i] * s[i];
        return off;
    }

    private void assertSame(double[] expected, int[] expectedDims, Tensor actual, DType dt, String what) {
        assertEquals(dt, actual.dtype(), what + ": dtype");
        assertArrayEquals(expectedDims, actual.dims(), what + ": shape");
        assertArrayEquals(expected, actual.toDoubleArray(), what);
    }

    // ---- concat / split --------------------------------------------------------------------------

    @Test
    void concatEveryAxisEveryDtype() {
        int[] base = {3, 4, 2, 5};
        int[] sizes = {2, 1, 3};
        long seed = 1;
        for (DType dt : DTYPES) {
            for (int axis = 0; axis < 4; axis++) {
                List<Tensor> parts = new ArrayList<>();
                int total = 0;
                for (int s : sizes) {
                    int[] d = base.clone();
                    d[axis] = s;
                    parts.add(values(seed++, dt, d));
                    total += s;
                }
                int[] outDims = base.clone();
                outDims[axis] = total;
                double[] expected = new double[Shape.of(outDims).numel()];
                for (int o = 0; o < expected.length; o++) {
                    int[] idx = unravel(o, outDims);
                    int p = 0;
                    while (idx[axis] >= parts.get(p).dim(axis)) idx[axis] -= parts.get(p++).dim(axis);
                    expected[o] = parts.get(p).toDoubleArray()[ravel(idx, parts.get(p).dims())];
                }
                String what = "concat " + dt + " axis " + axis;
                Tensor out = own(K.concat(parts, axis));
                assertSame(expected, outDims, out, dt, what);
                assertSame(expected, outDims, own(K.concat(parts, axis - 4)), dt, what + " (negative axis)");

                // split undoes concat
                List<Tensor> back = K.split(out, axis, sizes);
                back.forEach(this::own);
                for (int i = 0; i < sizes.length; i++) {
                    assertSame(parts.get(i).toDoubleArray(), parts.get(i).dims(), back.get(i), dt, "split " + dt + " axis " + axis + " piece " + i);
                }
            }
        }
    }

    @Test
    void concatAndSplitWithEmptyPieces() {
        Tensor a = values(5, DType.FLOAT32, 2, 0, 3);
        Tensor b = values(6, DType.FLOAT32, 2, 4, 3);
        Tensor c = own(K.concat(List.of(a, b), 1));
        assertArrayEquals(b.toDoubleArray(), c.toDoubleArray());
        List<Tensor> parts = K.split(b, 1, new int[] {0, 4, 0});
        parts.forEach(this::own);
        assertArrayEquals(new int[] {2, 0, 3}, parts.get(0).dims());
        assertArrayEquals(b.toDoubleArray(), parts.get(1).toDoubleArray());
    }

    @Test
    void goldenConcatV2() {
        String c = "concat_v2_axis3";
        List<Tensor> vals = new ArrayList<>();
        for (int i = 0; i < 3; i++) vals.add(own(GoldenData.opTensor(c, "in_values_" + i + ".npy")));
        int axis = (int) own(GoldenData.opTensor(c, "in_axis.npy")).item();
        Tensor expected = own(GoldenData.opTensor(c, "out_output.npy"));
        Tensor y = own(K.concat(vals, axis));
        System.out.printf("golden %s: max |err| %.3g%n", c, Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()));
        Close.assertClose(expected, y, 1e-5, c);
        List<Tensor> v64 = vals.stream().map(t -> own(t.cast(DType.FLOAT64))).toList();
        Close.assertClose(own(GoldenData.opTensor(c, "ref64_output.npy")), own(K.concat(v64, axis)), 0, c + " float64");
    }

    // ---- pad -------------------------------------------------------------------------------------

    private static double[] padOracle(Tensor x, int[][] p, double value, int[] outDims) {
        int[] dims = x.dims();
        double[] xv = x.toDoubleArray();
        double[] out = new double[Shape.of(outDims).numel()];
        for (int o = 0; o < out.length; o++) {
            int[] idx = unravel(o, outDims);
            boolean inside = true;
            for (int d = 0; d < dims.length; d++) {
                idx[d] -= p[d][0];
                inside &= idx[d] >= 0 && idx[d] < dims[d];
            }
            out[o] = inside ? xv[ravel(idx, dims)] : value;
        }
        return out;
    }

    @Test
    void padEveryDtypeAndPattern() {
        int[][][] pads = {
            {{0, 0}, {1, 2}, {2, 1}, {0, 0}},
            {{1, 0}, {0, 0}, {0, 0}, {0, 0}},
            {{0, 0}, {0, 0}, {0, 0}, {3, 1}},
            {{2, 1}, {0, 3}, {1, 1}, {2, 0}},
            {{0, 0}, {0, 0}, {0, 0}, {0, 0}},
        };
        long seed = 20;
        for (DType dt : DTYPES) {
            Tensor x = values(seed++, dt, 2, 3, 4, 5);
            for (int[][] p : pads) {
                for (double value : new double[] {0, 7}) {
                    int[] outDims = new int[4];
                    for (int d = 0; d < 4; d++) outDims[d] = x.dim(d) + p[d][0] + p[d][1];
                    String what = "pad " + dt + " " + Arrays.deepToString(p) + " value " + value;
                    assertSame(padOracle(x, p, value, outDims), outDims, own(K.pad(x, p, value)), dt, what);
                }
            }
        }
        // float fill value keeps its fraction in float types
        Tensor f = values(30, DType.FLOAT32, 2, 2);
        double[] got = own(K.pad(f, new int[][] {{1, 0}, {0, 1}}, -1.5)).toDoubleArray();
        assertEquals(-1.5, got[0]);
    }

    @Test
    void goldenPad() {
        String c = "pad";
        Tensor x = own(GoldenData.opTensor(c, "in_input.npy"));
        long[] pv = own(GoldenData.opTensor(c, "in_paddings.npy")).toLongArray();
        int[][] p = new int[x.rank()][2];
        for (int d = 0; d < x.rank(); d++) p[d] = new int[] {(int) pv[2 * d], (int) pv[2 * d + 1]};
        Tensor expected = own(GoldenData.opTensor(c, "out_output.npy"));
        Tensor y = own(K.pad(x, p, 0));
        System.out.printf("golden %s: max |err| %.3g%n", c, Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()));
        Close.assertClose(expected, y, 1e-5, c);
        Close.assertClose(own(GoldenData.opTensor(c, "ref64_output.npy")), own(K.pad(own(x.cast(DType.FLOAT64)), p, 0)), 0, c + " float64");
    }

    // ---- slice -----------------------------------------------------------------------------------

    @Test
    void sliceEveryDtypeAndBox() {
        int[] dims = {3, 4, 5, 6};
        int[][][] boxes = { // {begin, size}
            {{1, 0, 0, 0}, {2, 4, 5, 6}},
            {{0, 1, 2, 0}, {3, 2, 3, 6}},
            {{2, 3, 4, 5}, {1, 1, 1, 1}},
            {{0, 0, 1, 2}, {-1, -1, 3, -1}},
            {{0, 0, 0, 0}, {3, 4, 5, 6}},
            {{1, 2, 0, 1}, {0, 2, 5, 3}},
        };
        long seed = 40;
        for (DType dt : DTYPES) {
            Tensor x = values(seed++, dt, dims);
            double[] xv = x.toDoubleArray();
            for (int[][] box : boxes) {
                int[] begin = box[0];
                int[] size = box[1].clone();
                for (int d = 0; d < 4; d++) if (size[d] == -1) size[d] = dims[d] - begin[d];
                double[] expected = new double[Shape.of(size).numel()];
                for (int o = 0; o < expected.length; o++) {
                    int[] idx = unravel(o, size);
                    for (int d = 0; d < 4; d++) idx[d] += begin[d];
                    expected[o] = xv[ravel(idx, dims)];
                }
                assertSame(expected, size, own(K.slice(x, begin, box[1])), dt, "slice " + dt + " " + Arrays.deepToString(box));
            }
        }
    }

    @Test
    void sliceOfAView() {
        Tensor x = values(50, DType.FLOAT32, 4, 3, 5);
        Tensor view = own(x.slice0(1, 3)); // non-zero offset
        Tensor s = own(K.slice(view, new int[] {1, 1, 2}, new int[] {1, 2, 3}));
        Tensor direct = own(K.slice(x, new int[] {2, 1, 2}, new int[] {1, 2, 3}));
        assertArrayEquals(direct.toDoubleArray(), s.toDoubleArray());
        Tensor t = own(K.transpose(view, new int[] {2, 0, 1}));
        Tensor tDirect = own(K.transpose(own(K.slice(x, new int[] {1, 0, 0}, new int[] {2, 3, 5})), new int[] {2, 0, 1}));
        assertArrayEquals(tDirect.toDoubleArray(), t.toDoubleArray());
    }

    // ---- transpose -------------------------------------------------------------------------------

    private static double[] transposeOracle(Tensor x, int[] perm, int[] outDims) {
        int[] dims = x.dims();
        double[] xv = x.toDoubleArray();
        double[] out = new double[xv.length];
        for (int o = 0; o < out.length; o++) {
            int[] oi = unravel(o, outDims);
            int[] ii = new int[dims.length];
            for (int i = 0; i < perm.length; i++) ii[perm[i]] = oi[i];
            out[o] = xv[ravel(ii, dims)];
        }
        return out;
    }

    private static void permutations(int[] a, int k, List<int[]> out) {
        if (k == a.length) {
            out.add(a.clone());
            return;
        }
        for (int i = k; i < a.length; i++) {
            int t = a[k];
            a[k] = a[i];
            a[i] = t;
            permutations(a, k + 1, out);
            a[i] = a[k];
            a[k] = t;
        }
    }

    @Test
    void transposeAllPermutations() {
        List<int[]> perms = new ArrayList<>();
        permutations(new int[] {0, 1, 2, 3}, 0, perms);
        long seed = 60;
        // [3, 1, 5, 4] exercises dropped size-1 axes; [2, 37, 3, 45] spans several 32x32 tiles.
        for (int[] dims : new int[][] {{3, 1, 5, 4}, {2, 37, 3, 45}}) {
            for (DType dt : DTYPES) {
                Tensor x = values(seed++, dt, dims);
                for (int[] perm : perms) {
                    int[] outDims = new int[4];
                    for (int i = 0; i < 4; i++) outDims[i] = dims[perm[i]];
                    assertSame(transposeOracle(x, perm, outDims), outDims, own(K.transpose(x, perm)), dt,
                            "transpose " + dt + " " + Arrays.toString(dims) + " perm " + Arrays.toString(perm));
                }
            }
        }
        Tensor m = values(70, DType.FLOAT32, 65, 33);
        assertSame(transposeOracle(m, new int[] {1, 0}, new int[] {33, 65}), new int[] {33, 65}, own(K.transpose(m, new int[] {1, 0})),
                DType.FLOAT32, "2-D");
        // big enough for the tiles to be split over threads
        Tensor big = values(71, DType.FLOAT32, 3, 200, 150);
        assertSame(transposeOracle(big, new int[] {0, 2, 1}, new int[] {3, 150, 200}), new int[] {3, 150, 200},
                own(K.transpose(big, new int[] {0, 2, 1})), DType.FLOAT32, "big");
        Tensor s = own(Tensor.scalar(3f));
        assertEquals(3.0, own(K.transpose(s, new int[0])).item());
    }

    // ---- errors ----------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void errors() {
        Tensor a = values(80, DType.FLOAT32, 2, 3, 4);
        Tensor b = values(81, DType.FLOAT32, 2, 5, 4);
        Tensor i = values(82, DType.INT32, 2, 3, 4);
        assertMessage(() -> K.concat(List.of(a, b), 2), "concat", "[2, 5, 4]", "[2, 3, 4]");
        assertMessage(() -> K.concat(List.of(a, i), 0), "concat", "INT32", "FLOAT32");
        assertMessage(() -> K.concat(List.of(a, b), 3), "concat", "axis 3");
        assertMessage(() -> K.concat(List.of(), 0), "concat");
        assertMessage(() -> K.split(a, 1, new int[] {1, 1}), "split", "[1, 1]", "[2, 3, 4]");
        assertMessage(() -> K.split(a, 1, new int[] {4, -1}), "split", "negative");
        assertMessage(() -> K.pad(a, new int[][] {{0, 0}, {1, 1}}, 0), "pad", "rank 3", "[2, 3, 4]");
        assertMessage(() -> K.pad(a, new int[][] {{0, 0}, {1, -1}, {0, 0}}, 0), "pad", "paddings[1]");
        assertMessage(() -> K.slice(a, new int[] {0, 2, 0}, new int[] {2, 2, 4}), "slice", "axis 1", "[2, 3, 4]");
        assertMessage(() -> K.slice(a, new int[] {0, 0}, new int[] {2, 2}), "slice", "[2, 3, 4]");
        assertMessage(() -> K.transpose(a, new int[] {0, 1, 1}), "transpose", "[0, 1, 1]", "[2, 3, 4]");
        assertMessage(() -> K.transpose(a, new int[] {0, 1}), "transpose", "[0, 1]");
    }
}
