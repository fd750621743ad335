package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.kernels.SoftmaxKernels.CrossEntropy;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class SoftmaxCpuTest extends OwnedTensors {
    private static final SoftmaxKernels K = CpuBackend.INSTANCE.kernels(SoftmaxKernels.class);

    private CrossEntropy own(CrossEntropy ce) {
        own(ce.loss());
        own(ce.backprop());
        return ce;
    }

    private Tensor golden(String c, String f) {
        return own(GoldenData.opTensor(c, f));
    }

    private Tensor rand32(long seed, double scale, int... dims) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -scale, scale));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    /** Random probability rows (non-negative, each summing to 1). */
    private Tensor labelRows(long seed, int rows, int c) {
        double[] v = new double[rows * c];
        org.slim4j.tensor.SeededRandom r = new org.slim4j.tensor.SeededRandom(seed);
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < c; j++) s += v[i * c + j] = r.nextDouble();
            for (int j = 0; j < c; j++) v[i * c + j] /= s;
        }
        return own(Tensor.fromDoubles(DType.FLOAT32, Shape.of(rows, c), v));
    }

    private static final int[][] SHAPES = {{7, 13}, {3, 5, 33}, {2, 1000}, {1, 1}, {4, 17}, {300, 100}}; // the last one splits over threads

    // ---- float32 fast path vs float64 reference --------------------------------------------------

    @Test
    void softmaxAndLogSoftmaxFloat32MatchFloat64() {
        long seed = 1;
        for (int[] dims : SHAPES) {
            for (double scale : new double[] {3, 80}) {
                Tensor x = rand32(seed++, scale, dims);
                Tensor x64 = f64(x);
                String what = java.util.Arrays.toString(dims) + " scale " + scale;
                Close.assertClose(own(K.softmax(x64)), own(K.softmax(x)), 1e-5, "softmax " + what);
                Close.assertClose(own(K.logSoftmax(x64)), own(K.logSoftmax(x)), 1e-5, "logSoftmax " + what);
            }
        }
    }

    @Test
    void crossEntropyFloat32MatchesFloat64() {
        long seed = 100;
        for (int[] dims : new int[][] {{7, 13}, {2, 1000}, {5, 3}, {300, 100}}) {
            Tensor x = rand32(seed++, 10, dims);
            Tensor lab = labelRows(seed++, dims[0], dims[1]);
            CrossEntropy a = own(K.softmaxCrossEntropy(x, lab));
            CrossEntropy e = own(K.softmaxCrossEntropy(f64(x), f64(lab)));
            Close.assertClose(e.loss(), a.loss(), 1e-5, "loss");
            Close.assertClose(e.backprop(), a.backprop(), 1e-5, "backprop");

            long[] cls = new long[dims[0]];
            for (int i = 0; i < cls.length; i++) cls[i] = (i * 7L + 3) % dims[1];
            Tensor labels64 = own(Tensor.of(cls, dims[0]));
            Tensor labels32 = own(labels64.cast(DType.INT32));
            CrossEntropy s32 = own(K.sparseSoftmaxCrossEntropy(x, labels32));
            CrossEntropy s64 = own(K.sparseSoftmaxCrossEntropy(x, labels64));
            CrossEntropy sRef = own(K.sparseSoftmaxCrossEntropy(f64(x), labels64));
            Close.assertClose(sRef.loss(), s32.loss(), 1e-5, "sparse loss int32 labels");
            Close.assertClose(sRef.backprop(), s32.backprop(), 1e-5, "sparse backprop int32 labels");
            Close.assertClose(sRef.loss(), s64.loss(), 1e-5, "sparse loss int64 labels");
            Close.assertClose(sRef.backprop(), s64.backprop(), 1e-5, "sparse backprop int64 labels");
        }
    }

    /** Independent facts: rows sum to 1; log_softmax = log(softmax); sparse = dense with one-hot rows. */
    @Test
    void identitiesHold() {
        Tensor x = rand32(7, 5, 6, 9);
        double[] p = own(K.softmax(x)).toDoubleArray();
        double[] lp = own(K.logSoftmax(x)).toDoubleArray();
        for (int r = 0; r < 6; r++) {
            double s = 0;
            for (int j = 0; j < 9; j++) {
                s += p[r * 9 + j];
                assertEquals(Math.log(p[r * 9 + j]), lp[r * 9 + j], 1e-5);
            }
            assertEquals(1.0, s, 1e-6);
        }
        // a view with a non-zero offset gives the same rows
        double[] pv = own(K.softmax(own(x.slice0(2, 4)))).toDoubleArray();
        assertArrayEquals(java.util.Arrays.copyOfRange(p, 18, 36), pv);
        int[] cls = {0, 8, 3, 3, 5, 1};
        double[] onehot = new double[54];
        for (int r = 0; r < 6; r++) onehot[r * 9 + cls[r]] = 1;
        Tensor oh = own(Tensor.fromDoubles(DType.FLOAT32, Shape.of(6, 9), onehot));
        CrossEntropy dense = own(K.softmaxCrossEntropy(x, oh));
        CrossEntropy sparse = own(K.sparseSoftmaxCrossEntropy(x, own(Tensor.of(cls, 6))));
        Close.assertClose(dense.loss(), sparse.loss(), 1e-6, "sparse vs dense loss");
        Close.assertClose(dense.backprop(), sparse.backprop(), 1e-6, "sparse vs dense backprop");
        for (int r = 0; r < 6; r++) assertEquals(-lp[r * 9 + cls[r]], sparse.loss().toDoubleArray()[r], 1e-5);
    }

    @Test
    void hugeLogitsStayFinite() {
        Tensor x = own(Tensor.of(new float[] {1000f, 999f, -1000f, 0f}, 1, 4));
        double[] p = own(K.softmax(x)).toDoubleArray();
        assertEquals(1 / (1 + Math.exp(-1)), p[0], 1e-6);
        assertEquals(0.0, p[2], 0.0);
        double[] lp = own(K.logSoftmax(x)).toDoubleArray();
        assertEquals(-2000 - Math.log1p(Math.exp(-1)), lp[2], 1e-3);
    }

    // ---- TensorFlow golden cases -----------------------------------------------------------------

    private void checkGolden(String what, Tensor expected, Tensor actual, Tensor ref64, Tensor actual64) {
        double err = Close.maxAbsDiff(expected.toDoubleArray(), actual.toDoubleArray());
        System.out.printf("golden %s: max |err| float32 %.3g%n", what, err);
        Close.assertClose(expected, actual, 1e-5, what);
        if (ref64 != null) Close.assertClose(ref64, actual64, 1e-9, what + " (float64 path vs ref64)");
    }

    @Test
    void goldenSoftmaxAndLogSoftmax() {
        for (String c : new String[] {"softmax", "softmax_large_logits", "log_softmax"}) {
            boolean log = c.startsWith("log");
            String f = log ? "logsoftmax" : "softmax";
            Tensor x = golden(c, "in_logits.npy");
            Tensor y = own(log ? K.logSoftmax(x) : K.softmax(x));
            Tensor y64 = own(log ? K.logSoftmax(f64(x)) : K.softmax(f64(x)));
            checkGolden(c, golden(c, "out_" + f + ".npy"), y, golden(c, "ref64_" + f + ".npy"), y64);
        }
    }

    @Test
    void goldenSoftmaxCrossEntropy() {
        String c = "softmax_cross_entropy_with_logits";
        Tensor x = golden(c, "in_features.npy");
        Tensor lab = golden(c, "in_labels.npy");
        CrossEntropy ce = own(K.softmaxCrossEntropy(x, lab));
        CrossEntropy ce64 = own(K.softmaxCrossEntropy(f64(x), f64(lab)));
        checkGolden(c + " loss", golden(c, "out_loss.npy"), ce.loss(), golden(c, "ref64_loss.npy"), ce64.loss());
        checkGolden(c + " backprop", golden(c, "out_backprop.npy"), ce.backprop(), golden(c, "ref64_backprop.npy"), ce64.backprop());
    }

    @Test
    void goldenSparseSoftmaxCrossEntropy() {
        String c = "sparse_softmax_cross_entropy_with_logits";
        Tensor x = golden(c, "in_features.npy");
        Tensor lab = golden(c, "in_labels.npy"); // int64
        assertEquals(DType.INT64, lab.dtype());
        for (Tensor labels : new Tensor[] {lab, own(lab.cast(DType.INT32))}) {
            CrossEntropy ce = own(K.sparseSoftmaxCrossEntropy(x, labels));
            CrossEntropy ce64 = own(K.sparseSoftmaxCrossEntropy(f64(x), labels));
            String what = c + " (" + labels.dtype() + " labels)";
            checkGolden(what + " loss", golden(c, "out_loss.npy"), ce.loss(), golden(c, "ref64_loss.npy"), ce64.loss());
            checkGolden(what + " backprop", golden(c, "out_backprop.npy"), ce.backprop(), golden(c, "ref64_backprop.npy"), ce64.backprop());
        }
    }

    // ---- errors ----------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void errors() {
        Tensor x = rand32(3, 1, 4, 5);
        Tensor ints = own(Tensor.of(new int[] {1, 2, 3}, 3));
        assertMessage(() -> K.softmax(ints), "softmax", "INT32");
        assertMessage(() -> K.logSoftmax(own(Tensor.of(new float[] {1f}))).close(), "logSoftmax", "rank");
        Tensor labBad = rand32(4, 1, 4, 6);
        assertMessage(() -> K.softmaxCrossEntropy(x, labBad), "softmaxCrossEntropy", "[4, 6]", "[4, 5]");
        assertMessage(() -> K.softmaxCrossEntropy(x, f64(x)), "softmaxCrossEntropy", "FLOAT64", "FLOAT32");
        Tensor badLabel = own(Tensor.of(new long[] {0, 4, 5, 1}, 4));
        assertMessage(() -> K.sparseSoftmaxCrossEntropy(x, badLabel), "row 2", "label 5");
        Tensor negLabel = own(Tensor.of(new int[] {0, -1, 0, 1}, 4));
        assertMessage(() -> K.sparseSoftmaxCrossEntropy(x, negLabel), "row 1", "label -1");
        Tensor shortLabels = own(Tensor.of(new int[] {0, 1, 2}, 3));
        assertMessage(() -> K.sparseSoftmaxCrossEntropy(x, shortLabels), "sparseSoftmaxCrossEntropy", "[3]", "[4, 5]");
        assertMessage(() -> K.sparseSoftmaxCrossEntropy(x, labBad), "int32 or int64", "FLOAT32");
    }
}
