package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Max and average pooling with TensorFlow semantics. Activations are NHWC
 * ({@code [batch, height, width, channels]}); the pooled output is {@code [batch, outH, outW,
 * channels]} with SAME/VALID geometry from {@link Padding#window}. Max pool treats padding as
 * -infinity (it simply skips out-of-bounds cells: every window holds at least one real cell);
 * average pool divides by the number of in-bounds cells. MaxPoolGrad sends each upstream gradient
 * to the first maximum of its window in row-major (h, then w) order, accumulating where windows
 * overlap.
 *
 * <p>float32 runs vectorised over channels (contiguous in NHWC) and in parallel over
 * batch x output rows; the gradients are written as gathers (each input row collects from the
 * output windows that cover it), so parallel rows never write the same cell. float64 is the plain
 * reference path.
 */
public final class PoolCpu implements PoolKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int L = F.length();
    /** Aim for roughly this many element operations per parallel chunk. */
    private static final int WORK_PER_CHUNK = 1 << 14;

    /** Pooling geometry of one call. */
    private record Geom(int n, int h, int w, int c, int oh, int ow, int kh, int kw, int sh, int sw, int padT, int padL) {
        Shape outShape() {
            return Shape.of(n, oh, ow, c);
        }

        int hStart(int i) {
            return Math.max(0, i * sh - padT);
        }

        int hEnd(int i) {
            return Math.min(h, i * sh - padT + kh);
        }

        int wStart(int j) {
            return Math.max(0, j * sw - padL);
        }

        int wEnd(int j) {
            return Math.min(w, j * sw - padL + kw);
        }

        /** First output row whose window covers input row hh (may be clipped by the caller). */
        int firstOutRow(int hh) {
            return Math.max(0, ceilDiv(hh + padT - kh + 1, sh));
        }

        int lastOutRow(int hh) {
            return Math.min(oh - 1, Math.floorDiv(hh + padT, sh));
        }

        int firstOutCol(int ww) {
            return Math.max(0, ceilDiv(ww + padL - kw + 1, sw));
        }

        int lastOutCol(int ww) {
            return Math.min(ow - 1, Math.floorDiv(ww + padL, sw));
        }

        /**
         * Output (i, j)'s window cells inside the input, row-major, as base + (hh * w + ww) * scale
         * into cells; returns how many. The gathers keep them as one flat list so that their running
         * max or sum is carried through a single counted loop, in a register (through the nested,
         * variable-bound window loops it was a phi C2 boxed).
         */
        int windowCells(int i, int j, int base, int scale, int[] cells) {
            int count = 0;
            for (int hh = hStart(i), he = hEnd(i); hh < he; hh++) {
                for (int ww = wStart(j), we = wEnd(j); ww < we; ww++) cells[count++] = base + (hh * w + ww) * scale;
            }
            return count;
        }

        /** Most windows that can cover one input cell (the gradients' gather lists). */
        int coverCount() {
            return ceilDiv(kh, sh) * ceilDiv(kw, sw);
        }

        /** No two windows share a cell (stride >= window, e.g. 2x2 stride 2): each cell has at most one window. */
        boolean disjoint() {
            return sh >= kh && sw >= kw;
        }

        /** The windows cover every input cell exactly once (stride == window, no padding, no remainder). */
        boolean tiles() {
            return sh == kh && sw == kw && padT == 0 && padL == 0 && oh * kh == h && ow * kw == w;
        }

        int grain(int perRow) {
            return Math.max(1, WORK_PER_CHUNK / Math.max(1, perRow));
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    // ---- validation ---------------------------------------------------------------------------

    private static Geom geom(String op, String arg, Shape in, PoolSpec spec) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is null");
        if (in.rank() != 4) {
            throw new IllegalArgumentException(op + ": " + arg + " must be rank 4 NHWC, got shape " + in);
        }
        int n = in.dim(0), h = in.dim(1), w = in.dim(2), c = in.dim(3);
        Padding.Window wh, ww;
        try {
            wh = spec.padding().window(h, spec.kernelH(), spec.strideH(), 1);
            ww = spec.padding().window(w, spec.kernelW(), spec.strideW(), 1);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + spec.kernelH() + "x" + spec.kernelW() + " " + spec.padding()
                    + " window does not fit " + arg + " " + in + " (" + e.getMessage() + ")", e);
        }
        return new Geom(n, h, w, c, wh.outSize(), ww.outSize(), spec.kernelH(), spec.kernelW(),
                spec.strideH(), spec.strideW(), wh.padBefore(), ww.padBefore());
    }

    private static DType floatType(String op, Tensor x) {
        DType t = x.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t + " (input " + x.shape() + "); only FLOAT32 and FLOAT64");
        }
        return t;
    }

    private static void sameType(String op, String arg, Tensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != input dtype " + expected);
        }
    }

    private static void sameShape(String op, String arg, Tensor t, Shape expected, String context) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != expected " + expected + " (" + context + ")");
        }
    }

    // ---- max pool -----------------------------------------------------------------------------

    @Override
    public Tensor maxPool(Tensor input, PoolSpec spec) {
        DType dt = floatType("maxPool", input);
        Geom g = geom("maxPool", "input", input.shape(), spec);
        Tensor y = Tensor.empty(dt, g.outShape());
        if (dt == DType.FLOAT32) {
            maxPoolF(g, input.floatData(), input.offset(), y.floatData());
        } else {
            maxPoolD(g, input.doubleData(), input.offset(), y.doubleData());
        }
        return y;
    }

    private static void maxPoolF(Geom g, float[] x, int xo, float[] y) {
        int c = g.c;
        int vecEnd = F.loopBound(c);
        Parallel.forRange(g.n * g.oh, g.grain(g.ow * g.kh * g.kw * c), (s, e) -> {
            int[] off = new int[g.kh * g.kw];
            for (int r = s; r < e; r++) {
                int b = r / g.oh, i = r % g.oh;
                int hs = g.hStart(i), he = g.hEnd(i);
                for (int j = 0; j < g.ow; j++) {
                    int ws = g.wStart(j), we = g.wEnd(j);
                    int yb = (r * g.ow + j) * c;
                    int rowBase = xo + (b * g.h) * g.w * c;
                    if (he - hs == 2 && we - ws == 2) {
                        // A full 2x2 window (the common pool): straight-line, in registers.
                        int p00 = rowBase + (hs * g.w + ws) * c, p10 = p00 + g.w * c;
                        for (int ch = 0; ch < vecEnd; ch += L) {
                            FloatVector top = FloatVector.fromArray(F, x, p00 + ch).max(FloatVector.fromArray(F, x, p00 + c + ch));
                            FloatVector bottom = FloatVector.fromArray(F, x, p10 + ch).max(FloatVector.fromArray(F, x, p10 + c + ch));
                            top.max(bottom).intoArray(y, yb + ch);
                        }
                    } else {
                        // The running max in a register over the flat cell list (it had lived in y).
                        int count = g.windowCells(i, j, rowBase, c, off);
                        for (int ch = 0; ch < vecEnd; ch += L) {
                            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                            for (int t = 0; t < count; t++) m = m.max(FloatVector.fromArray(F, x, off[t] + ch));
                            m.intoArray(y, yb + ch);
                        }
                    }
                    for (int ch = vecEnd; ch < c; ch++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int hh = hs; hh < he; hh++) {
                            int p = rowBase + (hh * g.w + ws) * c + ch;
                            for (int ww = ws; ww < we; ww++, p += c) m = Math.max(m, x[p]);
                        }
                        y[yb + ch] = m;
                    }
                }
            }
        });
    }

    private static void maxPoolD(Geom g, double[] x, int xo, double[] y) {
        for (int b = 0; b < g.n; b++) {
            for (int i = 0; i < g.oh; i++) {
                for (int j = 0; j < g.ow; j++) {
                    for (int ch = 0; ch < g.c; ch++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int hh = g.hStart(i); hh < g.hEnd(i); hh++) {
                            for (int ww = g.wStart(j); ww < g.wEnd(j); ww++) {
                                m = Math.max(m, x[xo + ((b * g.h + hh) * g.w + ww) * g.c + ch]);
                            }
                        }
                        y[((b * g.oh + i) * g.ow + j) * g.c + ch] = m;
                    }
                }
            }
        }
    }

    // ---- max pool gradient --------------------------------------------------------------------

    @Override
    public Tensor maxPoolGrad(Tensor input, Tensor output, Tensor dy, PoolSpec spec) {
        DType dt = floatType("maxPoolGrad", input);
        sameType("maxPoolGrad", "output", output, dt);
        sameType("maxPoolGrad", "dy", dy, dt);
        Geom g = geom("maxPoolGrad", "input", input.shape(), spec);
        String ctx = "input " + input.shape();
        sameShape("maxPoolGrad", "output", output, g.outShape(), ctx);
        sameShape("maxPoolGrad", "dy", dy, g.outShape(), ctx);
        // Like TF's CPU kernel, the arg-max is recomputed from the input; output only fixes the shape.
        if (dt == DType.FLOAT32 && g.disjoint()) {
            // Windows that tile the input exactly leave no cell unwritten: no zero fill needed.
            Tensor dx = g.tiles() ? Tensor.empty(dt, input.shape()) : Tensor.zeros(dt, input.shape());
            maxPoolGradDisjointF(g, input.floatData(), input.offset(), dy.floatData(), dy.offset(), dx.floatData());
            return dx;
        }
        // float32 assigns every dx value; the float64 reference adds into zeros.
        Tensor dx = dt == DType.FLOAT32 ? Tensor.empty(dt, input.shape()) : Tensor.zeros(dt, input.shape());
        if (dt == DType.FLOAT32) {
            maxPoolGradF(g, input.floatData(), input.offset(), dy.floatData(), dy.offset(), dx.floatData());
        } else {
            maxPoolGradD(g, input.doubleData(), input.offset(), dy.doubleData(), dy.offset(), dx.doubleData());
        }
        return dx;
    }

    private static final ThreadLocal<int[]> ARG = ThreadLocal.withInitial(() -> new int[0]);

    private static int[] argBuffer(int size) {
        return ThreadBuffers.ints(ARG, size);
    }

    private static void maxPoolGradF(Geom g, float[] x, int xo, float[] dy, int dyo, float[] dx) {
        int c = g.c;
        int vecEnd = F.loopBound(c);
        // Phase 1: per output element, the spatial index (h * W + w) of its window's first maximum
        // (in the calling thread's reusable buffer: no output-sized temporary per call).
        int[] arg = argBuffer(g.n * g.oh * g.ow * c);
        Parallel.forRange(g.n * g.oh, g.grain(g.ow * g.kh * g.kw * c), (s, e) -> {
            int[] cell = new int[g.kh * g.kw];
            for (int r = s; r < e; r++) {
                int b = r / g.oh, i = r % g.oh;
                int rowBase = xo + b * g.h * g.w * c;
                for (int j = 0; j < g.ow; j++) {
                    int ob = (r * g.ow + j) * c;
                    // The window's spatial indices: the running max and arg-max stay in registers.
                    int count = g.windowCells(i, j, 0, 1, cell);
                    for (int ch = 0; ch < vecEnd; ch += L) {
                        // Start from the first cell and replace only on strictly greater: first max wins.
                        FloatVector best = FloatVector.fromArray(F, x, rowBase + cell[0] * c + ch);
                        IntVector at = IntVector.broadcast(I, cell[0]);
                        for (int t = 1; t < count; t++) {
                            FloatVector v = FloatVector.fromArray(F, x, rowBase + cell[t] * c + ch);
                            VectorMask<Float> gt = v.compare(VectorOperators.GT, best);
                            best = best.blend(v, gt);
                            at = at.blend(cell[t], gt.cast(I));
                        }
                        at.intoArray(arg, ob + ch);
                    }
                    for (int ch = vecEnd; ch < c; ch++) {
                        int bestSp = cell[0];
                        float best = x[rowBase + bestSp * c + ch];
                        for (int t = 1; t < count; t++) {
                            float v = x[rowBase + cell[t] * c + ch];
                            if (v > best) {
                                best = v;
                                bestSp = cell[t];
                            }
                        }
                        arg[ob + ch] = bestSp;
                    }
                }
            }
        });
        // Phase 2: each input cell sums dy over the windows covering it whose arg-max is this cell,
        // in output row-major order (the order a scatter would add them).
        Parallel.forRange(g.n * g.h, g.grain(g.w * c * g.coverCount()), (s, e) -> {
            int[] win = new int[g.coverCount()];
            for (int r = s; r < e; r++) {
                int b = r / g.h, hh = r % g.h;
                int i0 = g.firstOutRow(hh), i1 = g.lastOutRow(hh);
                for (int ww = 0; ww < g.w; ww++) {
                    int sp = hh * g.w + ww;
                    int xb = (r * g.w + ww) * c;
                    IntVector spV = IntVector.broadcast(I, sp);
                    // The covering windows (output row-major): the sum stays in a register and is
                    // stored once (0 when none hits).
                    int j0 = g.firstOutCol(ww), j1 = g.lastOutCol(ww);
                    int count = 0;
                    for (int i = i0; i <= i1; i++) {
                        for (int j = j0; j <= j1; j++) win[count++] = ((b * g.oh + i) * g.ow + j) * c;
                    }
                    for (int ch = 0; ch < vecEnd; ch += L) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int t = 0; t < count; t++) {
                            int ob = win[t] + ch;
                            VectorMask<Float> hit = IntVector.fromArray(I, arg, ob).compare(VectorOperators.EQ, spV).cast(F);
                            acc = acc.add(FloatVector.fromArray(F, dy, dyo + ob), hit);
                        }
                        acc.intoArray(dx, xb + ch);
                    }
                    for (int ch = vecEnd; ch < c; ch++) {
                        float acc = 0f;
                        for (int t = 0; t < count; t++) {
                            int ob = win[t] + ch;
                            if (arg[ob] == sp) acc += dy[dyo + ob];
                        }
                        dx[xb + ch] = acc;
                    }
                }
            }
        });
    }

    /**
     * MaxPoolGrad for disjoint windows in one pass: per window, find the first maximum of each
     * channel, then write every cell of the window (dy at the arg-max, 0 elsewhere). No arg-max
     * buffer and no second sweep over dx: each cell is written once, by its only window. Cells no
     * window covers keep the zeros of dx.
     */
    private static void maxPoolGradDisjointF(Geom g, float[] x, int xo, float[] dy, int dyo, float[] dx) {
        int c = g.c;
        int vecEnd = F.loopBound(c);
        Parallel.forRange(g.n * g.oh, g.grain(g.ow * g.kh * g.kw * c), (s, e) -> {
            // Running max and arg-max per lane go through memory, not loop-carried vectors (C2 would box them).
            float[] bestV = new float[L];
            int[] argV = new int[L];
            FloatVector zero = FloatVector.zero(F);
            for (int r = s; r < e; r++) {
                int b = r / g.oh, i = r % g.oh;
                int hs = g.hStart(i), he = g.hEnd(i);
                int img = b * g.h * g.w;
                for (int j = 0; j < g.ow; j++) {
                    int ws = g.wStart(j), we = g.wEnd(j);
                    int ob = dyo + (r * g.ow + j) * c;
                    int first = hs * g.w + ws;
                    if (he - hs == 2 && we - ws == 2) {
                        // A full 2x2 window (the common pool): straight-line code, everything in registers.
                        int p00 = (img + first) * c, p01 = p00 + c, p10 = p00 + g.w * c, p11 = p10 + c;
                        for (int ch = 0; ch < vecEnd; ch += L) {
                            FloatVector v0 = FloatVector.fromArray(F, x, xo + p00 + ch);
                            FloatVector v1 = FloatVector.fromArray(F, x, xo + p01 + ch);
                            FloatVector v2 = FloatVector.fromArray(F, x, xo + p10 + ch);
                            FloatVector v3 = FloatVector.fromArray(F, x, xo + p11 + ch);
                            // Strictly greater replaces: the first maximum in row-major order wins.
                            VectorMask<Float> m1 = v1.compare(VectorOperators.GT, v0);
                            FloatVector b1 = v0.blend(v1, m1);
                            VectorMask<Float> m2 = v2.compare(VectorOperators.GT, b1);
                            VectorMask<Float> m3 = v3.compare(VectorOperators.GT, b1.blend(v2, m2));
                            VectorMask<Float> w2 = m2.andNot(m3);
                            VectorMask<Float> w1 = m1.andNot(m2).andNot(m3);
                            VectorMask<Float> w0 = m1.or(m2).or(m3).not();
                            FloatVector d = FloatVector.fromArray(F, dy, ob + ch);
                            zero.blend(d, w0).intoArray(dx, p00 + ch);
                            zero.blend(d, w1).intoArray(dx, p01 + ch);
                            zero.blend(d, w2).intoArray(dx, p10 + ch);
                            zero.blend(d, m3).intoArray(dx, p11 + ch);
                        }
                    } else {
                        for (int ch = 0; ch < vecEnd; ch += L) {
                            FloatVector.fromArray(F, x, xo + (img + first) * c + ch).intoArray(bestV, 0);
                            IntVector.broadcast(I, first).intoArray(argV, 0);
                            for (int hh = hs; hh < he; hh++) {
                                for (int ww = (hh == hs ? ws + 1 : ws); ww < we; ww++) {
                                    int sp = hh * g.w + ww;
                                    FloatVector v = FloatVector.fromArray(F, x, xo + (img + sp) * c + ch);
                                    FloatVector cur = FloatVector.fromArray(F, bestV, 0);
                                    VectorMask<Float> gt = v.compare(VectorOperators.GT, cur);
                                    cur.blend(v, gt).intoArray(bestV, 0);
                                    IntVector.fromArray(I, argV, 0).blend(sp, gt.cast(I)).intoArray(argV, 0);
                                }
                            }
                            FloatVector d = FloatVector.fromArray(F, dy, ob + ch);
                            IntVector arg = IntVector.fromArray(I, argV, 0);
                            for (int hh = hs; hh < he; hh++) {
                                for (int ww = ws; ww < we; ww++) {
                                    int sp = hh * g.w + ww;
                                    zero.blend(d, arg.compare(VectorOperators.EQ, sp).cast(F)).intoArray(dx, (img + sp) * c + ch);
                                }
                            }
                        }
                    }
                    for (int ch = vecEnd; ch < c; ch++) {
                        int bestSp = first;
                        float best = x[xo + (img + first) * c + ch];
                        for (int hh = hs; hh < he; hh++) {
                            for (int ww = ws; ww < we; ww++) {
                                int sp = hh * g.w + ww;
                                float v = x[xo + (img + sp) * c + ch];
                                if (v > best) {
                                    best = v;
                                    bestSp = sp;
                                }
                            }
                        }
                        for (int hh = hs; hh < he; hh++) {
                            for (int ww = ws; ww < we; ww++) {
                                int sp = hh * g.w + ww;
                                dx[(img + sp) * c + ch] = sp == bestSp ? dy[ob + ch] : 0f;
                            }
                        }
                    }
                }
            }
        });
    }

    private static void maxPoolGradD(Geom g, double[] x, int xo, double[] dy, int dyo, double[] dx) {
        for (int b = 0; b < g.n; b++) {
            for (int i = 0; i < g.oh; i++) {
                for (int j = 0; j < g.ow; j++) {
                    for (int ch = 0; ch < g.c; ch++) {
                        int best = -1;
                        for (int hh = g.hStart(i); hh < g.hEnd(i); hh++) {
                            for (int ww = g.wStart(j); ww < g.wEnd(j); ww++) {
                                int p = ((b * g.h + hh) * g.w + ww) * g.c + ch;
                                if (best < 0 || x[xo + p] > x[xo + best]) best = p;
                            }
                        }
                        dx[best] += dy[dyo + ((b * g.oh + i) * g.ow + j) * g.c + ch];
                    }
                }
            }
        }
    }

    // ---- average pool -------------------------------------------------------------------------

    @Override
    public Tensor avgPool(Tensor input, PoolSpec spec) {
        DType dt = floatType("avgPool", input);
        Geom g = geom("avgPool", "input", input.shape(), spec);
        // Both paths assign every output value.
        Tensor y = Tensor.empty(dt, g.outShape());
        if (dt == DType.FLOAT32) {
            avgPoolF(g, input.floatData(), input.offset(), y.floatData());
        } else {
            avgPoolD(g, input.doubleData(), input.offset(), y.doubleData());
        }
        return y;
    }

    /**
     * Per output pixel, the offsets of its in-bounds window cells go to a small array and
     * {@link #windowMean} sums them over the channel axis in registers: the running sum used to
     * live in y (a load and a store per tap, each waiting on the last).
     */
    private static void avgPoolF(Geom g, float[] x, int xo, float[] y) {
        int c = g.c;
        Parallel.forRange(g.n * g.oh, g.grain(g.ow * g.kh * g.kw * c), (s, e) -> {
            int[] off = new int[g.kh * g.kw];
            for (int r = s; r < e; r++) {
                int b = r / g.oh, i = r % g.oh;
                int rowBase = xo + b * g.h * g.w * c;
                for (int j = 0; j < g.ow; j++) {
                    int count = g.windowCells(i, j, rowBase, c, off);
                    windowMean(y, (r * g.ow + j) * c, x, off, count, c);
                }
            }
        });
    }

    /**
     * out[o + ch] = (sum over t &lt; count of a[off[t] + ch]) / count for ch in [0, len), the sum in
     * registers (two independent accumulators); 0 when count is 0.
     */
    private static void windowMean(float[] out, int o, float[] a, int[] off, int count, int len) {
        float div = Math.max(1, count);
        int ch = 0;
        for (; ch <= len - 2 * L; ch += 2 * L) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int t = 0; t < count; t++) {
                acc0 = acc0.add(FloatVector.fromArray(F, a, off[t] + ch));
                acc1 = acc1.add(FloatVector.fromArray(F, a, off[t] + ch + L));
            }
            acc0.div(div).intoArray(out, o + ch);
            acc1.div(div).intoArray(out, o + ch + L);
        }
        for (; ch <= len - L; ch += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < count; t++) acc = acc.add(FloatVector.fromArray(F, a, off[t] + ch));
            acc.div(div).intoArray(out, o + ch);
        }
        for (; ch < len; ch++) {
            float acc = 0f;
            for (int t = 0; t < count; t++) acc += a[off[t] + ch];
            out[o + ch] = acc / div;
        }
    }

    private static void avgPoolD(Geom g, double[] x, int xo, double[] y) {
        for (int b = 0; b < g.n; b++) {
            for (int i = 0; i < g.oh; i++) {
                for (int j = 0; j < g.ow; j++) {
                    int count = (g.hEnd(i) - g.hStart(i)) * (g.wEnd(j) - g.wStart(j));
                    for (int ch = 0; ch < g.c; ch++) {
                        double sum = 0;
                        for (int hh = g.hStart(i); hh < g.hEnd(i); hh++) {
                            for (int ww = g.wStart(j); ww < g.wEnd(j); ww++) {
                                sum += x[xo + ((b * g.h + hh) * g.w + ww) * g.c + ch];
                            }
                        }
                        y[((b * g.oh + i) * g.ow + j) * g.c + ch] = sum / count;
                    }
                }
            }
        }
    }

    // ---- average pool gradient ----------------------------------------------------------------

    @Override
    public Tensor avgPoolGrad(Shape inputShape, Tensor dy, PoolSpec spec) {
        if (inputShape == null) throw new IllegalArgumentException("avgPoolGrad: inputShape is null");
        DType dt = floatType("avgPoolGrad", dy);
        Geom g = geom("avgPoolGrad", "inputShape", inputShape, spec);
        sameShape("avgPoolGrad", "dy", dy, g.outShape(), "inputShape " + inputShape);
        // float32 assigns every dx value (0 where no window reaches); the float64 reference adds into zeros.
        Tensor dx = dt == DType.FLOAT32 ? Tensor.empty(dt, inputShape) : Tensor.zeros(dt, inputShape);
        if (dt == DType.FLOAT32) {
            avgPoolGradF(g, dy.floatData(), dy.offset(), dx.floatData());
        } else {
            avgPoolGradD(g, dy.doubleData(), dy.offset(), dx.doubleData());
        }
        return dx;
    }

    /**
     * A gather, like the forward: per input cell the windows covering it go to small offset and
     * weight arrays, summed in registers by {@link #weightedSum} (the running sum used to live in dx).
     */
    private static void avgPoolGradF(Geom g, float[] dy, int dyo, float[] dx) {
        int c = g.c;
        // 1 / (in-bounds cells) of each window; windows are separable, so counts are row x column.
        float[] inv = new float[g.oh * g.ow];
        for (int i = 0; i < g.oh; i++) {
            for (int j = 0; j < g.ow; j++) {
                inv[i * g.ow + j] = (float) (1.0 / ((g.hEnd(i) - g.hStart(i)) * (g.wEnd(j) - g.wStart(j))));
            }
        }
        Parallel.forRange(g.n * g.h, g.grain(g.w * c * g.coverCount()), (s, e) -> {
            int[] off = new int[g.coverCount()];
            float[] wt = new float[g.coverCount()];
            for (int r = s; r < e; r++) {
                int b = r / g.h, hh = r % g.h;
                int i0 = g.firstOutRow(hh), i1 = g.lastOutRow(hh);
                for (int ww = 0; ww < g.w; ww++) {
                    int j0 = g.firstOutCol(ww), j1 = g.lastOutCol(ww);
                    int count = 0;
                    for (int i = i0; i <= i1; i++) {
                        for (int j = j0; j <= j1; j++, count++) {
                            off[count] = dyo + ((b * g.oh + i) * g.ow + j) * c;
                            wt[count] = inv[i * g.ow + j];
                        }
                    }
                    weightedSum(dx, (r * g.w + ww) * c, dy, off, wt, count, c);
                }
            }
        });
    }

    /**
     * out[o + ch] = sum over t &lt; count of a[off[t] + ch] * w[t] for ch in [0, len), the sum in
     * registers (two independent accumulators); 0 when count is 0.
     */
    private static void weightedSum(float[] out, int o, float[] a, int[] off, float[] w, int count, int len) {
        int ch = 0;
        for (; ch <= len - 2 * L; ch += 2 * L) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int t = 0; t < count; t++) {
                FloatVector wv = FloatVector.broadcast(F, w[t]);
                acc0 = FloatVector.fromArray(F, a, off[t] + ch).fma(wv, acc0);
                acc1 = FloatVector.fromArray(F, a, off[t] + ch + L).fma(wv, acc1);
            }
            acc0.intoArray(out, o + ch);
            acc1.intoArray(out, o + ch + L);
        }
        for (; ch <= len - L; ch += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < count; t++) acc = FloatVector.fromArray(F, a, off[t] + ch).fma(FloatVector.broadcast(F, w[t]), acc);
            acc.intoArray(out, o + ch);
        }
        for (; ch < len; ch++) {
            float acc = 0f;
            for (int t = 0; t < count; t++) acc = Math.fma(a[off[t] + ch], w[t], acc);
            out[o + ch] = acc;
        }
    }

    private static void avgPoolGradD(Geom g, double[] dy, int dyo, double[] dx) {
        for (int b = 0; b < g.n; b++) {
            for (int i = 0; i < g.oh; i++) {
                for (int j = 0; j < g.ow; j++) {
                    int count = (g.hEnd(i) - g.hStart(i)) * (g.wEnd(j) - g.wStart(j));
                    for (int ch = 0; ch < g.c; ch++) {
                        double share = dy[dyo + ((b * g.oh + i) * g.ow + j) * g.c + ch] / count;
                        for (int hh = g.hStart(i); hh < g.hEnd(i); hh++) {
                            for (int ww = g.wStart(j); ww < g.wEnd(j); ww++) {
                                dx[((b * g.h + hh) * g.w + ww) * g.c + ch] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}
