package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Reductions on row-major tensors of any rank: sum and mean over a set of axes (keepDims or not),
 * sumToShape (the gradient of broadcasting), argmax (int64), topK along the last axis (values and
 * int32 indices, stable on ties) and TF's L2Loss (scalar sum(x^2)/2).
 *
 * <p>The float32 sum first merges neighbouring axes that are both reduced or both kept and drops
 * size-1 axes, which turns every reduction into [kept..., reduced..., L] blocks whose innermost run
 * of L elements is contiguous: either summed (last axis reduced) or added as a vector into an
 * output row (last axis kept, e.g. global average pooling [N, H*W, C]). Work is split over output
 * positions, so no two tasks write the same element and results do not depend on the thread count.
 */
public final class ReduceCpu implements ReduceKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN_ELEMS = 16384;

    @Override
    public Tensor sum(Tensor x, int[] axes, boolean keepDims) {
        return reduce("sum", x, axes, keepDims, false);
    }

    @Override
    public Tensor mean(Tensor x, int[] axes, boolean keepDims) {
        return reduce("mean", x, axes, keepDims, true);
    }

    private static Tensor reduce(String op, Tensor x, int[] axes, boolean keepDims, boolean mean) {
        checkFloat(op, x);
        int[] dims = x.dims();
        boolean[] red = ReduceKernels.axisMask(op, x.shape(), axes);
        int[] outDims = ReduceKernels.reducedDims(dims, red, keepDims);
        Tensor out = Tensor.zeros(x.dtype(), Shape.of(outDims));
        long count = 1;
        for (int i = 0; i < dims.length; i++) if (red[i]) count *= dims[i];
        if (x.dtype() == DType.FLOAT32) {
            float[] o = out.floatData();
            sumF(x.floatData(), x.offset(), dims, red, o);
            if (mean) {
                float n = (float) count;
                for (int i = 0; i < o.length; i++) o[i] /= n;
            }
        } else {
            double[] o = out.doubleData();
            sumD(x.doubleData(), x.offset(), dims, red, o);
            if (mean) {
                for (int i = 0; i < o.length; i++) o[i] /= count;
            }
        }
        return out;
    }

    @Override
    public Tensor sumToShape(Tensor x, Shape target) {
        String op = "sumToShape";
        checkFloat(op, x);
        int[] dims = x.dims();
        int[] t = target.dims();
        if (t.length > dims.length) {
            throw new IllegalArgumentException(op + ": target " + target + " has more dimensions than the input " + x.shape());
        }
        // Broadcasting aligns shapes on the right: reduce the extra leading axes and every axis
        // where the target has size 1 but the input does not.
        boolean[] red = new boolean[dims.length];
        int lead = dims.length - t.length;
        for (int i = 0; i < dims.length; i++) {
            if (i < lead) {
                red[i] = true;
            } else if (t[i - lead] != dims[i]) {
                if (t[i - lead] != 1) {
                    throw new IllegalArgumentException(op + ": target " + target + " does not broadcast to the input " + x.shape()
                            + " (axis " + i + ": " + t[i - lead] + " vs " + dims[i] + ")");
                }
                red[i] = true;
            }
        }
        // The keepDims layout of the sum and the target list the same elements in the same order.
        Tensor out = Tensor.zeros(x.dtype(), target);
        if (x.dtype() == DType.FLOAT32) {
            sumF(x.floatData(), x.offset(), dims, red, out.floatData());
        } else {
            sumD(x.doubleData(), x.offset(), dims, red, out.doubleData());
        }
        return out;
    }

    // ---- sum cores -----------------------------------------------------------------------------

    /** Reference: walks every input element once and adds it to its output slot. */
    private static void sumD(double[] x, int xo, int[] dims, boolean[] red, double[] out) {
        int r = dims.length;
        int n = 1;
        for (int d : dims) n *= d;
        if (n == 0) return;
        // outStride[i]: how far the output index moves when input axis i advances (0 if reduced).
        int[] outStride = new int[r];
        int s = 1;
        for (int i = r - 1; i >= 0; i--) {
            outStride[i] = red[i] ? 0 : s;
            if (!red[i]) s *= dims[i];
        }
        int[] idx = new int[r];
        int oi = 0;
        for (int i = 0; i < n; i++) {
            out[oi] += x[xo + i];
            for (int a = r - 1; a >= 0; a--) {
                idx[a]++;
                oi += outStride[a];
                if (idx[a] < dims[a]) break;
                oi -= outStride[a] * dims[a];
                idx[a] = 0;
            }
        }
    }

    /** Fast path; see the class comment. {@code out} is zero on entry. */
    private static void sumF(float[] x, int xo, int[] dims, boolean[] red, float[] out) {
        // Merge: drop size-1 axes, fuse neighbours with the same flag.
        int[] md = new int[dims.length];
        boolean[] mr = new boolean[dims.length];
        int m = 0;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 0) return;
            if (dims[i] == 1) continue;
            if (m > 0 && mr[m - 1] == red[i]) {
                md[m - 1] *= dims[i];
            } else {
                md[m] = dims[i];
                mr[m] = red[i];
                m++;
            }
        }
        if (m == 0) {
            out[0] = x[xo];
            return;
        }
        int len = md[m - 1];
        boolean lastRed = mr[m - 1];
        // Input strides of the merged axes; offsets of every kept-outer and reduced-outer position.
        int[] stride = new int[m];
        int st = 1;
        for (int i = m - 1; i >= 0; i--) {
            stride[i] = st;
            st *= md[i];
        }
        int[] keptOff = outerOffsets(md, mr, stride, m - 1, false);
        int[] redOff = outerOffsets(md, mr, stride, m - 1, true);
        int ko = keptOff.length;
        if (lastRed) {
            int per = redOff.length * len;
            Parallel.forRange(ko, Math.max(1, GRAIN_ELEMS / per), (s, e) -> {
                for (int k = s; k < e; k++) {
                    int base = xo + keptOff[k];
                    double acc = 0;
                    for (int ro : redOff) acc += sumRun(x, base + ro, len);
                    out[k] = (float) acc;
                }
            });
        } else {
            // Chunks of the output row let small batches (global pooling of one image) still split.
            int chunk = Math.max(F.length(), Math.min(len, 1024));
            int nch = (len + chunk - 1) / chunk;
            int per = redOff.length * Math.min(chunk, len);
            Parallel.forRange(ko * nch, Math.max(1, GRAIN_ELEMS / per), (s, e) -> {
                for (int t = s; t < e; t++) {
                    int k = t / nch;
                    int j0 = (t % nch) * chunk;
                    int n = Math.min(chunk, len - j0);
                    int base = xo + keptOff[k] + j0;
                    int o = k * len + j0;
                    for (int ro : redOff) addRun(x, base + ro, out, o, n);
                }
            });
        }
    }

    /** Input offsets of all positions of the merged axes [0, end) whose flag is {@code reduced}, row-major. */
    private static int[] outerOffsets(int[] md, boolean[] mr, int[] stride, int end, boolean reduced) {
        int count = 1;
        for (int i = 0; i < end; i++) if (mr[i] == reduced) count *= md[i];
        int[] off = new int[count];
        int[] sel = new int[end];
        int ns = 0;
        for (int i = 0; i < end; i++) if (mr[i] == reduced) sel[ns++] = i;
        int[] idx = new int[ns];
        int cur = 0;
        for (int p = 0; p < count; p++) {
            off[p] = cur;
            for (int a = ns - 1; a >= 0; a--) {
                int ax = sel[a];
                idx[a]++;
                cur += stride[ax];
                if (idx[a] < md[ax]) break;
                cur -= stride[ax] * md[ax];
                idx[a] = 0;
            }
        }
        return off;
    }

    private static float sumRun(float[] a, int off, int n) {
        int step = F.length();
        int j = 0;
        float s = 0;
        if (n >= step) {
            FloatVector acc = FloatVector.zero(F);
            for (; j <= n - step; j += step) acc = acc.add(FloatVector.fromArray(F, a, off + j));
            s = LaneSum.ordered(acc);
        }
        for (; j < n; j++) s += a[off + j];
        return s;
    }

    private static void addRun(float[] a, int aOff, float[] o, int oOff, int n) {
        int step = F.length();
        int j = 0;
        for (; j <= n - step; j += step) {
            FloatVector.fromArray(F, o, oOff + j).add(FloatVector.fromArray(F, a, aOff + j)).intoArray(o, oOff + j);
        }
        for (; j < n; j++) o[oOff + j] += a[aOff + j];
    }

    // ---- argmax ----------------------------------------------------------------------------------

    @Override
    public Tensor argmax(Tensor x, int axis) {
        String op = "argmax";
        checkFloat(op, x);
        int ax = x.shape().normalizeAxis(op, axis);
        int[] dims = x.dims();
        if (dims[ax] == 0) {
            throw new IllegalArgumentException(op + ": axis " + axis + " of input " + x.shape() + " is empty");
        }
        int outer = 1;
        int inner = 1;
        for (int i = 0; i < ax; i++) outer *= dims[i];
        for (int i = ax + 1; i < dims.length; i++) inner *= dims[i];
        int n = dims[ax];
        int[] outDims = new int[dims.length - 1];
        for (int i = 0, j = 0; i < dims.length; i++) if (i != ax) outDims[j++] = dims[i];
        Tensor out = Tensor.zeros(DType.INT64, Shape.of(outDims));
        long[] o = out.longData();
        int xo = x.offset();
        int in = inner;
        if (x.dtype() == DType.FLOAT32) {
            float[] a = x.floatData();
            Parallel.forRange(outer, Math.max(1, GRAIN_ELEMS / Math.max(1, n * in)), (s, e) -> {
                float[] best = new float[in];
                for (int p = s; p < e; p++) {
                    int base = xo + p * n * in;
                    int ob = p * in;
                    // Row by row over the reduced axis: reads stay contiguous; strict '>' keeps the first max.
                    System.arraycopy(a, base, best, 0, in);
                    for (int k = 1; k < n; k++) {
                        int row = base + k * in;
                        for (int i = 0; i < in; i++) {
                            float v = a[row + i];
                            if (v > best[i]) {
                                best[i] = v;
                                o[ob + i] = k;
                            }
                        }
                    }
                }
            });
        } else {
            double[] a = x.doubleData();
            for (int p = 0; p < outer; p++) {
                for (int i = 0; i < in; i++) {
                    int bestK = 0;
                    double best = a[xo + (p * n) * in + i];
                    for (int k = 1; k < n; k++) {
                        double v = a[xo + (p * n + k) * in + i];
                        if (v > best) {
                            best = v;
                            bestK = k;
                        }
                    }
                    o[p * in + i] = bestK;
                }
            }
        }
        return out;
    }

    // ---- topK ------------------------------------------------------------------------------------

    /** Above this k the fast path sorts the whole row instead of keeping a sorted buffer. */
    private static final int SMALL_K = 64;

    @Override
    public TopK topK(Tensor x, int k) {
        String op = "topK";
        checkFloat(op, x);
        if (x.rank() < 1) throw new IllegalArgumentException(op + ": input must have rank >= 1, got shape " + x.shape());
        int c = x.dim(-1);
        if (k < 0 || k > c) {
            throw new IllegalArgumentException(op + ": k " + k + " must be in [0, " + c + "] (last axis of input " + x.shape() + ")");
        }
        Shape outShape = x.shape().withDim(-1, k);
        Tensor values = Tensor.zeros(x.dtype(), outShape);
        Tensor indices = Tensor.zeros(DType.INT32, outShape);
        if (k == 0 || c == 0) return new TopK(values, indices);
        int rows = x.numel() / c;
        int xo = x.offset();
        int[] oi = indices.intData();
        if (x.dtype() == DType.FLOAT32) {
            float[] a = x.floatData();
            float[] ov = values.floatData();
            Parallel.forRange(rows, Math.max(1, GRAIN_ELEMS / c), (s, e) -> {
                double[] row = new double[c];
                double[] bv = new double[k];
                int[] bi = new int[k];
                int[] idx = k > SMALL_K ? new int[c] : null;
                int[] tmp = k > SMALL_K ? new int[c] : null;
                for (int r = s; r < e; r++) {
                    for (int j = 0; j < c; j++) row[j] = a[xo + r * c + j];
                    if (k <= SMALL_K) {
                        topSmall(row, c, k, bv, bi);
                    } else {
                        for (int j = 0; j < c; j++) idx[j] = j;
                        mergeSortDesc(idx, tmp, row, 0, c);
                        for (int j = 0; j < k; j++) {
                            bi[j] = idx[j];
                            bv[j] = row[idx[j]];
                        }
                    }
                    for (int j = 0; j < k; j++) {
                        ov[r * k + j] = (float) bv[j];
                        oi[r * k + j] = bi[j];
                    }
                }
            });
        } else {
            // Reference: a stable full sort of the indices by value, largest first.
            double[] a = x.doubleData();
            double[] ov = values.doubleData();
            for (int r = 0; r < rows; r++) {
                int base = xo + r * c;
                Integer[] order = new Integer[c];
                for (int j = 0; j < c; j++) order[j] = j;
                Arrays.sort(order, (p, q) -> a[base + p] > a[base + q] ? -1 : a[base + p] < a[base + q] ? 1 : 0);
                for (int j = 0; j < k; j++) {
                    ov[r * k + j] = a[base + order[j]];
                    oi[r * k + j] = order[j];
                }
            }
        }
        return new TopK(values, indices);
    }

    /** Keeps the k largest in a sorted buffer; scanning in index order makes ties keep the lower index first. */
    private static void topSmall(double[] row, int c, int k, double[] bv, int[] bi) {
        int cnt = 0;
        for (int j = 0; j < c; j++) {
            double v = row[j];
            int pos;
            if (cnt < k) {
                pos = cnt++;
            } else if (v > bv[k - 1]) {
                pos = k - 1;
            } else {
                continue;
            }
            while (pos > 0 && bv[pos - 1] < v) {
                bv[pos] = bv[pos - 1];
                bi[pos] = bi[pos - 1];
                pos--;
            }
            bv[pos] = v;
            bi[pos] = j;
        }
    }

    /** Stable merge sort of idx[lo, hi) by v[idx] descending (equal values keep their order). */
    private static void mergeSortDesc(int[] idx, int[] tmp, double[] v, int lo, int hi) {
        if (hi - lo < 2) return;
        int mid = (lo + hi) >>> 1;
        mergeSortDesc(idx, tmp, v, lo, mid);
        mergeSortDesc(idx, tmp, v, mid, hi);
        int i = lo;
        int j = mid;
        int t = lo;
        while (i < mid && j < hi) tmp[t++] = v[idx[j]] > v[idx[i]] ? idx[j++] : idx[i++];
        while (i < mid) tmp[t++] = idx[i++];
        while (j < hi) tmp[t++] = idx[j++];
        System.arraycopy(tmp, lo, idx, lo, hi - lo);
    }

    // ---- l2Loss ----------------------------------------------------------------------------------

    @Override
    public Tensor l2Loss(Tensor x) {
        checkFloat("l2Loss", x);
        int n = x.numel();
        int xo = x.offset();
        Tensor out = Tensor.zeros(x.dtype(), Shape.scalar());
        if (x.dtype() == DType.FLOAT32) {
            float[] a = x.floatData();
            // Fixed blocks, each summed in float lanes then added in double, in block order:
            // accurate and independent of the thread count.
            int block = 4096;
            int nb = (n + block - 1) / block;
            double[] partial = new double[nb];
            Parallel.forRange(nb, 4, (s, e) -> {
                int step = F.length();
                for (int b = s; b < e; b++) {
                    int lo = xo + b * block;
                    int hi = xo + Math.min(n, (b + 1) * block);
                    int j = lo;
                    FloatVector acc = FloatVector.zero(F);
                    for (; j <= hi - step; j += step) {
                        FloatVector v = FloatVector.fromArray(F, a, j);
                        acc = v.fma(v, acc);
                    }
                    double sum = LaneSum.ordered(acc);
                    for (; j < hi; j++) sum += (double) a[j] * a[j];
                    partial[b] = sum;
                }
            });
            double total = 0;
            for (double p : partial) total += p;
            out.floatData()[0] = (float) (total / 2);
        } else {
            double[] a = x.doubleData();
            double total = 0;
            for (int i = 0; i < n; i++) total += a[xo + i] * a[xo + i];
            out.doubleData()[0] = total / 2;
        }
        return out;
    }

    // ---- shared validation -----------------------------------------------------------------------

    private static void checkFloat(String op, Tensor x) {
        if (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": input dtype " + x.dtype() + " is not supported (float32 or float64)");
        }
    }
}
