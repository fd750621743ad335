package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Local response normalisation across the last axis, TensorFlow's LRN and LRNGrad. Tensors are
 * any shape {@code [..., C]} (NHWC in practice), normalised independently per row of C channels:
 * norm[c] = bias + alpha * sum_{k in [c-r, c+r] clipped to [0, C)} x[k]^2 and
 * y[c] = x[c] * norm[c]^-beta (alpha is not divided by the window size).
 *
 * <p>LRNGrad follows TF's formula, which uses the given forward output:
 * dx[k] = dy[k] * norm[k]^-beta - 2 alpha beta x[k] * sum_{j : |j-k| <= r} dy[j] * y[j] / norm[j].
 *
 * <p>float32: rows in parallel; within a row the window sums are vectorised over channels by
 * adding 2r+1 shifted loads of a zero-padded scratch row (no running sum, so no cancellation).
 * float64 is the plain reference path.
 */
public final class LrnCpu implements LrnKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int WORK_PER_CHUNK = 1 << 14;

    // ---- validation ---------------------------------------------------------------------------

    private static DType check(String op, Tensor input, LrnSpec spec) {
        if (input == null) throw new IllegalArgumentException(op + ": input is null");
        if (spec == null) throw new IllegalArgumentException(op + ": spec is null");
        DType t = input.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t + " (input " + input.shape() + "); only FLOAT32 and FLOAT64");
        }
        if (input.rank() < 1) throw new IllegalArgumentException(op + ": input must have a channel axis, got shape " + input.shape());
        if (spec.depthRadius() < 0) throw new IllegalArgumentException(op + ": depthRadius " + spec.depthRadius() + " must be >= 0");
        return t;
    }

    private static void checkLike(String op, String arg, Tensor t, Tensor input) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is required (input " + input.shape() + ")");
        if (t.dtype() != input.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != input dtype " + input.dtype());
        }
        if (!t.shape().equals(input.shape())) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != input shape " + input.shape());
        }
    }

    // ---- float32 row helpers ------------------------------------------------------------------

    /**
     * norm[0..c) = bias + alpha * window sums of pad, where pad[r + k] holds the k-th value and the
     * r cells on either side are zero (so the clipped window needs no special cases).
     */
    private static void windowNorm(float[] pad, int r, int c, float bias, float alpha, float[] norm) {
        int vecEnd = F.loopBound(c);
        for (int ch = 0; ch < vecEnd; ch += L) {
            FloatVector acc = FloatVector.fromArray(F, pad, ch);
            for (int d = 1; d <= 2 * r; d++) acc = acc.add(FloatVector.fromArray(F, pad, ch + d));
            acc.fma(alpha, bias).intoArray(norm, ch);
        }
        for (int ch = vecEnd; ch < c; ch++) {
            float acc = pad[ch];
            for (int d = 1; d <= 2 * r; d++) acc += pad[ch + d];
            norm[ch] = Math.fma(acc, alpha, bias);
        }
    }

    /** Window sums of pad (as in windowNorm) without the affine map. */
    private static void windowSum(float[] pad, int r, int c, float[] out) {
        int vecEnd = F.loopBound(c);
        for (int ch = 0; ch < vecEnd; ch += L) {
            FloatVector acc = FloatVector.fromArray(F, pad, ch);
            for (int d = 1; d <= 2 * r; d++) acc = acc.add(FloatVector.fromArray(F, pad, ch + d));
            acc.intoArray(out, ch);
        }
        for (int ch = vecEnd; ch < c; ch++) {
            float acc = pad[ch];
            for (int d = 1; d <= 2 * r; d++) acc += pad[ch + d];
            out[ch] = acc;
        }
    }

    /** p = norm^-beta, with the common betas (0.5, 0.75, 1) done by vector square roots. */
    private static void powNegBeta(float[] norm, int c, float beta, float[] p) {
        int vecEnd = (beta == 0.5f || beta == 0.75f || beta == 1f) ? F.loopBound(c) : 0;
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int ch = 0; ch < vecEnd; ch += L) {
            FloatVector n = FloatVector.fromArray(F, norm, ch);
            FloatVector v;
            if (beta == 0.5f) {
                v = one.div(n.lanewise(VectorOperators.SQRT));
            } else if (beta == 0.75f) {
                FloatVector s = n.lanewise(VectorOperators.SQRT);
                v = one.div(s.mul(s.lanewise(VectorOperators.SQRT)));
            } else {
                v = one.div(n);
            }
            v.intoArray(p, ch);
        }
        for (int ch = vecEnd; ch < c; ch++) p[ch] = (float) Math.pow(norm[ch], -beta);
    }

    /** Effective radius: a window wider than the row is the whole row. */
    private static int radius(LrnSpec spec, int c) {
        return Math.max(0, Math.min(spec.depthRadius(), c - 1));
    }

    private static int rowGrain(int c, int r) {
        return Math.max(1, WORK_PER_CHUNK / Math.max(1, c * (2 * r + 3)));
    }

    // ---- forward ------------------------------------------------------------------------------

    @Override
    public Tensor lrn(Tensor input, LrnSpec spec) {
        DType dt = check("lrn", input, spec);
        Tensor y = Tensor.empty(dt, input.shape());
        int c = input.dim(-1);
        if (c == 0) return y;
        int rows = input.numel() / c;
        if (dt == DType.FLOAT32) {
            lrnF(input.floatData(), input.offset(), y.floatData(), rows, c, spec);
        } else {
            lrnD(input.doubleData(), input.offset(), y.doubleData(), rows, c, spec);
        }
        return y;
    }

    private static void lrnF(float[] x, int xo, float[] y, int rows, int c, LrnSpec spec) {
        int r = radius(spec, c);
        int vecEnd = F.loopBound(c);
        Parallel.forRange(rows, rowGrain(c, r), (s, e) -> {
            float[] pad = new float[c + 2 * r];
            float[] norm = new float[c];
            float[] p = new float[c];
            for (int row = s; row < e; row++) {
                int xb = xo + row * c, yb = row * c;
                for (int ch = 0; ch < c; ch++) pad[r + ch] = x[xb + ch] * x[xb + ch];
                windowNorm(pad, r, c, spec.bias(), spec.alpha(), norm);
                powNegBeta(norm, c, spec.beta(), p);
                for (int ch = 0; ch < vecEnd; ch += L) {
                    FloatVector.fromArray(F, x, xb + ch).mul(FloatVector.fromArray(F, p, ch)).intoArray(y, yb + ch);
                }
                for (int ch = vecEnd; ch < c; ch++) y[yb + ch] = x[xb + ch] * p[ch];
            }
        });
    }

    private static double normD(double[] x, int xb, int c, int ch, LrnSpec spec) {
        double sum = 0;
        int r = Math.min(spec.depthRadius(), c);
        for (int k = Math.max(0, ch - r); k <= Math.min(c - 1, ch + r); k++) {
            sum += x[xb + k] * x[xb + k];
        }
        return (double) spec.bias() + (double) spec.alpha() * sum;
    }

    private static void lrnD(double[] x, int xo, double[] y, int rows, int c, LrnSpec spec) {
        for (int row = 0; row < rows; row++) {
            int xb = xo + row * c;
            for (int ch = 0; ch < c; ch++) {
                y[row * c + ch] = x[xb + ch] * Math.pow(normD(x, xb, c, ch, spec), -(double) spec.beta());
            }
        }
    }

    // ---- backward -----------------------------------------------------------------------------

    @Override
    public Tensor lrnGrad(Tensor input, Tensor output, Tensor dy, LrnSpec spec) {
        DType dt = check("lrnGrad", input, spec);
        checkLike("lrnGrad", "output", output, input);
        checkLike("lrnGrad", "dy", dy, input);
        // float32 writes every element; the float64 reference scatters (+=) into zeros.
        Tensor dx = dt == DType.FLOAT32 ? Tensor.empty(dt, input.shape()) : Tensor.zeros(dt, input.shape());
        int c = input.dim(-1);
        if (c == 0) return dx;
        int rows = input.numel() / c;
        if (dt == DType.FLOAT32) {
            lrnGradF(input.floatData(), input.offset(), output.floatData(), output.offset(),
                    dy.floatData(), dy.offset(), dx.floatData(), rows, c, spec);
        } else {
            lrnGradD(input.doubleData(), input.offset(), output.doubleData(), output.offset(),
                    dy.doubleData(), dy.offset(), dx.doubleData(), rows, c, spec);
        }
        return dx;
    }

    private static void lrnGradF(float[] x, int xo, float[] y, int yo, float[] dy, int go, float[] dx,
                                 int rows, int c, LrnSpec spec) {
        int r = radius(spec, c);
        int vecEnd = F.loopBound(c);
        float k = -2f * spec.alpha() * spec.beta();
        Parallel.forRange(rows, rowGrain(c, r), (s, e) -> {
            float[] pad = new float[c + 2 * r];
            float[] norm = new float[c];
            float[] p = new float[c];
            float[] acc = new float[c];
            for (int row = s; row < e; row++) {
                int xb = xo + row * c, yb = yo + row * c, gb = go + row * c, ob = row * c;
                for (int ch = 0; ch < c; ch++) pad[r + ch] = x[xb + ch] * x[xb + ch];
                windowNorm(pad, r, c, spec.bias(), spec.alpha(), norm);
                powNegBeta(norm, c, spec.beta(), p);
                // t[j] = dy[j] * y[j] / norm[j]; each dx[k] collects t over the same symmetric window.
                for (int ch = 0; ch < vecEnd; ch += L) {
                    FloatVector.fromArray(F, dy, gb + ch).mul(FloatVector.fromArray(F, y, yb + ch))
                            .div(FloatVector.fromArray(F, norm, ch)).intoArray(pad, r + ch);
                }
                for (int ch = vecEnd; ch < c; ch++) pad[r + ch] = dy[gb + ch] * y[yb + ch] / norm[ch];
                windowSum(pad, r, c, acc);
                for (int ch = 0; ch < vecEnd; ch += L) {
                    FloatVector kx = FloatVector.fromArray(F, x, xb + ch).mul(k);
                    FloatVector gp = FloatVector.fromArray(F, dy, gb + ch).mul(FloatVector.fromArray(F, p, ch));
                    kx.fma(FloatVector.fromArray(F, acc, ch), gp).intoArray(dx, ob + ch);
                }
                for (int ch = vecEnd; ch < c; ch++) dx[ob + ch] = Math.fma(k * x[xb + ch], acc[ch], dy[gb + ch] * p[ch]);
            }
        });
    }

    private static void lrnGradD(double[] x, int xo, double[] y, int yo, double[] dy, int go, double[] dx,
                                 int rows, int c, LrnSpec spec) {
        double alpha = spec.alpha(), beta = spec.beta();
        int r = Math.min(spec.depthRadius(), c);
        for (int row = 0; row < rows; row++) {
            int xb = xo + row * c, ob = row * c;
            // Scatter form, as TF writes it: output j's gradient reaches every k in its window.
            for (int j = 0; j < c; j++) {
                double norm = normD(x, xb, c, j, spec);
                double g = dy[go + ob + j];
                for (int kk = Math.max(0, j - r); kk <= Math.min(c - 1, j + r); kk++) {
                    double d = -2.0 * alpha * beta * x[xb + kk] * y[yo + ob + j] / norm;
                    if (kk == j) d += Math.pow(norm, -beta);
                    dx[ob + kk] += d * g;
                }
            }
        }
    }
}
