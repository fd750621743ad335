package org.slim4j.kernels.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.kernels.TransposePlan;
import org.slim4j.tensor.CpuStorage;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Data-rearranging copies on row-major tensors of any dtype: concat, split, pad, slice, transpose.
 * They work on the backing arrays as untyped blocks: each op finds the longest run of elements that
 * is contiguous in both source and destination and moves it with System.arraycopy, so only one
 * offset computation happens per run, never per element. Transposes that move the innermost axis
 * copy 32x32 tiles so that both reads and writes stay within a few cache lines.
 */
public final class ShapeCpu implements ShapeKernels {
    /** Elements per parallel task: copies are memory-bound, so only split big ones. */
    private static final int GRAIN_ELEMS = 1 << 16;
    private static final int TILE = 32;

    // ---- concat / split --------------------------------------------------------------------------

    @Override
    public Tensor concat(List<Tensor> values, int axis) {
        String op = "concat";
        if (values == null || values.isEmpty()) throw new IllegalArgumentException(op + ": needs at least one tensor");
        Tensor first = values.get(0);
        int rank = first.rank();
        int ax = first.shape().normalizeAxis(op, axis);
        int[] outDims = first.dims();
        outDims[ax] = 0;
        for (int i = 0; i < values.size(); i++) {
            Tensor t = values.get(i);
            if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": values[" + i + "] dtype " + t.dtype() + " != values[0] dtype " + first.dtype());
            }
            boolean ok = t.rank() == rank;
            for (int d = 0; ok && d < rank; d++) ok = d == ax || t.dim(d) == first.dim(d);
            if (!ok) {
                throw new IllegalArgumentException(op + ": values[" + i + "] shape " + t.shape() + " does not match values[0] shape "
                        + first.shape() + " outside axis " + ax);
            }
            outDims[ax] += t.dim(ax);
        }
        Tensor out = Tensor.empty(first.dtype(), Shape.of(outDims));
        int outer = 1;
        for (int d = 0; d < ax; d++) outer *= outDims[d];
        int inner = first.shape().strideOf(ax);
        int total = outDims[ax] * inner;
        if (out.numel() == 0) return out;
        Object dst = array(out);
        int n = values.size();
        Object[] src = new Object[n];
        int[] srcOff = new int[n];
        int[] run = new int[n];
        int[] dstOff = new int[n];
        for (int i = 0, acc = 0; i < n; i++) {
            Tensor t = values.get(i);
            src[i] = array(t);
            srcOff[i] = t.offset();
            run[i] = t.dim(ax) * inner;
            dstOff[i] = acc;
            acc += run[i];
        }
        Parallel.forRange(outer, Math.max(1, GRAIN_ELEMS / Math.max(1, total)), (s, e) -> {
            for (int o = s; o < e; o++) {
                for (int i = 0; i < n; i++) {
                    if (run[i] > 0) System.arraycopy(src[i], srcOff[i] + o * run[i], dst, o * total + dstOff[i], run[i]);
                }
            }
        });
        return out;
    }

    @Override
    public List<Tensor> split(Tensor x, int axis, int[] sizes) {
        String op = "split";
        int ax = x.shape().normalizeAxis(op, axis);
        int sum = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException(op + ": negative size in " + Arrays.toString(sizes) + " (input " + x.shape() + ")");
            sum += s;
        }
        if (sum != x.dim(ax)) {
            throw new IllegalArgumentException(op + ": sizes " + Arrays.toString(sizes) + " add up to " + sum + ", not the size "
                    + x.dim(ax) + " of axis " + ax + " of input " + x.shape());
        }
        int outer = 1;
        for (int d = 0; d < ax; d++) outer *= x.dim(d);
        int inner = x.shape().strideOf(ax);
        int total = x.dim(ax) * inner;
        Object src = x.numel() == 0 ? null : array(x);
        int xo = x.offset();
        List<Tensor> pieces = new ArrayList<>(sizes.length);
        int acc = 0;
        for (int size : sizes) {
            Tensor piece = Tensor.empty(x.dtype(), x.shape().withDim(ax, size));
            pieces.add(piece);
            int run = size * inner;
            if (run > 0 && outer > 0) {
                Object dst = array(piece);
                int from = xo + acc;
                Parallel.forRange(outer, Math.max(1, GRAIN_ELEMS / run), (s, e) -> {
                    for (int o = s; o < e; o++) System.arraycopy(src, from + o * total, dst, o * run, run);
                });
            }
            acc += run;
        }
        return pieces;
    }

    // ---- pad / slice -----------------------------------------------------------------------------

    @Override
    public Tensor pad(Tensor x, int[][] paddings, double value) {
        String op = "pad";
        int rank = x.rank();
        int[] dims = x.dims();
        if (paddings == null || paddings.length != rank) {
            throw new IllegalArgumentException(op + ": paddings has " + (paddings == null ? 0 : paddings.length)
                    + " rows but the input " + x.shape() + " has rank " + rank);
        }
        int[] outDims = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (paddings[d] == null || paddings[d].length != 2 || paddings[d][0] < 0 || paddings[d][1] < 0) {
                throw new IllegalArgumentException(op + ": paddings[" + d + "] = " + Arrays.toString(paddings[d])
                        + " must be {before, after} with both >= 0 (input " + x.shape() + ")");
            }
            outDims[d] = dims[d] + paddings[d][0] + paddings[d][1];
        }
        Tensor out = Tensor.zeros(x.dtype(), Shape.of(outDims));
        if (out.numel() == 0) return out;
        Object dst = array(out);
        if (value != 0) fill(dst, out.dtype(), value, op);
        if (x.numel() == 0) return out;
        Object src = array(x);
        // Axes after j are unpadded, so x[i0..i(j-1), :, ...] lands as one contiguous run.
        int jj = rank - 1;
        while (jj > 0 && paddings[jj][0] == 0 && paddings[jj][1] == 0) jj--;
        int j = jj;
        int[] outStride = new int[rank];
        rowStrides(outDims, outStride);
        int run = rank == 0 ? 1 : x.shape().strideOf(j) * dims[j];
        int rows = x.numel() / run;
        int base = 0;
        for (int d = 0; d < rank; d++) base += paddings[d][0] * outStride[d];
        int startOut = base;
        int xo = x.offset();
        Parallel.forRange(rows, Math.max(1, GRAIN_ELEMS / run), (s, e) -> {
            int[] idx = new int[Math.max(j, 0)];
            int dOff = startOut + unravel(s, dims, j, idx, outStride);
            for (int r = s; r < e; r++) {
                System.arraycopy(src, xo + r * run, dst, dOff, run);
                dOff += advance(idx, dims, outStride, j);
            }
        });
        return out;
    }

    @Override
    public Tensor slice(Tensor x, int[] begin, int[] size) {
        String op = "slice";
        int rank = x.rank();
        int[] dims = x.dims();
        if (begin == null || size == null || begin.length != rank || size.length != rank) {
            throw new IllegalArgumentException(op + ": begin " + Arrays.toString(begin) + " and size " + Arrays.toString(size)
                    + " must both have one entry per dimension of the input " + x.shape());
        }
        int[] sz = size.clone();
        for (int d = 0; d < rank; d++) {
            if (sz[d] == -1) sz[d] = dims[d] - begin[d]; // TF: -1 takes the rest of the dimension
            if (begin[d] < 0 || sz[d] < 0 || begin[d] + sz[d] > dims[d]) {
                throw new IllegalArgumentException(op + ": begin " + Arrays.toString(begin) + ", size " + Arrays.toString(size)
                        + " leave the input " + x.shape() + " at axis " + d);
            }
        }
        Tensor out = Tensor.empty(x.dtype(), Shape.of(sz));
        if (out.numel() == 0) return out;
        Object src = array(x);
        Object dst = array(out);
        // Axes after j are taken whole, so each x[b0+i0, ..., b(j-1)+i(j-1), bj:bj+sj, ...] is contiguous.
        int jj = rank - 1;
        while (jj > 0 && begin[jj] == 0 && sz[jj] == dims[jj]) jj--;
        int j = jj;
        int[] inStride = new int[rank];
        rowStrides(dims, inStride);
        int run = rank == 0 ? 1 : inStride[j] * sz[j];
        int rows = out.numel() / run;
        int start = x.offset();
        for (int d = 0; d < rank; d++) start += begin[d] * inStride[d];
        int startIn = start;
        Parallel.forRange(rows, Math.max(1, GRAIN_ELEMS / run), (s, e) -> {
            int[] idx = new int[Math.max(j, 0)];
            int sOff = startIn + unravel(s, sz, j, idx, inStride);
            for (int r = s; r < e; r++) {
                System.arraycopy(src, sOff, dst, r * run, run);
                sOff += advance(idx, sz, inStride, j);
            }
        });
        return out;
    }

    // ---- transpose -------------------------------------------------------------------------------

    @Override
    public Tensor transpose(Tensor x, int[] perm) {
        Tensor out = Tensor.empty(x.dtype(), Shape.of(TransposePlan.outputDims("transpose", x.shape(), perm)));
        if (out.numel() == 0) return out;
        Object src = array(x);
        Object dst = array(out);
        int xo = x.offset();
        TransposePlan plan = TransposePlan.of(x.dims(), perm);
        int m = plan.rank();
        if (m <= 1) {
            System.arraycopy(src, xo, dst, 0, out.numel());
            return out;
        }
        int[] md = plan.inDims();
        int[] od = plan.outDims();
        int[] outStride = plan.outStrides();
        int[] sso = plan.inStrideOfOut(); // input stride of output axis g

        if (plan.innermostStays()) {
            // The innermost input axis stays innermost: contiguous runs of md[m-1] elements.
            int run = md[m - 1];
            int rows = out.numel() / run;
            Parallel.forRange(rows, Math.max(1, GRAIN_ELEMS / run), (s, e) -> {
                int[] idx = new int[m - 1];
                int sOff = xo + unravel(s, od, m - 1, idx, sso);
                for (int r = s; r < e; r++) {
                    System.arraycopy(src, sOff, dst, r * run, run);
                    sOff += advance(idx, od, sso, m - 1);
                }
            });
            return out;
        }
        // Otherwise tile the plane of (output-innermost axis A, input-innermost axis B) and loop
        // over every position of the remaining ("rest") output axes.
        int qb = plan.outPositionOfInnermostInput(); // output position of input axis B (= merged input axis m-1)
        int sizeA = od[m - 1];
        int strideAin = sso[m - 1];
        int sizeB = md[m - 1];
        int strideBout = outStride[qb];
        int[] restAxes = new int[m - 2];
        for (int g = 0, t = 0; g < m - 1; g++) if (g != qb) restAxes[t++] = g;
        int[] restDims = new int[m - 2];
        int[] restIn = new int[m - 2];
        int[] restOut = new int[m - 2];
        int restCount = 1;
        for (int t = 0; t < m - 2; t++) {
            restDims[t] = od[restAxes[t]];
            restIn[t] = sso[restAxes[t]];
            restOut[t] = outStride[restAxes[t]];
            restCount *= restDims[t];
        }
        int ta = (sizeA + TILE - 1) / TILE;
        int tb = (sizeB + TILE - 1) / TILE;
        int tilesPer = ta * tb;
        Parallel.forRange(restCount * tilesPer, Math.max(1, GRAIN_ELEMS / (TILE * TILE)), (s, e) -> {
            int[] idx = new int[m - 2];
            for (int t = s; t < e; t++) {
                int rest = t / tilesPer;
                int tile = t % tilesPer;
                int a0 = (tile / tb) * TILE;
                int b0 = (tile % tb) * TILE;
                int an = Math.min(TILE, sizeA - a0);
                int bn = Math.min(TILE, sizeB - b0);
                int inBase = xo;
                int outBase = 0;
                int rr = rest;
                for (int q = m - 3; q >= 0; q--) {
                    idx[q] = rr % restDims[q];
                    rr /= restDims[q];
                    inBase += idx[q] * restIn[q];
                    outBase += idx[q] * restOut[q];
                }
                for (int ia = a0; ia < a0 + an; ia++) {
                    // Read a contiguous piece of an input row, write it down an output column.
                    stridedCopy(src, inBase + ia * strideAin + b0, dst, outBase + ia + b0 * strideBout, strideBout, bn);
                }
            }
        });
        return out;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** The backing array of a CPU tensor (any dtype). */
    private static Object array(Tensor t) {
        if (!(t.storage() instanceof CpuStorage cs)) {
            throw new IllegalArgumentException("shape ops: tensor " + t.shape() + " lives on " + t.device().name() + ", not the CPU");
        }
        return cs.array();
    }

    /** Row-major strides of {@code dims} into {@code strides}. */
    private static void rowStrides(int[] dims, int[] strides) {
        int s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= dims[i];
        }
    }

    /**
     * Splits row number {@code r} over axes [0, n) of {@code dims} into {@code idx} and returns the
     * matching offset under {@code strides}.
     */
    private static int unravel(int r, int[] dims, int n, int[] idx, int[] strides) {
        int off = 0;
        for (int a = n - 1; a >= 0; a--) {
            idx[a] = r % dims[a];
            r /= dims[a];
            off += idx[a] * strides[a];
        }
        return off;
    }

    /** Steps the odometer idx over axes [0, n) by one and returns the change of offset. */
    private static int advance(int[] idx, int[] dims, int[] strides, int n) {
        int delta = 0;
        for (int a = n - 1; a >= 0; a--) {
            idx[a]++;
            delta += strides[a];
            if (idx[a] < dims[a]) break;
            delta -= strides[a] * dims[a];
            idx[a] = 0;
        }
        return delta;
    }

    /** dst[dOff + i * dStride] = src[sOff + i] for i in [0, n), for each primitive array type. */
    private static void stridedCopy(Object src, int sOff, Object dst, int dOff, int dStride, int n) {
        if (src instanceof float[] s) {
            float[] d = (float[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else if (src instanceof double[] s) {
            double[] d = (double[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else if (src instanceof int[] s) {
            int[] d = (int[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else if (src instanceof long[] s) {
            long[] d = (long[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else if (src instanceof byte[] s) {
            byte[] d = (byte[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else if (src instanceof short[] s) {
            short[] d = (short[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i * dStride] = s[sOff + i];
        } else {
            throw new IllegalStateException("unexpected backing array " + src.getClass());
        }
    }

    /** Fills a whole backing array with {@code value} converted to its dtype (as a cast would). */
    private static void fill(Object a, DType dtype, double value, String op) {
        switch (dtype) {
            case FLOAT32 -> Arrays.fill((float[]) a, (float) value);
            case FLOAT64 -> Arrays.fill((double[]) a, value);
            case INT32 -> Arrays.fill((int[]) a, (int) value);
            case INT64 -> Arrays.fill((long[]) a, (long) value);
            case UINT8 -> Arrays.fill((byte[]) a, (byte) (int) value);
            default -> throw new IllegalArgumentException(op + ": a non-zero fill value is not supported for " + dtype);
        }
    }
}
