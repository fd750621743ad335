package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's BiasAdd and BiasAddGrad in NHWC (channels-last) layout: x of any rank >= 1 is
 * read as R rows of C = last-dimension channels; the bias [C] is added to every row, and the
 * gradient sums dy over the rows into [C].
 *
 * <p>The float32 gradient sums in a fixed order that depends only on the shape (fixed row blocks,
 * float partial sums of at most {@link #SUB_ROWS} rows folded into double), so results are
 * repeatable on any number of cores and stay accurate for very many rows.
 */
public final class BiasAddCpu implements BiasAddKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int GRAIN = 16384;
    /** Rows summed in float before folding into the double accumulator. */
    private static final int SUB_ROWS = 128;
    /** Upper bound on row blocks (the gradient's parallel tasks). */
    private static final int MAX_BLOCKS = 64;

    @Override
    public Tensor biasAdd(Tensor x, Tensor bias) {
        DType dt = checkFloat("biasAdd", "x", x);
        if (bias.dtype() != dt) {
            throw new IllegalArgumentException("biasAdd: mixed dtypes, x is " + dt + " but bias is " + bias.dtype()
                    + " (x " + x.shape() + ", bias " + bias.shape() + ")");
        }
        if (x.rank() < 1) throw new IllegalArgumentException("biasAdd: x must have rank >= 1 (x " + x.shape() + ", bias " + bias.shape() + ")");
        int c = x.dim(-1);
        if (bias.rank() != 1 || bias.dim(0) != c) {
            throw new IllegalArgumentException("biasAdd: bias must be [" + c + "] to match the last axis of x (x " + x.shape()
                    + ", bias " + bias.shape() + ")");
        }
        Tensor out = Tensor.empty(dt, x.shape());
        if (x.numel() == 0) return out;
        int rows = x.numel() / c;
        int xo = x.offset();
        int bo = bias.offset();
        int oo = out.offset();
        if (dt == DType.FLOAT32) {
            float[] xs = x.floatData();
            float[] bs = bias.floatData();
            float[] os = out.floatData();
            int bound = S.loopBound(c);
            Parallel.forRange(rows, Math.max(1, GRAIN / c), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int xi = xo + r * c;
                    int oi = oo + r * c;
                    int j = 0;
                    for (; j < bound; j += VL) {
                        FloatVector.fromArray(S, xs, xi + j).add(FloatVector.fromArray(S, bs, bo + j)).intoArray(os, oi + j);
                    }
                    for (; j < c; j++) os[oi + j] = xs[xi + j] + bs[bo + j];
                }
            });
        } else {
            double[] xs = x.doubleData();
            double[] bs = bias.doubleData();
            double[] os = out.doubleData();
            Parallel.forRange(rows, Math.max(1, GRAIN / c), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    for (int j = 0; j < c; j++) os[oo + r * c + j] = xs[xo + r * c + j] + bs[bo + j];
                }
            });
        }
        return out;
    }

    @Override
    public Tensor biasAddGrad(Tensor dy) {
        DType dt = checkFloat("biasAddGrad", "dy", dy);
        if (dy.rank() < 1) throw new IllegalArgumentException("biasAddGrad: dy must have rank >= 1 (dy " + dy.shape() + ")");
        int c = dy.dim(-1);
        Tensor out = Tensor.zeros(dt, Shape.of(c));
        if (dy.numel() == 0) return out;
        int rows = dy.numel() / c;
        int go = dy.offset();
        if (dt == DType.FLOAT32) {
            float[] g = dy.floatData();
            // Block count from the shape alone (never the thread count): a fixed summation order.
            int blocks = Math.min(MAX_BLOCKS, Math.max(1, rows / (4 * SUB_ROWS)));
            int perBlock = (rows + blocks - 1) / blocks;
            double[][] partial = new double[blocks][];
            Parallel.forRange(blocks, 1, (b0, b1) -> {
                float[] sub = new float[c];
                for (int blk = b0; blk < b1; blk++) {
                    double[] acc = new double[c];
                    int end = Math.min(rows, (blk + 1) * perBlock);
                    for (int r = blk * perBlock; r < end; r += SUB_ROWS) {
                        java.util.Arrays.fill(sub, 0f);
                        int subEnd = Math.min(end, r + SUB_ROWS);
                        for (int row = r; row < subEnd; row++) addRow(g, go + row * c, sub, c);
                        for (int j = 0; j < c; j++) acc[j] += sub[j];
                    }
                    partial[blk] = acc;
                }
            });
            float[] o = out.floatData();
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (double[] p : partial) s += p[j];
                o[out.offset() + j] = (float) s;
            }
        } else {
            double[] g = dy.doubleData();
            double[] o = out.doubleData();
            int oo = out.offset();
            Parallel.forRange(c, Math.max(1, GRAIN / rows), (j0, j1) -> {
                for (int j = j0; j < j1; j++) {
                    double s = 0;
                    for (int r = 0; r < rows; r++) s += g[go + r * c + j];
                    o[oo + j] = s;
                }
            });
        }
        return out;
    }

    /** sub[0..c) += g[gi..gi+c). */
    private static void addRow(float[] g, int gi, float[] sub, int c) {
        int j = 0;
        int bound = S.loopBound(c);
        for (; j < bound; j += VL) {
            FloatVector.fromArray(S, sub, j).add(FloatVector.fromArray(S, g, gi + j)).intoArray(sub, j);
        }
        for (; j < c; j++) sub[j] += g[gi + j];
    }

    private static DType checkFloat(String op, String arg, Tensor t) {
        DType dt = t.dtype();
        if (dt != DType.FLOAT32 && dt != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + dt + " for " + arg + " " + t.shape()
                    + " (float32 or float64 only)");
        }
        return dt;
    }
}
