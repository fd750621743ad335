package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Softmax, log-softmax and the two softmax cross-entropy losses over the last axis. Any rank >= 1:
 * the tensor is read as rows of C = last-dimension classes, row-major. Every row is shifted by its
 * maximum before exp(), so logits of any magnitude neither overflow nor lose the winner.
 * The cross entropies return loss with the leading dimensions (e.g. [N]) and backprop = softmax -
 * labels with the logits' shape, as TensorFlow's fused ops do.
 */
public final class SoftmaxCpu implements SoftmaxKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Elements per parallel task; rows are cheap, so keep tasks reasonably large. */
    private static final int GRAIN_ELEMS = 8192;

    @Override
    public Tensor softmax(Tensor logits) {
        return plain("softmax", logits, false);
    }

    @Override
    public Tensor logSoftmax(Tensor logits) {
        return plain("logSoftmax", logits, true);
    }

    private static Tensor plain(String op, Tensor logits, boolean log) {
        int c = classes(op, logits);
        Tensor out = Tensor.zeros(logits.dtype(), logits.shape());
        if (c == 0) return out;
        int rows = logits.numel() / c;
        if (logits.dtype() == DType.FLOAT32) {
            float[] x = logits.floatData();
            int xo = logits.offset();
            float[] y = out.floatData();
            Parallel.forRange(rows, grain(c), (s, e) -> {
                for (int r = s; r < e; r++) {
                    int xi = xo + r * c;
                    int yi = r * c;
                    float max = maxF(x, xi, c);
                    float sum = expShiftedF(x, xi, y, yi, c, max);
                    if (log) {
                        // log_softmax = (x - max) - log(sum exp(x - max))
                        float lse = (float) Math.log(sum);
                        subtractF(x, xi, max, lse, y, yi, c);
                    } else {
                        scaleF(y, yi, c, sum);
                    }
                }
            });
        } else {
            double[] x = logits.doubleData();
            int xo = logits.offset();
            double[] y = out.doubleData();
            for (int r = 0; r < rows; r++) {
                int xi = xo + r * c;
                double max = maxD(x, xi, c);
                double sum = 0;
                for (int j = 0; j < c; j++) sum += Math.exp(x[xi + j] - max);
                double lse = Math.log(sum);
                for (int j = 0; j < c; j++) {
                    double shifted = x[xi + j] - max;
                    y[r * c + j] = log ? shifted - lse : Math.exp(shifted) / sum;
                }
            }
        }
        return out;
    }

    @Override
    public CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels) {
        String op = "softmaxCrossEntropy";
        int c = classes(op, logits);
        if (labels.dtype() != logits.dtype()) {
            throw new IllegalArgumentException(op + ": labels dtype " + labels.dtype() + " != logits dtype " + logits.dtype());
        }
        if (!labels.shape().equals(logits.shape())) {
            throw new IllegalArgumentException(op + ": labels shape " + labels.shape() + " != logits shape " + logits.shape());
        }
        Tensor loss = Tensor.zeros(logits.dtype(), leadingShape(logits));
        Tensor backprop = Tensor.zeros(logits.dtype(), logits.shape());
        if (c == 0) return new CrossEntropy(loss, backprop);
        int rows = logits.numel() / c;
        if (logits.dtype() == DType.FLOAT32) {
            float[] x = logits.floatData();
            int xo = logits.offset();
            float[] lab = labels.floatData();
            int lo = labels.offset();
            float[] l = loss.floatData();
            float[] bp = backprop.floatData();
            Parallel.forRange(rows, grain(c), (s, e) -> {
                for (int r = s; r < e; r++) {
                    int xi = xo + r * c;
                    int li = lo + r * c;
                    int bi = r * c;
                    float max = maxF(x, xi, c);
                    float sum = expShiftedF(x, xi, bp, bi, c, max);
                    float lse = (float) Math.log(sum);
                    // loss = sum(labels * (lse - (x - max))); accumulated in double (rows may be long)
                    double acc = 0;
                    float inv = 1f / sum;
                    for (int j = 0; j < c; j++) {
                        float lj = lab[li + j];
                        acc += lj * (lse - (x[xi + j] - max));
                        bp[bi + j] = bp[bi + j] * inv - lj;
                    }
                    l[r] = (float) acc;
                }
            });
        } else {
            double[] x = logits.doubleData();
            int xo = logits.offset();
            double[] lab = labels.doubleData();
            int lo = labels.offset();
            double[] l = loss.doubleData();
            double[] bp = backprop.doubleData();
            for (int r = 0; r < rows; r++) {
                int xi = xo + r * c;
                double max = maxD(x, xi, c);
                double sum = 0;
                for (int j = 0; j < c; j++) sum += Math.exp(x[xi + j] - max);
                double lse = Math.log(sum);
                double acc = 0;
                for (int j = 0; j < c; j++) {
                    double shifted = x[xi + j] - max;
                    double lj = lab[lo + r * c + j];
                    acc += lj * (lse - shifted);
                    bp[r * c + j] = Math.exp(shifted) / sum - lj;
                }
                l[r] = acc;
            }
        }
        return new CrossEntropy(loss, backprop);
    }

    @Override
    public CrossEntropy sparseSoftmaxCrossEntropy(Tensor logits, Tensor labels) {
        String op = "sparseSoftmaxCrossEntropy";
        int c = classes(op, logits);
        if (labels.dtype() != DType.INT32 && labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": labels must be int32 or int64, got " + labels.dtype());
        }
        Shape lead = leadingShape(logits);
        if (!labels.shape().equals(lead)) {
            throw new IllegalArgumentException(op + ": labels shape " + labels.shape() + " must be the logits shape without its last axis "
                    + lead + " (logits " + logits.shape() + ")");
        }
        // Validate every label before allocating, so a bad label leaks nothing.
        int rows = lead.numel();
        int[] cls = new int[rows];
        if (labels.dtype() == DType.INT32) {
            int[] a = labels.intData();
            for (int r = 0; r < rows; r++) cls[r] = checkLabel(op, r, a[labels.offset() + r], c);
        } else {
            long[] a = labels.longData();
            for (int r = 0; r < rows; r++) cls[r] = checkLabel(op, r, a[labels.offset() + r], c);
        }
        Tensor loss = Tensor.zeros(logits.dtype(), lead);
        Tensor backprop = Tensor.zeros(logits.dtype(), logits.shape());
        if (logits.dtype() == DType.FLOAT32) {
            float[] x = logits.floatData();
            int xo = logits.offset();
            float[] l = loss.floatData();
            float[] bp = backprop.floatData();
            Parallel.forRange(rows, grain(c), (s, e) -> {
                for (int r = s; r < e; r++) {
                    int xi = xo + r * c;
                    int bi = r * c;
                    float max = maxF(x, xi, c);
                    float sum = expShiftedF(x, xi, bp, bi, c, max);
                    scaleF(bp, bi, c, sum);
                    int k = cls[r];
                    l[r] = (float) Math.log(sum) - (x[xi + k] - max);
                    bp[bi + k] -= 1f;
                }
            });
        } else {
            double[] x = logits.doubleData();
            int xo = logits.offset();
            double[] l = loss.doubleData();
            double[] bp = backprop.doubleData();
            for (int r = 0; r < rows; r++) {
                int xi = xo + r * c;
                double max = maxD(x, xi, c);
                double sum = 0;
                for (int j = 0; j < c; j++) sum += Math.exp(x[xi + j] - max);
                for (int j = 0; j < c; j++) {
                    bp[r * c + j] = Math.exp(x[xi + j] - max) / sum - (j == cls[r] ? 1.0 : 0.0);
                }
                l[r] = Math.log(sum) - (x[xi + cls[r]] - max);
            }
        }
        return new CrossEntropy(loss, backprop);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static int checkLabel(String op, int row, long label, int classes) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException(op + ": label " + label + " of row " + row + " is out of range [0, " + classes + ")");
        }
        return (int) label;
    }

    /** Validates dtype and rank; returns the number of classes (size of the last axis). */
    private static int classes(String op, Tensor logits) {
        DType t = logits.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": logits dtype " + t + " is not supported (float32 or float64)");
        }
        if (logits.rank() < 1) {
            throw new IllegalArgumentException(op + ": logits must have rank >= 1 (last axis = classes), got shape " + logits.shape());
        }
        return logits.dim(-1);
    }

    private static Shape leadingShape(Tensor t) {
        return Shape.of(Arrays.copyOf(t.dims(), t.rank() - 1));
    }

    private static int grain(int c) {
        return Math.max(1, GRAIN_ELEMS / Math.max(1, c));
    }

    static float maxF(float[] a, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        int step = F.length();
        if (n >= step) {
            FloatVector mv = FloatVector.fromArray(F, a, off);
            for (i = step; i <= n - step; i += step) mv = mv.max(FloatVector.fromArray(F, a, off + i));
            m = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    private static double maxD(double[] a, int off, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    /** y = exp(x - max) and returns the row sum (accumulated in double: long rows stay accurate). */
    private static float expShiftedF(float[] x, int xi, float[] y, int yi, int n, float max) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(x[xi + j] - max);
            y[yi + j] = e;
            sum += e;
        }
        return (float) sum;
    }

    /** y /= sum, vectorised. */
    private static void scaleF(float[] y, int yi, int n, float sum) {
        int step = F.length();
        int j = 0;
        FloatVector sv = FloatVector.broadcast(F, sum);
        for (; j <= n - step; j += step) FloatVector.fromArray(F, y, yi + j).div(sv).intoArray(y, yi + j);
        for (; j < n; j++) y[yi + j] /= sum;
    }

    /** y = (x - max) - lse, vectorised. */
    private static void subtractF(float[] x, int xi, float max, float lse, float[] y, int yi, int n) {
        int step = F.length();
        int j = 0;
        FloatVector mv = FloatVector.broadcast(F, max);
        FloatVector lv = FloatVector.broadcast(F, lse);
        for (; j <= n - step; j += step) FloatVector.fromArray(F, x, xi + j).sub(mv).sub(lv).intoArray(y, yi + j);
        for (; j < n; j++) y[yi + j] = (x[xi + j] - max) - lse;
    }
}
