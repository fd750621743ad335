package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.ReduceKernels.TopK;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class ReduceCpuTest extends OwnedTensors {
    private static final ReduceKernels K = CpuBackend.INSTANCE.kernels(ReduceKernels.class);

    private TopK own(TopK t) {
        own(t.values());
        own(t.indices());
        return t;
    }

    private Tensor rand32(long seed, int... dims) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -2, 2));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    private Tensor f32(double[] v, int... dims) {
        return own(Tensor.fromDoubles(DType.FLOAT32, Shape.of(dims), v));
    }

    // ---- sum / mean ------------------------------------------------------------------------------

    @Test
    void sumAndMeanKnownValues() {
        Tensor x = f32(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {5, 7, 9}, own(K.sum(x, new int[] {0}, false)).toDoubleArray());
        Tensor s1 = own(K.sum(x, new int[] {-1}, true));
        assertArrayEquals(new int[] {2, 1}, s1.dims());
        assertArrayEquals(new double[] {6, 15}, s1.toDoubleArray());
        Tensor all = own(K.mean(x, new int[0], false));
        assertEquals(0, all.rank());
        assertEquals(3.5, all.item());
        assertArrayEquals(new int[] {1, 1}, own(K.mean(x, new int[] {0, 1}, true)).dims());
        assertArrayEquals(new double[] {2, 5}, own(K.mean(f64(x), new int[] {1}, false)).toDoubleArray());
    }

    @Test
    void everyAxisSubsetFloat32MatchesFloat64() {
        long seed = 10;
        int[][] shapes = {{3, 5, 4, 7}, {2, 1, 9, 1, 3}, {6, 2, 1, 17}};
        for (int[] dims : shapes) {
            Tensor x = rand32(seed++, dims);
            Tensor x64 = f64(x);
            int r = dims.length;
            for (int mask = 1; mask < (1 << r); mask++) {
                int[] axes = new int[Integer.bitCount(mask)];
                for (int a = 0, k = 0; a < r; a++) if ((mask & (1 << a)) != 0) axes[k++] = (a % 2 == 0) ? a : a - r; // mix negative axes
                for (boolean keep : new boolean[] {false, true}) {
                    String what = Arrays.toString(dims) + " axes " + Arrays.toString(axes) + " keep " + keep;
                    Tensor s = own(K.sum(x, axes, keep));
                    Tensor s64 = own(K.sum(x64, axes, keep));
                    assertArrayEquals(s64.dims(), s.dims(), what);
                    assertArrayEquals(expectedDims(dims, axes, keep), s.dims(), what);
                    Close.assertClose(s64, s, 1e-5, "sum " + what);
                    Close.assertClose(own(K.mean(x64, axes, keep)), own(K.mean(x, axes, keep)), 1e-5, "mean " + what);
                }
            }
        }
    }

    private static int[] expectedDims(int[] dims, int[] axes, boolean keep) {
        boolean[] red = new boolean[dims.length];
        for (int a : axes) red[a < 0 ? a + dims.length : a] = true;
        return java.util.stream.IntStream.range(0, dims.length).filter(i -> keep || !red[i]).map(i -> red[i] ? 1 : dims[i]).toArray();
    }

    @Test
    void largeFastPathsMatchFloat64() {
        // global average pool with channel rows split into several chunks, and a long last-axis sum
        Tensor gap = rand32(20, 2, 5, 5, 2100);
        Close.assertClose(own(K.mean(f64(gap), new int[] {1, 2}, true)), own(K.mean(gap, new int[] {1, 2}, true)), 1e-5, "gap");
        Tensor one = rand32(21, 1, 7, 7, 1030);
        Close.assertClose(own(K.mean(f64(one), new int[] {1, 2}, false)), own(K.mean(one, new int[] {1, 2}, false)), 1e-5, "gap n=1");
        // a view with a non-zero offset
        Tensor view = own(gap.slice0(1, 2));
        Tensor copy = own(view.copy());
        assertArrayEquals(own(K.mean(copy, new int[] {1, 2}, true)).toDoubleArray(), own(K.mean(view, new int[] {1, 2}, true)).toDoubleArray());
        assertArrayEquals(own(K.argmax(copy, 3)).toLongArray(), own(K.argmax(view, 3)).toLongArray());
        assertArrayEquals(own(K.topK(copy, 3)).values().toDoubleArray(), own(K.topK(view, 3)).values().toDoubleArray());
        assertEquals(own(K.l2Loss(copy)).item(), own(K.l2Loss(view)).item());
        Tensor rows = rand32(22, 37, 5130);
        Close.assertClose(own(K.sum(f64(rows), new int[] {1}, false)), own(K.sum(rows, new int[] {1}, false)), 1e-5, "last axis");
        Close.assertClose(own(K.sum(f64(rows), new int[] {0}, false)), own(K.sum(rows, new int[] {0}, false)), 1e-5, "first axis");
    }

    @Test
    void sumToShape() {
        Tensor x = f32(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {5, 7, 9}, own(K.sumToShape(x, Shape.of(3))).toDoubleArray());
        Tensor col = own(K.sumToShape(x, Shape.of(2, 1)));
        assertArrayEquals(new int[] {2, 1}, col.dims());
        assertArrayEquals(new double[] {6, 15}, col.toDoubleArray());
        assertEquals(21.0, own(K.sumToShape(x, Shape.scalar())).item());
        assertArrayEquals(x.toDoubleArray(), own(K.sumToShape(x, Shape.of(2, 3))).toDoubleArray());

        Tensor big = rand32(30, 4, 3, 5, 6);
        for (Shape t : new Shape[] {Shape.of(3, 1, 6), Shape.of(6), Shape.of(1, 3, 1, 1), Shape.of(4, 1, 5, 1), Shape.of(1, 1, 1, 1)}) {
            Tensor a = own(K.sumToShape(big, t));
            Tensor e = own(K.sumToShape(f64(big), t));
            assertEquals(t, a.shape());
            Close.assertClose(e, a, 1e-5, "sumToShape " + t);
        }
        // Cross-check against sum with keepDims + reshape.
        Tensor viaSum = own(K.sum(big, new int[] {0, 2}, true));
        Close.assertClose(viaSum.toDoubleArray(), own(K.sumToShape(big, Shape.of(3, 1, 6))).toDoubleArray(), 1e-6, "vs sum");
    }

    // ---- argmax / topK ---------------------------------------------------------------------------

    @Test
    void argmaxFirstOnTiesAndMatchesFloat64() {
        Tensor x = f32(new double[] {1, 3, 3, 2, 2, 1}, 2, 3);
        Tensor a1 = own(K.argmax(x, 1));
        assertEquals(DType.INT64, a1.dtype());
        assertArrayEquals(new long[] {1, 0}, a1.toLongArray());
        assertArrayEquals(new long[] {1, 0, 0}, own(K.argmax(x, -2)).toLongArray());
        long seed = 40;
        for (int[] dims : new int[][] {{5, 9, 4}, {3, 100}, {7}}) {
            Tensor r = rand32(seed++, dims);
            for (int axis = 0; axis < dims.length; axis++) {
                assertArrayEquals(own(K.argmax(f64(r), axis)).toLongArray(), own(K.argmax(r, axis)).toLongArray(),
                        Arrays.toString(dims) + " axis " + axis);
            }
        }
    }

    @Test
    void topKStableAndMatchesFloat64() {
        TopK t = own(K.topK(f32(new double[] {1, 3, 3, 2, 5, 0, 5, 5}, 2, 4), 3));
        assertArrayEquals(new double[] {3, 3, 2, 5, 5, 5}, t.values().toDoubleArray());
        assertEquals(DType.INT32, t.indices().dtype());
        assertArrayEquals(new int[] {1, 2, 3, 0, 2, 3}, t.indices().toIntArray());
        // Values on a coarse grid give many ties; both float32 paths (buffer, k <= 64; sort, k > 64)
        // must agree with the reference sort.
        double[] v = new double[3 * 200];
        org.slim4j.tensor.SeededRandom r = new org.slim4j.tensor.SeededRandom(50);
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(20) - 10;
        Tensor x = f32(v, 3, 200);
        for (int k : new int[] {0, 1, 5, 64, 65, 100, 200}) {
            TopK a = own(K.topK(x, k));
            TopK e = own(K.topK(f64(x), k));
            assertArrayEquals(new int[] {3, k}, a.values().dims());
            assertArrayEquals(e.indices().toIntArray(), a.indices().toIntArray(), "indices k=" + k);
            assertArrayEquals(e.values().toDoubleArray(), a.values().toDoubleArray(), "values k=" + k);
        }
        // The reference itself: values non-increasing, equal values in increasing index order.
        TopK e = own(K.topK(f64(x), 200));
        double[] ev = e.values().toDoubleArray();
        int[] ei = e.indices().toIntArray();
        for (int row = 0; row < 3; row++) {
            for (int j = 1; j < 200; j++) {
                int p = row * 200 + j;
                assertTrue(ev[p - 1] > ev[p] || (ev[p - 1] == ev[p] && ei[p - 1] < ei[p]), "order at " + p);
                assertEquals(v[row * 200 + ei[p]], ev[p]);
            }
        }
    }

    // ---- l2Loss ----------------------------------------------------------------------------------

    @Test
    void l2Loss() {
        Tensor s = own(K.l2Loss(f32(new double[] {1, 2, 3}, 3)));
        assertEquals(0, s.rank());
        assertEquals(7.0, s.item());
        Tensor x = rand32(60, 10007);
        Close.assertClose(own(K.l2Loss(f64(x))), own(K.l2Loss(x)), 1e-6, "l2Loss");
    }

    // ---- golden ----------------------------------------------------------------------------------

    @Test
    void goldenMeanGlobalAvgPool() {
        String c = "mean_global_avg_pool";
        Tensor x = own(GoldenData.opTensor(c, "in_input.npy"));
        int[] axes = own(GoldenData.opTensor(c, "in_reduction_indices.npy")).toIntArray();
        Tensor expected = own(GoldenData.opTensor(c, "out_output.npy"));
        Tensor y = own(K.mean(x, axes, true)); // keep_dims: true in case.json
        System.out.printf("golden %s: max |err| float32 %.3g%n", c, Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()));
        Close.assertClose(expected, y, 1e-5, c);
        Close.assertClose(own(GoldenData.opTensor(c, "ref64_output.npy")), own(K.mean(f64(x), axes, true)), 1e-9, c + " float64");
    }

    @Test
    void goldenL2Loss() {
        String c = "l2_loss";
        Tensor x = own(GoldenData.opTensor(c, "in_t.npy"));
        Tensor expected = own(GoldenData.opTensor(c, "out_output.npy"));
        Tensor y = own(K.l2Loss(x));
        System.out.printf("golden %s: max |err| float32 %.3g (value %.6g)%n", c,
                Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()), expected.item());
        Close.assertClose(expected, y, 1e-5, c);
        Close.assertClose(own(GoldenData.opTensor(c, "ref64_output.npy")), own(K.l2Loss(f64(x))), 1e-9, c + " float64");
    }

    // ---- errors ----------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void errors() {
        Tensor x = rand32(70, 2, 3, 4);
        Tensor ints = own(Tensor.of(new int[] {1, 2}, 2));
        assertMessage(() -> K.sum(x, new int[] {3}, false), "sum", "axis 3", "[2, 3, 4]");
        assertMessage(() -> K.mean(x, new int[] {-4}, false), "mean", "axis -4");
        assertMessage(() -> K.sum(ints, new int[] {0}, false), "sum", "INT32");
        assertMessage(() -> K.sumToShape(x, Shape.of(2, 4)), "sumToShape", "[2, 4]", "[2, 3, 4]");
        assertMessage(() -> K.sumToShape(x, Shape.of(1, 2, 3, 4)), "sumToShape", "[1, 2, 3, 4]");
        assertMessage(() -> K.argmax(x, 5), "argmax", "axis 5");
        assertMessage(() -> K.argmax(own(Tensor.zeros(DType.FLOAT32, Shape.of(2, 0))), 1), "argmax", "empty");
        assertMessage(() -> K.topK(x, 5), "topK", "k 5", "[2, 3, 4]");
        assertMessage(() -> K.topK(x, -1), "topK", "k -1");
        assertMessage(() -> K.l2Loss(ints), "l2Loss", "INT32");
    }
}
