package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class ElementwiseCpuTest extends OwnedTensors {
    private static final ElementwiseKernels K = CpuBackend.INSTANCE.kernels(ElementwiseKernels.class);

    private Tensor rand32(long seed, double lo, double hi, int... dims) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), lo, hi));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    // ---- binary ---------------------------------------------------------------------------------

    /** Pairs of operand shapes: equal, scalars, trailing vectors, two-sided and middle broadcasts. */
    private static final int[][][] BROADCAST_CASES = {
        {{3, 5, 7}, {3, 5, 7}},
        {{}, {4, 6}},
        {{4, 6}, {}},
        {{1}, {5}},
        {{2, 3, 4, 5}, {5}},
        {{5}, {2, 3, 4, 5}},
        {{4, 1}, {1, 6}},
        {{2, 1, 3}, {4, 1}},
        {{5, 1, 7}, {5, 6, 1}},
        {{3, 1, 1}, {3, 4, 5}},
        {{2, 3, 4, 5}, {3, 1, 5}},
        {{6, 1}, {6, 9}},
        {{1, 1}, {1, 1, 1}},
        {{100003}, {100003}},
        {{70001}, {1}},
        {{400, 257}, {257}},
        {{257, 400}, {257, 1}},
    };

    @Test
    void binaryFloat32MatchesFloat64OnEveryBroadcastPattern() {
        long seed = 1;
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] c : BROADCAST_CASES) {
                // DIV: keep the divisor away from zero.
                Tensor a = rand32(seed++, -2, 2, c[0]);
                Tensor b = op == BinaryOp.DIV ? rand32(seed++, 0.5, 2, c[1]) : rand32(seed++, -2, 2, c[1]);
                Tensor o32 = own(K.binary(op, a, b));
                Tensor o64 = own(K.binary(op, f64(a), f64(b)));
                String what = op + " " + a.shape() + " with " + b.shape();
                assertArrayEquals(o64.dims(), o32.dims(), what);
                Close.assertClose(o64, o32, 1e-6, what);
            }
        }
    }

    @Test
    void broadcastingGivesTheRightValues() {
        // Checked by hand so that the float64 reference itself is pinned down.
        Tensor a = own(Tensor.of(new double[] {1, 2}, 2, 1));
        Tensor b = own(Tensor.of(new double[] {10, 20, 30}, 1, 3));
        double[] sum = {11, 21, 31, 12, 22, 32};
        assertArrayEquals(sum, own(K.binary(BinaryOp.ADD, a, b)).toDoubleArray());
        assertArrayEquals(new float[] {11, 21, 31, 12, 22, 32},
                own(K.binary(BinaryOp.ADD, own(a.cast(DType.FLOAT32)), own(b.cast(DType.FLOAT32)))).toFloatArray());
        assertArrayEquals(new double[] {-9, -19, -29, -8, -18, -28}, own(K.binary(BinaryOp.SUB, a, b)).toDoubleArray());
        assertArrayEquals(new double[] {9, 19, 29, 8, 18, 28}, own(K.binary(BinaryOp.SUB, b, a)).toDoubleArray());
        assertArrayEquals(new double[] {81, 361, 841, 64, 324, 784}, own(K.binary(BinaryOp.SQUARED_DIFFERENCE, a, b)).toDoubleArray());
        Tensor x = own(Tensor.of(new float[] {-1, 5, 2, 8, -3, 0}, 2, 3));
        Tensor y = own(Tensor.of(new float[] {0, 4, 3}, 3));
        assertArrayEquals(new float[] {0, 5, 3, 8, 4, 3}, own(K.binary(BinaryOp.MAXIMUM, x, y)).toFloatArray());
        assertArrayEquals(new float[] {-1, 4, 2, 0, -3, 0}, own(K.binary(BinaryOp.MINIMUM, x, y)).toFloatArray());
        assertArrayEquals(new float[] {-0.5f, 2.5f, 1, 4, -1.5f, 0},
                own(K.binary(BinaryOp.DIV, x, own(Tensor.scalar(2f)))).toFloatArray());
        assertArrayEquals(new float[] {-2, 0.4f, 1, 0.25f, -2f / 3, Float.POSITIVE_INFINITY},
                own(K.binary(BinaryOp.DIV, own(Tensor.of(new float[] {2f}, 1)), x)).toFloatArray());
        Tensor out = own(K.binary(BinaryOp.MUL, own(Tensor.zeros(DType.FLOAT32, Shape.of(3, 1, 2))), own(Tensor.zeros(DType.FLOAT32, Shape.of(4, 1)))));
        assertArrayEquals(new int[] {3, 4, 2}, out.dims());
        Tensor empty = own(K.binary(BinaryOp.ADD, own(Tensor.zeros(DType.FLOAT32, Shape.of(0, 3))), own(Tensor.zeros(DType.FLOAT32, Shape.of(3)))));
        assertArrayEquals(new int[] {0, 3}, empty.dims());
    }

    @Test
    void binaryOnOffsetViews() {
        Tensor big = rand32(9, -1, 1, 7, 33);
        Tensor a = own(big.slice0(2, 6));
        Tensor b = own(rand32(10, -1, 1, 5, 33).slice0(1, 5));
        Tensor got = own(K.binary(BinaryOp.MUL, a, b));
        Tensor ref = own(K.binary(BinaryOp.MUL, own(a.copy()), own(b.copy())));
        assertArrayEquals(ref.toFloatArray(), got.toFloatArray());
        Tensor row = own(own(big.slice0(6, 7)).reshape(33));
        Tensor got2 = own(K.binary(BinaryOp.SUB, a, row));
        Close.assertClose(own(K.binary(BinaryOp.SUB, f64(a), f64(row))), got2, 1e-7, "offset broadcast");
    }

    // ---- add + activation -----------------------------------------------------------------------

    @Test
    void addActivationEqualsAddThenActivationBitForBit() {
        for (UnaryOp act : new UnaryOp[] {UnaryOp.RELU, UnaryOp.RELU6}) {
            // Lengths around the vector width and a parallel-sized one; values around both kinks.
            for (int n : new int[] {1, 7, 8, 9, 31, 100003}) {
                Tensor a = rand32(20 + n, -8, 8, n);
                Tensor b = rand32(21 + n, -4, 4, n);
                float[] av = a.toFloatArray();
                av[0] = Float.NaN;
                if (n > 3) {
                    av[1] = Float.POSITIVE_INFINITY;
                    av[2] = Float.NEGATIVE_INFINITY;
                    av[3] = -0f;
                }
                Tensor a2 = own(Tensor.of(av, n));
                Tensor ref = own(K.unary(act, own(K.binary(BinaryOp.ADD, a2, b))));
                Tensor got = own(K.addActivation(a2, b, act));
                assertArrayEquals(ref.toFloatArray(), got.toFloatArray(), act + " n=" + n);
                // and against the definition in double
                float[] g = got.toFloatArray();
                float[] bv = b.toFloatArray();
                for (int i = 4; i < n; i++) {
                    double sum = (double) av[i] + bv[i];
                    double want = act == UnaryOp.RELU ? Math.max(sum, 0) : Math.min(Math.max(sum, 0), 6);
                    assertEquals(want, g[i], 1e-6 * Math.max(1, Math.abs(want)), act + " at " + i);
                }
            }
        }
    }

    @Test
    void addActivationOnOffsetViewsBroadcastsAndFloat64() {
        Tensor a = own(rand32(30, -2, 2, 7, 33).slice0(2, 6));
        Tensor b = own(rand32(31, -2, 2, 5, 33).slice0(1, 5));
        Tensor ref = own(K.unary(UnaryOp.RELU6, own(K.binary(BinaryOp.ADD, a, b))));
        assertArrayEquals(ref.toFloatArray(), own(K.addActivation(a, b, UnaryOp.RELU6)).toFloatArray(), "offset views");
        // Other shapes, dtypes and activations take the two-op way, with its broadcasting.
        Tensor row = rand32(32, -2, 2, 33);
        Tensor viaOps = own(K.unary(UnaryOp.RELU, own(K.binary(BinaryOp.ADD, a, row))));
        assertArrayEquals(viaOps.toFloatArray(), own(K.addActivation(a, row, UnaryOp.RELU)).toFloatArray(), "broadcast");
        Tensor d = own(K.addActivation(f64(a), f64(b), UnaryOp.RELU));
        assertEquals(DType.FLOAT64, d.dtype());
        Close.assertClose(ref, d, 1e-6, "float64");
        Tensor tanh = own(K.unary(UnaryOp.TANH, own(K.binary(BinaryOp.ADD, a, b))));
        assertArrayEquals(tanh.toFloatArray(), own(K.addActivation(a, b, UnaryOp.TANH)).toFloatArray(), "any other activation");
    }

    // ---- unary ----------------------------------------------------------------------------------

    /** A domain where each op is defined and well conditioned. */
    private static double[] domain(UnaryOp op) {
        return switch (op) {
            case SQRT, RSQRT, LOG, RECIPROCAL -> new double[] {0.1, 4};
            case EXP -> new double[] {-5, 5};
            case RELU6 -> new double[] {-3, 9};
            default -> new double[] {-4, 4};
        };
    }

    private static DoubleUnaryOperator exact(UnaryOp op) {
        return switch (op) {
            case NEG -> v -> -v;
            case ABS -> Math::abs;
            case SQUARE -> v -> v * v;
            case SQRT -> Math::sqrt;
            case RSQRT -> v -> 1 / Math.sqrt(v);
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case RECIPROCAL -> v -> 1 / v;
            case RELU -> v -> Math.max(v, 0);
            case RELU6 -> v -> Math.min(Math.max(v, 0), 6);
            case SIGMOID -> v -> 1 / (1 + Math.exp(-v));
            case TANH -> Math::tanh;
        };
    }

    @Test
    void unaryFloat32MatchesFloat64AndTheMathDefinition() {
        long seed = 100;
        int[][] shapes = {{3, 5, 7}, {1}, {33}, {2, 40001}};
        for (UnaryOp op : UnaryOp.values()) {
            double[] d = domain(op);
            for (int[] s : shapes) {
                Tensor x = rand32(seed++, d[0], d[1], s);
                Tensor y32 = own(K.unary(op, x));
                Tensor y64 = own(K.unary(op, f64(x)));
                Close.assertClose(y64, y32, 1e-6, "unary " + op + " " + x.shape());
                double[] xs = x.toDoubleArray();
                double[] want = new double[xs.length];
                for (int i = 0; i < xs.length; i++) want[i] = exact(op).applyAsDouble(xs[i]);
                Close.assertClose(want, y64.toDoubleArray(), 1e-14, "unary64 " + op);
            }
        }
    }

    @Test
    void goldenReluAndRelu6() {
        for (String c : new String[] {"relu", "relu6"}) {
            UnaryOp op = c.equals("relu") ? UnaryOp.RELU : UnaryOp.RELU6;
            Tensor x = own(GoldenData.opTensor(c, "in_features.npy"));
            Tensor expected = own(GoldenData.opTensor(c, "out_activations.npy"));
            Tensor got = own(K.unary(op, x));
            Close.assertClose(expected, got, 1e-5, c);
            double err = Close.maxAbsDiff(expected.toDoubleArray(), got.toDoubleArray());
            System.out.printf("golden %s: max |err| %.3g%n", c, err);
            Tensor ref64 = own(GoldenData.opTensor(c, "ref64_activations.npy"));
            Close.assertClose(ref64, own(K.unary(op, f64(x))), 1e-12, c + " float64");
        }
        // relu6 clips at both ends exactly.
        Tensor x = own(Tensor.of(new float[] {-1, 0, 3, 6, 7.5f}, 5));
        assertArrayEquals(new float[] {0, 0, 3, 6, 6}, own(K.unary(UnaryOp.RELU6, x)).toFloatArray());
    }

    // ---- unary gradients --------------------------------------------------------------------------

    @Test
    void unaryGradMatchesFiniteDifferencesAndFloat32MatchesFloat64() {
        long seed = 200;
        for (UnaryOp op : UnaryOp.values()) {
            double[] d = domain(op);
            Tensor x = rand32(seed++, d[0], d[1], 3, 7, 11);
            if (op == UnaryOp.RELU || op == UnaryOp.RELU6 || op == UnaryOp.ABS) {
                // Keep finite differences away from the kinks at 0 and 6.
                double[] v = x.toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    if (Math.abs(v[i]) < 0.01) v[i] = 0.5;
                    if (Math.abs(v[i] - 6) < 0.01) v[i] = 5.5;
                }
                x = own(Tensor.fromDoubles(DType.FLOAT32, x.shape(), v));
            }
            Tensor dy = rand32(seed++, -1, 1, 3, 7, 11);
            Tensor x64 = f64(x);
            Tensor dy64 = f64(dy);
            Tensor y64 = own(K.unary(op, x64));
            Tensor g64 = own(K.unaryGrad(op, x64, y64, dy64));
            // Central differences of the float64 forward pass.
            double[] xs = x64.toDoubleArray();
            double[] dys = dy64.toDoubleArray();
            double[] num = new double[xs.length];
            double h = 1e-6;
            DoubleUnaryOperator f = exact(op);
            for (int i = 0; i < xs.length; i++) num[i] = dys[i] * (f.applyAsDouble(xs[i] + h) - f.applyAsDouble(xs[i] - h)) / (2 * h);
            Close.assertClose(num, g64.toDoubleArray(), 1e-6, "unaryGrad64 " + op + " vs finite differences");

            Tensor y32 = own(K.unary(op, x));
            Tensor g32 = own(K.unaryGrad(op, x, y32, dy));
            Close.assertClose(g64, g32, 2e-6, "unaryGrad " + op + " float32 vs float64");
            // Only the operand the formula uses is required; a missing y is recomputed from x.
            Tensor gNoY = own(K.unaryGrad(op, x, null, dy));
            assertArrayEquals(g32.toFloatArray(), gNoY.toFloatArray(), "unaryGrad " + op + " with y recomputed");
        }
    }

    @Test
    void unaryGradFormulasOnKnownValues() {
        Tensor x = own(Tensor.of(new float[] {-2, 0, 0.5f, 6, 7}, 5));
        Tensor dy = own(Tensor.of(new float[] {1, 2, 3, 4, 5}, 5));
        assertArrayEquals(new float[] {0, 0, 3, 4, 5}, own(K.unaryGrad(UnaryOp.RELU, x, null, dy)).toFloatArray());
        assertArrayEquals(new float[] {0, 0, 3, 0, 0}, own(K.unaryGrad(UnaryOp.RELU6, x, null, dy)).toFloatArray());
        assertArrayEquals(new float[] {-1, 0, 3, 4, 5}, own(K.unaryGrad(UnaryOp.ABS, x, null, dy)).toFloatArray());
        assertArrayEquals(new float[] {-1, -2, -3, -4, -5}, own(K.unaryGrad(UnaryOp.NEG, null, null, dy)).toFloatArray());
        assertArrayEquals(new float[] {-4, 0, 3, 48, 70}, own(K.unaryGrad(UnaryOp.SQUARE, x, null, dy)).toFloatArray());
        // Reciprocal through y: -dy * y^2 with y = 1/x.
        Tensor y = own(Tensor.of(new float[] {0.5f, 2, 4, 1, 0.25f}, 5));
        assertArrayEquals(new float[] {-0.25f, -8, -48, -4, -0.3125f}, own(K.unaryGrad(UnaryOp.RECIPROCAL, null, y, dy)).toFloatArray());
        // Sigmoid through y: dy * y * (1 - y).
        assertArrayEquals(new float[] {0.25f, -4, -36, 0, 0.9375f}, own(K.unaryGrad(UnaryOp.SIGMOID, null, y, dy)).toFloatArray());
    }

    // ---- scalar ops and in-place updates ------------------------------------------------------------

    @Test
    void affinePowAndInPlaceOps() {
        Tensor x = rand32(300, 0.1, 3, 5, 40003);
        Tensor x64 = f64(x);
        Close.assertClose(own(K.affine(x64, -1.5, 0.25)), own(K.affine(x, -1.5, 0.25)), 1e-6, "affine");
        double[] xs = x64.toDoubleArray();
        double[] want = new double[xs.length];
        for (int i = 0; i < xs.length; i++) want[i] = xs[i] * -1.5 + 0.25;
        Close.assertClose(want, own(K.affine(x64, -1.5, 0.25)).toDoubleArray(), 1e-15, "affine64");
        for (double e : new double[] {2, 0.5, -1.5, 3}) {
            Tensor p64 = own(K.pow(x64, e));
            for (int i = 0; i < xs.length; i++) want[i] = Math.pow(xs[i], e);
            Close.assertClose(want, p64.toDoubleArray(), 1e-15, "pow64 " + e);
            Close.assertClose(p64, own(K.pow(x, e)), 1e-6, "pow " + e);
        }

        Tensor src = rand32(301, -1, 1, 5, 40003);
        Tensor d32 = own(x.copy());
        Tensor d64 = own(x64.copy());
        K.addInPlace(d32, src, 0.3);
        K.addInPlace(d64, f64(src), 0.3);
        double[] ss = src.toDoubleArray();
        for (int i = 0; i < xs.length; i++) want[i] = xs[i] + 0.3 * ss[i];
        Close.assertClose(want, d64.toDoubleArray(), 1e-15, "addInPlace64");
        Close.assertClose(d64, d32, 1e-6, "addInPlace");
        K.addInPlace(d32, src, 1.0);
        K.addInPlace(d64, f64(src), 1.0);
        Close.assertClose(d64, d32, 1e-6, "addInPlace alpha 1");
        K.scaleInPlace(d32, -0.5);
        K.scaleInPlace(d64, -0.5);
        Close.assertClose(d64, d32, 1e-6, "scaleInPlace");
        K.fillInPlace(d32, 0.125);
        K.fillInPlace(d64, 0.125);
        for (float v : d32.toFloatArray()) assertEquals(0.125f, v);
        for (double v : d64.toDoubleArray()) assertEquals(0.125, v);
    }

    @Test
    void inPlaceOpsTouchOnlyTheirView() {
        Tensor base = own(Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2));
        Tensor mid = own(base.slice0(1, 3));
        K.addInPlace(mid, own(Tensor.of(new float[] {10, 20, 30, 40}, 2, 2)), 2.0);
        assertArrayEquals(new float[] {1, 2, 23, 44, 65, 86, 7, 8}, base.toFloatArray());
        K.scaleInPlace(mid, 0.5);
        assertArrayEquals(new float[] {1, 2, 11.5f, 22, 32.5f, 43, 7, 8}, base.toFloatArray());
        K.fillInPlace(mid, -1);
        assertArrayEquals(new float[] {1, 2, -1, -1, -1, -1, 7, 8}, base.toFloatArray());
    }

    // ---- errors and memory ------------------------------------------------------------------------

    @Test
    void badArgumentsAreNamed() {
        Tensor a = rand32(1, -1, 1, 2, 3);
        Tensor b = rand32(2, -1, 1, 4, 3);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> K.binary(BinaryOp.ADD, a, b));
        assertTrue(ex.getMessage().contains("ADD") && ex.getMessage().contains("[2, 3]") && ex.getMessage().contains("[4, 3]"), ex.getMessage());
        Tensor a64 = f64(a);
        ex = assertThrows(IllegalArgumentException.class, () -> K.binary(BinaryOp.MUL, a, a64));
        assertTrue(ex.getMessage().contains("FLOAT32") && ex.getMessage().contains("FLOAT64"), ex.getMessage());
        Tensor ints = own(Tensor.of(new int[] {1, 2, 3}, 3));
        ex = assertThrows(IllegalArgumentException.class, () -> K.unary(UnaryOp.RELU, ints));
        assertTrue(ex.getMessage().contains("INT32"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> K.binary(BinaryOp.ADD, ints, ints));
        ex = assertThrows(IllegalArgumentException.class, () -> K.unaryGrad(UnaryOp.RELU, b, null, a));
        assertTrue(ex.getMessage().contains("[4, 3]") && ex.getMessage().contains("[2, 3]"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> K.unaryGrad(UnaryOp.RELU, null, a, a));
        assertThrows(IllegalArgumentException.class, () -> K.unaryGrad(UnaryOp.TANH, null, null, a));
        assertThrows(IllegalArgumentException.class, () -> K.unaryGrad(UnaryOp.EXP, a64, null, a));
        ex = assertThrows(IllegalArgumentException.class, () -> K.addInPlace(a, b, 1));
        assertTrue(ex.getMessage().contains("[4, 3]") && ex.getMessage().contains("[2, 3]"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> K.addInPlace(a, a64, 1));
        assertThrows(IllegalArgumentException.class, () -> K.scaleInPlace(ints, 2));
        assertThrows(IllegalArgumentException.class, () -> K.fillInPlace(ints, 2));
        assertThrows(IllegalArgumentException.class, () -> K.pow(ints, 2));
        assertThrows(IllegalArgumentException.class, () -> K.affine(ints, 2, 1));
    }

    @Test
    void leavesNothingAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Tensor x = Tensor.randomUniform(1, DType.FLOAT32, Shape.of(30, 50), 0.1, 2);
        Tensor b = Tensor.randomUniform(2, DType.FLOAT32, Shape.of(50), 0.1, 2);
        List<Tensor> made = new ArrayList<>(List.of(x, b));
        for (BinaryOp op : BinaryOp.values()) made.add(K.binary(op, x, b));
        for (UnaryOp op : UnaryOp.values()) {
            Tensor y = K.unary(op, x);
            made.add(y);
            made.add(K.unaryGrad(op, x, y, x));
            made.add(K.unaryGrad(op, x, null, x)); // recomputes y internally, must free it
        }
        made.add(K.affine(x, 2, 1));
        made.add(K.pow(x, 3));
        made.add(K.addActivation(x, x, UnaryOp.RELU));
        made.add(K.addActivation(x, b, UnaryOp.RELU6)); // broadcast: the two-op way frees its sum
        K.addInPlace(x, x, 0.5);
        made.forEach(Tensor::close);
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }
}
