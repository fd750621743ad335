package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Fused batch normalisation over the last axis with TensorFlow's FusedBatchNormV3 semantics.
 * x (and y, dy, dx) is any shape {@code [..., C]}, viewed as M = numel / C rows of C channels;
 * scale, offset, mean, variance and the per-channel results are {@code [C]}. The training
 * variance is the biased one (divide by M); TF's Bessel-corrected batch_variance output is the
 * caller's business (variance * M / (M - 1)).
 *
 * <p>float32: per-channel sums are taken in double, in fixed row blocks run in parallel with
 * per-block partials that are reduced in block order (so results do not depend on scheduling);
 * the elementwise passes are vectorised over channels and parallel over rows. The mean/variance
 * pass is single-pass around a per-channel shift (the first row), which avoids the cancellation
 * of sum(x^2) - M*mean^2 when |mean| >> std. float64 is the plain two-pass reference.
 *
 * <p>The training passes take an optional activation ({@link FusedBatchNormCpu}): the forward
 * clamps in its normalising pass, the backward masks dy where the activation is flat, recomputing
 * z = (x - m - mLo) * a + b from the forward's own float constants (its {@code affine}, rows m,
 * mLo, a, b) so that the mask matches the forward's output bit for bit.
 */
public final class BatchNormCpu implements BatchNormKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Aim for roughly this many elements per parallel chunk / partial-sum block. */
    private static final int WORK_PER_CHUNK = 1 << 14;

    // ---- validation ---------------------------------------------------------------------------

    private static DType floatType(String op, Tensor x) {
        if (x == null) throw new IllegalArgumentException(op + ": x is null");
        DType t = x.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t + " (x " + x.shape() + "); only FLOAT32 and FLOAT64");
        }
        if (x.rank() < 1) throw new IllegalArgumentException(op + ": x must have a channel axis, got shape " + x.shape());
        return t;
    }

    /** Checks a per-channel argument: null allowed only where {@code optional}. */
    private static void checkChannel(String op, String arg, Tensor t, Tensor x, boolean optional) {
        if (t == null) {
            if (optional) return;
            throw new IllegalArgumentException(op + ": " + arg + " is required (x " + x.shape() + ")");
        }
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != x dtype " + x.dtype());
        }
        int c = x.dim(-1);
        if (t.rank() != 1 || t.dim(0) != c) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != [" + c + "] (x " + x.shape() + ")");
        }
    }

    private static void checkLike(String op, String arg, Tensor t, Tensor x) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is required (x " + x.shape() + ")");
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != x dtype " + x.dtype());
        }
        if (!t.shape().equals(x.shape())) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != x shape " + x.shape());
        }
    }

    private static int rows(Tensor x) {
        int c = x.dim(-1);
        return c == 0 ? 0 : x.numel() / c;
    }

    /** Per-channel values widened to double; null gives {@code dflt} everywhere. */
    private static double[] channel(Tensor t, int c, double dflt) {
        if (t == null) {
            double[] a = new double[c];
            java.util.Arrays.fill(a, dflt);
            return a;
        }
        return t.toDoubleArray();
    }

    private static Tensor channelTensor(DType dt, double[] v) {
        Tensor t = Tensor.zeros(dt, Shape.of(v.length));
        if (dt == DType.FLOAT32) {
            float[] a = t.floatData();
            for (int i = 0; i < v.length; i++) a[i] = (float) v[i];
        } else {
            System.arraycopy(v, 0, t.doubleData(), 0, v.length);
        }
        return t;
    }

    private static float[] toFloats(double[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) a[i] = (float) v[i];
        return a;
    }

    // ---- float32 building blocks --------------------------------------------------------------

    /** Row blocks for partial sums: fixed for a given (rows, channels), independent of scheduling. */
    private static int blocks(int rows, int c) {
        int perBlock = Math.max(1, WORK_PER_CHUNK / Math.max(1, c));
        return Math.max(1, Math.min(Parallel.threads() * 4, (rows + perBlock - 1) / perBlock));
    }

    /** Body of a per-block reduction: adds rows [r0, r1) into acc[o .. o + 2*C). */
    @FunctionalInterface
    private interface BlockSum {
        void run(int r0, int r1, double[] acc, int o);
    }

    /** Runs body over row blocks in parallel and adds the partials in block order. */
    private static double[] reduceRows(int rows, int c, BlockSum body) {
        int nb = blocks(rows, c);
        int per = (rows + nb - 1) / nb;
        // The partials belong to the calling thread (reused across calls); each block clears its own.
        double[] partial = PARTIALS.get();
        if (partial.length < nb * 2 * c) {
            partial = new double[nb * 2 * c];
            PARTIALS.set(partial);
        }
        double[] part = partial;
        Parallel.forRange(nb, 1, (s, e) -> {
            for (int blk = s; blk < e; blk++) {
                java.util.Arrays.fill(part, blk * 2 * c, (blk + 1) * 2 * c, 0.0);
                body.run(blk * per, Math.min(rows, (blk + 1) * per), part, blk * 2 * c);
            }
        });
        double[] total = new double[2 * c];
        for (int blk = 0; blk < nb; blk++) {
            for (int i = 0; i < total.length; i++) total[i] += part[blk * 2 * c + i];
        }
        return total;
    }

    private static final ThreadLocal<double[]> PARTIALS = ThreadLocal.withInitial(() -> new double[0]);
    /** Per-thread float accumulators of the vectorised reductions: 2 x C floats. */
    private static final ThreadLocal<float[]> FACC = ThreadLocal.withInitial(() -> new float[0]);
    /** Rows summed in float before they are added into the double partials (bounds float rounding). */
    private static final int FLOAT_RUN = 32;

    private static float[] facc(int c) {
        float[] f = FACC.get();
        if (f.length < 2 * c) {
            f = new float[2 * c];
            FACC.set(f);
        }
        java.util.Arrays.fill(f, 0, 2 * c, 0f);
        return f;
    }

    /** acc[o + ch] += f[ch], acc[o + c + ch] += f[c + ch]; then f is cleared. */
    private static void flush(float[] f, double[] acc, int o, int c) {
        for (int i = 0; i < 2 * c; i++) {
            acc[o + i] += f[i];
            f[i] = 0f;
        }
    }

    /**
     * Per channel over rows [r0, r1): acc[o + ch] += sum(x - shift), acc[o + c + ch] +=
     * sum((x - shift)^2). Vectorised over channels; runs of FLOAT_RUN rows are summed in float
     * and then added in double.
     */
    private static void momentsF(float[] x, int xo, int c, float[] shift, int r0, int r1, double[] acc, int o) {
        float[] f = facc(c);
        int vecEnd = F.loopBound(c);
        for (int rb = r0; rb < r1; rb += FLOAT_RUN) {
            int re = Math.min(r1, rb + FLOAT_RUN);
            for (int r = rb; r < re; r++) {
                int xb = xo + r * c;
                int ch = 0;
                for (; ch < vecEnd; ch += L) {
                    FloatVector d = FloatVector.fromArray(F, x, xb + ch).sub(FloatVector.fromArray(F, shift, ch));
                    FloatVector.fromArray(F, f, ch).add(d).intoArray(f, ch);
                    d.fma(d, FloatVector.fromArray(F, f, c + ch)).intoArray(f, c + ch);
                }
                for (; ch < c; ch++) {
                    float d = x[xb + ch] - shift[ch];
                    f[ch] += d;
                    f[c + ch] += d * d;
                }
            }
            flush(f, acc, o, c);
        }
    }

    /**
     * Per channel over rows [r0, r1): acc[o + ch] += sum(g), acc[o + c + ch] += sum(g * (x - m))
     * with g = dy masked by act'(z) (z from af; af unused when act is NONE); with {@code out != null}
     * also out = g * k (the inference-mode input gradient, same pass).
     */
    private static void gradMomentsF(float[] dy, int dyo, float[] x, int xo, int c, float[] m, int r0, int r1,
                                     double[] acc, int o, float[] out, float[] k, Affine af, Activation act) {
        float[] f = facc(c);
        int vecEnd = F.loopBound(c);
        for (int rb = r0; rb < r1; rb += FLOAT_RUN) {
            int re = Math.min(r1, rb + FLOAT_RUN);
            for (int r = rb; r < re; r++) {
                int xb = xo + r * c, gb = dyo + r * c, ob = r * c;
                int ch = 0;
                for (; ch < vecEnd; ch += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xb + ch);
                    FloatVector g = masked(FloatVector.fromArray(F, dy, gb + ch), xv, af, ch, act);
                    FloatVector xc = xv.sub(FloatVector.fromArray(F, m, ch));
                    FloatVector.fromArray(F, f, ch).add(g).intoArray(f, ch);
                    g.fma(xc, FloatVector.fromArray(F, f, c + ch)).intoArray(f, c + ch);
                    if (out != null) g.mul(FloatVector.fromArray(F, k, ch)).intoArray(out, ob + ch);
                }
                for (; ch < c; ch++) {
                    float g = masked(dy[gb + ch], x[xb + ch], af, ch, act);
                    f[ch] += g;
                    f[c + ch] += g * (x[xb + ch] - m[ch]);
                    if (out != null) out[ob + ch] = g * k[ch];
                }
            }
            flush(f, acc, o, c);
        }
    }

    private static int rowGrain(int c) {
        return Math.max(1, WORK_PER_CHUNK / Math.max(1, c));
    }

    /**
     * out = (x - mean) * a + b per channel, rows in parallel. The (double) mean is applied as a
     * float pair m + mLo: x - m is exact when x is near the mean, so a mean far from zero
     * (|mean| >> std) does not cost the result its low digits.
     */
    private static void affineF(float[] x, int xo, float[] out, int rows, int c, double[] mean, float[] a, float[] b) {
        affineF(x, xo, out, rows, c, Affine.of(mean, a, b), Activation.NONE);
    }

    /**
     * The per-channel float constants of z = (x - m - mLo) * a + b: the (double) mean as a float
     * pair m + mLo, so that x - m is exact when x is near the mean and a mean far from zero
     * (|mean| >> std) does not cost the result its low digits.
     */
    record Affine(float[] m, float[] mLo, float[] a, float[] b) {
        static Affine of(double[] mean, float[] a, float[] b) {
            float[] m = toFloats(mean);
            float[] mLo = new float[m.length];
            for (int ch = 0; ch < m.length; ch++) mLo[ch] = (float) (mean[ch] - m[ch]);
            return new Affine(m, mLo, a, b);
        }

        /** As a [4, C] float32 tensor: rows m, mLo, a, b. */
        Tensor toTensor() {
            int c = m.length;
            Tensor t = Tensor.empty(DType.FLOAT32, Shape.of(4, c));
            float[] d = t.floatData();
            System.arraycopy(m, 0, d, 0, c);
            System.arraycopy(mLo, 0, d, c, c);
            System.arraycopy(a, 0, d, 2 * c, c);
            System.arraycopy(b, 0, d, 3 * c, c);
            return t;
        }

        static Affine fromTensor(String op, Tensor t, int c) {
            if (t == null || t.dtype() != DType.FLOAT32 || !t.shape().equals(Shape.of(4, c))) {
                throw new IllegalArgumentException(op + ": affine must be the forward's float32 [4, " + c + "] constants, got "
                        + (t == null ? "null" : t.dtype() + " " + t.shape()));
            }
            float[] d = t.floatData();
            int o = t.offset();
            return new Affine(java.util.Arrays.copyOfRange(d, o, o + c), java.util.Arrays.copyOfRange(d, o + c, o + 2 * c),
                    java.util.Arrays.copyOfRange(d, o + 2 * c, o + 3 * c), java.util.Arrays.copyOfRange(d, o + 3 * c, o + 4 * c));
        }

        /** z at x[xi .. xi + L) for channels ch .. ch + L. */
        FloatVector z(FloatVector xv, int ch) {
            return xv.sub(FloatVector.fromArray(F, m, ch)).sub(FloatVector.fromArray(F, mLo, ch))
                    .fma(FloatVector.fromArray(F, a, ch), FloatVector.fromArray(F, b, ch));
        }

        float z(float x, int ch) {
            return Math.fma(x - m[ch] - mLo[ch], a[ch], b[ch]);
        }
    }

    /** act(z), vector and scalar. */
    private static FloatVector activate(FloatVector z, Activation act) {
        return switch (act) {
            case NONE -> z;
            case RELU -> z.max(0f);
            case RELU6 -> z.max(0f).min(6f);
        };
    }

    private static float activate(float z, Activation act) {
        return switch (act) {
            case NONE -> z;
            case RELU -> Math.max(z, 0f);
            case RELU6 -> Math.min(Math.max(z, 0f), 6f);
        };
    }

    /**
     * dy where act'(z) is 1, else 0, for the x the forward normalised into z (TF's ReluGrad /
     * Relu6Grad: open intervals (0, inf) and (0, 6)); dy itself for NONE (af may then be null).
     */
    private static FloatVector masked(FloatVector dy, FloatVector x, Affine af, int ch, Activation act) {
        if (act == Activation.NONE) return dy;
        FloatVector z = af.z(x, ch);
        VectorMask<Float> on = z.compare(VectorOperators.GT, 0f);
        if (act == Activation.RELU6) on = on.and(z.compare(VectorOperators.LT, 6f));
        return FloatVector.zero(F).blend(dy, on);
    }

    private static float masked(float dy, float x, Affine af, int ch, Activation act) {
        if (act == Activation.NONE) return dy;
        float z = af.z(x, ch);
        return z > 0f && (act == Activation.RELU || z < 6f) ? dy : 0f;
    }

    /** out = act(z) per element, rows in parallel. */
    private static void affineF(float[] x, int xo, float[] out, int rows, int c, Affine af, Activation act) {
        int vecEnd = F.loopBound(c);
        Parallel.forRange(rows, rowGrain(c), (s, e) -> {
            for (int r = s; r < e; r++) {
                int xb = xo + r * c, ob = r * c;
                for (int ch = 0; ch < vecEnd; ch += L) {
                    activate(af.z(FloatVector.fromArray(F, x, xb + ch), ch), act).intoArray(out, ob + ch);
                }
                for (int ch = vecEnd; ch < c; ch++) out[ob + ch] = activate(af.z(x[xb + ch], ch), act);
            }
        });
    }

    // ---- training forward ---------------------------------------------------------------------

    @Override
    public Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon) {
        FusedBatchNormKernels.Training t = training("batchNorm trainingForward", x, scale, offset, epsilon, Activation.NONE);
        t.affine().close();
        return new Training(t.y(), t.mean(), t.variance());
    }

    /** The training forward pass, y = act(z), for this family and {@link FusedBatchNormCpu}. */
    static FusedBatchNormKernels.Training training(String op, Tensor x, Tensor scale, Tensor offset, float epsilon, Activation act) {
        DType dt = floatType(op, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "offset", offset, x, true);
        int c = x.dim(-1), rows = rows(x);
        double[] sc = channel(scale, c, 1.0), of = channel(offset, c, 0.0);
        double[] mean = new double[c], var = new double[c];
        Tensor y = Tensor.empty(dt, x.shape());
        Tensor affine;
        if (dt == DType.FLOAT32) {
            float[] xa = x.floatData();
            int xo = x.offset();
            // Shift by the first row so the one-pass variance does not cancel.
            float[] shift = new float[c];
            if (rows > 0) System.arraycopy(xa, xo, shift, 0, c);
            double[] sums = reduceRows(rows, c, (r0, r1, acc, o) -> momentsF(xa, xo, c, shift, r0, r1, acc, o));
            for (int ch = 0; ch < c; ch++) {
                double m1 = sums[ch] / rows;
                mean[ch] = shift[ch] + m1;
                var[ch] = Math.max(0.0, sums[c + ch] / rows - m1 * m1);
            }
            float[] a = new float[c], b = toFloats(of);
            for (int ch = 0; ch < c; ch++) a[ch] = (float) (sc[ch] / Math.sqrt(var[ch] + epsilon));
            Affine af = Affine.of(mean, a, b);
            affineF(xa, xo, y.floatData(), rows, c, af, act);
            affine = af.toTensor();
        } else {
            double[] xa = x.doubleData(), ya = y.doubleData();
            int xo = x.offset();
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) mean[ch] += xa[xo + r * c + ch];
            }
            for (int ch = 0; ch < c; ch++) mean[ch] /= rows;
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    double d = xa[xo + r * c + ch] - mean[ch];
                    var[ch] += d * d;
                }
            }
            for (int ch = 0; ch < c; ch++) var[ch] /= rows;
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    int p = r * c + ch;
                    ya[p] = activateD(zD(xa[xo + p], sc[ch], mean[ch], var[ch], epsilon, of[ch]), act);
                }
            }
            // The float64 backward recomputes z from mean, variance, scale and this offset.
            affine = channelTensor(dt, of);
        }
        return new FusedBatchNormKernels.Training(y, channelTensor(dt, mean), channelTensor(dt, var), affine);
    }

    /** float64 z, as the reference forward computes it (the backward repeats it for its mask). */
    private static double zD(double x, double scale, double mean, double var, float epsilon, double offset) {
        return scale * (x - mean) / Math.sqrt(var + epsilon) + offset;
    }

    private static double activateD(double z, Activation act) {
        return switch (act) {
            case NONE -> z;
            case RELU -> Math.max(z, 0.0);
            case RELU6 -> Math.min(Math.max(z, 0.0), 6.0);
        };
    }

    private static double maskD(double dy, double z, Activation act) {
        return switch (act) {
            case NONE -> dy;
            case RELU -> z > 0 ? dy : 0;
            case RELU6 -> z > 0 && z < 6 ? dy : 0;
        };
    }

    // ---- inference forward --------------------------------------------------------------------

    @Override
    public Tensor inferenceForward(Tensor x, Tensor scale, Tensor offset, Tensor mean, Tensor variance, float epsilon) {
        String op = "batchNorm inferenceForward";
        DType dt = floatType(op, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "offset", offset, x, true);
        checkChannel(op, "mean", mean, x, false);
        checkChannel(op, "variance", variance, x, false);
        int c = x.dim(-1), rows = rows(x);
        double[] sc = channel(scale, c, 1.0), of = channel(offset, c, 0.0);
        double[] mu = mean.toDoubleArray(), var = variance.toDoubleArray();
        Tensor y = Tensor.empty(dt, x.shape());
        if (dt == DType.FLOAT32) {
            float[] a = new float[c];
            for (int ch = 0; ch < c; ch++) a[ch] = (float) (sc[ch] / Math.sqrt(var[ch] + epsilon));
            affineF(x.floatData(), x.offset(), y.floatData(), rows, c, mu, a, toFloats(of));
        } else {
            double[] xa = x.doubleData(), ya = y.doubleData();
            int xo = x.offset();
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    int p = r * c + ch;
                    ya[p] = sc[ch] * (xa[xo + p] - mu[ch]) / Math.sqrt(var[ch] + epsilon) + of[ch];
                }
            }
        }
        return y;
    }

    // ---- backward -----------------------------------------------------------------------------

    /** Per channel: [sum(g) | sum(g * (x - mean))] for g = dy masked by act'(z), float32 partial runs summed in double. */
    private static double[] gradSumsF(float[] dy, int dyo, float[] x, int xo, float[] m, int rows, int c, Affine af, Activation act) {
        return reduceRows(rows, c, (r0, r1, acc, o) -> gradMomentsF(dy, dyo, x, xo, c, m, r0, r1, acc, o, null, null, af, act));
    }

    @Override
    public Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        return trainingGrads("batchNorm trainingBackward", dy, x, scale, mean, variance, null, epsilon, Activation.NONE);
    }

    /**
     * The training backward pass for this family and {@link FusedBatchNormCpu}: the batch-norm
     * gradients of g = dy * act'(z), with z recomputed from {@code affine} (unused for NONE).
     */
    static Grads trainingGrads(String op, Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, Tensor affine,
                               float epsilon, Activation act) {
        DType dt = floatType(op, x);
        checkLike(op, "dy", dy, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "mean", mean, x, false);
        checkChannel(op, "variance", variance, x, false);
        int c = x.dim(-1), rows = rows(x);
        if (act != Activation.NONE && dt == DType.FLOAT64) checkChannel(op, "affine", affine, x, false);
        double[] sc = channel(scale, c, 1.0), mu = mean.toDoubleArray(), var = variance.toDoubleArray();
        double[] rstd = new double[c];
        for (int ch = 0; ch < c; ch++) rstd[ch] = 1.0 / Math.sqrt(var[ch] + epsilon);
        double[] dscale = new double[c], doffset = new double[c];
        Tensor dx = Tensor.empty(dt, x.shape());
        if (dt == DType.FLOAT32) {
            float[] xa = x.floatData(), ga = dy.floatData();
            int xo = x.offset(), go = dy.offset();
            float[] m = toFloats(mu);
            Affine af = act == Activation.NONE ? null : Affine.fromTensor(op, affine, c);
            double[] sums = gradSumsF(ga, go, xa, xo, m, rows, c, af, act);
            // dx = scale*rstd * (dy - sum(dy)/M - (x - mean) * rstd^2 * sum(dy*(x-mean))/M)
            float[] k1 = new float[c], c0 = new float[c], negK2 = new float[c];
            for (int ch = 0; ch < c; ch++) {
                doffset[ch] = sums[ch];
                dscale[ch] = sums[c + ch] * rstd[ch];
                k1[ch] = (float) (sc[ch] * rstd[ch]);
                c0[ch] = (float) (sums[ch] / rows);
                negK2[ch] = (float) (-rstd[ch] * rstd[ch] * sums[c + ch] / rows);
            }
            float[] out = dx.floatData();
            int vecEnd = F.loopBound(c);
            Parallel.forRange(rows, rowGrain(c), (s, e) -> {
                for (int r = s; r < e; r++) {
                    int xb = xo + r * c, gb = go + r * c, ob = r * c;
                    for (int ch = 0; ch < vecEnd; ch += L) {
                        FloatVector xv = FloatVector.fromArray(F, xa, xb + ch);
                        FloatVector g = masked(FloatVector.fromArray(F, ga, gb + ch), xv, af, ch, act).sub(FloatVector.fromArray(F, c0, ch));
                        FloatVector xc = xv.sub(FloatVector.fromArray(F, m, ch));
                        xc.fma(FloatVector.fromArray(F, negK2, ch), g).mul(FloatVector.fromArray(F, k1, ch)).intoArray(out, ob + ch);
                    }
                    for (int ch = vecEnd; ch < c; ch++) {
                        float g = masked(ga[gb + ch], xa[xb + ch], af, ch, act);
                        out[ob + ch] = Math.fma(xa[xb + ch] - m[ch], negK2[ch], g - c0[ch]) * k1[ch];
                    }
                }
            });
        } else {
            double[] xa = x.doubleData(), out = dx.doubleData();
            int xo = x.offset(), go = dy.offset();
            double[] ga = dy.doubleData();
            if (act != Activation.NONE) {
                // g = dy * act'(z), z exactly as the forward computed it.
                double[] of = affine.toDoubleArray();
                double[] g = new double[rows * c];
                for (int r = 0; r < rows; r++) {
                    for (int ch = 0; ch < c; ch++) {
                        int p = r * c + ch;
                        g[p] = maskD(ga[go + p], zD(xa[xo + p], sc[ch], mu[ch], var[ch], epsilon, of[ch]), act);
                    }
                }
                ga = g;
                go = 0;
            }
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    double xhat = (xa[xo + r * c + ch] - mu[ch]) * rstd[ch];
                    doffset[ch] += ga[go + r * c + ch];
                    dscale[ch] += ga[go + r * c + ch] * xhat;
                }
            }
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    int p = r * c + ch;
                    double xhat = (xa[xo + p] - mu[ch]) * rstd[ch];
                    out[p] = sc[ch] * rstd[ch] / rows * (rows * ga[go + p] - doffset[ch] - xhat * dscale[ch]);
                }
            }
        }
        return new Grads(dx, channelTensor(dt, dscale), channelTensor(dt, doffset));
    }

    @Override
    public Grads inferenceBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        String op = "batchNorm inferenceBackward";
        DType dt = floatType(op, x);
        checkLike(op, "dy", dy, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "mean", mean, x, false);
        checkChannel(op, "variance", variance, x, false);
        int c = x.dim(-1), rows = rows(x);
        double[] sc = channel(scale, c, 1.0), mu = mean.toDoubleArray(), var = variance.toDoubleArray();
        double[] rstd = new double[c];
        for (int ch = 0; ch < c; ch++) rstd[ch] = 1.0 / Math.sqrt(var[ch] + epsilon);
        double[] dscale = new double[c], doffset = new double[c];
        Tensor dx = Tensor.empty(dt, x.shape());
        if (dt == DType.FLOAT32) {
            float[] xa = x.floatData(), ga = dy.floatData(), out = dx.floatData();
            int xo = x.offset(), go = dy.offset();
            // dx does not depend on the sums, so it is written in the same pass.
            float[] k = new float[c];
            for (int ch = 0; ch < c; ch++) k[ch] = (float) (sc[ch] * rstd[ch]);
            float[] m = toFloats(mu);
            double[] sums = reduceRows(rows, c, (r0, r1, acc, o) -> gradMomentsF(ga, go, xa, xo, c, m, r0, r1, acc, o, out, k, null, Activation.NONE));
            for (int ch = 0; ch < c; ch++) {
                doffset[ch] = sums[ch];
                dscale[ch] = sums[c + ch] * rstd[ch];
            }
        } else {
            double[] xa = x.doubleData(), ga = dy.doubleData(), out = dx.doubleData();
            int xo = x.offset(), go = dy.offset();
            for (int r = 0; r < rows; r++) {
                for (int ch = 0; ch < c; ch++) {
                    int p = r * c + ch;
                    double g = ga[go + p];
                    out[p] = g * sc[ch] * rstd[ch];
                    doffset[ch] += g;
                    dscale[ch] += g * (xa[xo + p] - mu[ch]) * rstd[ch];
                }
            }
        }
        return new Grads(dx, channelTensor(dt, dscale), channelTensor(dt, doffset));
    }
}
