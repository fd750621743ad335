package org.slim4j.cuda;

import java.util.Arrays;
import java.util.List;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Reductions on the GPU (reduce.cu). Every sum first merges neighbouring axes that are both
 * reduced or both kept (size-1 axes dropped), then takes one of two deterministic paths:
 * when the innermost input axis is reduced, one block per output element ({@code reduce_block_f32});
 * otherwise one thread per (output element, slice of the reduced range) writes partial sums that
 * a second kernel adds in slice order ({@code reduce_partial_f32} + {@code reduce_finish_f32}), so
 * both the bias gradient [rows, C] -> [C] and global pooling [N, HW, C] -> [N, C] read coalesced
 * rows and still spread over the whole GPU.
 */
final class CudaReduce implements ReduceKernels {
    private static final String MODULE = "reduce";
    private static final int MAX_AXES = 8;
    /** Target number of threads of the partial-sum pass. */
    private static final int PARTIAL_THREADS = 1 << 16;
    /** Fewest reduced elements per slice of the partial-sum pass. */
    private static final int MIN_CHUNK = 16;
    /** Reduced elements per block when few long rows are cut into slices (reduce_block_sliced_f32). */
    private static final int SLICE = 4096;
    /** Up to this many outputs, long rows are sliced; beyond, one block per output already fills the GPU. */
    private static final int SLICED_MAX_OUTPUTS = 264;

    private final CudaOps ops;

    CudaReduce(CudaOps ops) {
        this.ops = ops;
    }

    @Override
    public Tensor sum(Tensor x, int[] axes, boolean keepDims) {
        return reduce("sum", x, axes, keepDims, false);
    }

    @Override
    public Tensor mean(Tensor x, int[] axes, boolean keepDims) {
        return reduce("mean", x, axes, keepDims, true);
    }

    private Tensor reduce(String op, Tensor x, int[] axes, boolean keepDims, boolean mean) {
        ops.checkF32(op, "x", x);
        int[] dims = x.dims();
        boolean[] red = ReduceKernels.axisMask(op, x.shape(), axes);
        long count = 1;
        for (int i = 0; i < dims.length; i++) if (red[i]) count *= dims[i];
        Tensor out = ops.out(Shape.of(ReduceKernels.reducedDims(dims, red, keepDims)));
        sumInto(x, red, out, false, mean ? 1.0 / count : 1.0);
        return out;
    }

    @Override
    public Tensor sumToShape(Tensor x, Shape target) {
        String op = "sumToShape";
        ops.checkF32(op, "x", x);
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
        Tensor out = ops.out(target);
        sumInto(x, red, out, false, 1.0);
        return out;
    }

    @Override
    public Tensor l2Loss(Tensor x) {
        ops.checkF32("l2Loss", "x", x);
        Tensor out = ops.out(Shape.scalar());
        boolean[] red = new boolean[x.rank()];
        Arrays.fill(red, true);
        sumInto(x, red, out, true, 0.5);
        return out;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Two launches for all the tensors (multi_tensor.cuh): per-block float sums of squares, then one
     * block adding each tensor's blocks in order in double, scaling, and adding the terms in order.
     */
    @Override
    public Tensor l2LossSum(List<Tensor> xs, double[] scales) {
        ReduceKernels.checkL2LossSum(xs, scales);
        CudaTensorTable table = new CudaTensorTable();
        for (int i = 0; i < xs.size(); i++) {
            Tensor x = xs.get(i);
            ops.checkF32("l2LossSum", "tensor " + i, x);
            table.add(x.numel(), (float) scales[i], CudaOps.ptr(x));
        }
        Tensor out = ops.out(Shape.scalar());
        try (Tensor t = table.upload(ops.device);
             Tensor partial = ops.out(table.perBlock());
             Tensor terms = Tensor.empty(ops.device, DType.FLOAT64, Shape.of(table.count()))) {
            KernelArgs args = new KernelArgs().i32(table.count()).ptr(CudaOps.ptr(t));
            ops.launch(MODULE, "l2_multi_partial_f32", table.blocks(), 1, CudaOps.THREADS, args.ptr(CudaOps.ptr(partial)));
            ops.launch(MODULE, "l2_multi_finish_f32", 1, 1, CudaOps.THREADS, new KernelArgs().i32(table.count()).i32(table.blocks())
                    .ptr(CudaOps.ptr(t)).ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(terms)).ptr(CudaOps.ptr(out)));
        }
        return out;
    }

    /**
     * out (its elements in kept-axis row-major order) = scale * sum over the reduced axes of x
     * (of x^2 when square). out is fully written.
     */
    void sumInto(Tensor x, boolean[] red, Tensor out, boolean square, double scale) {
        int[] dims = x.dims();
        int nOut = out.numel();
        if (nOut == 0) return;
        // Merge: drop size-1 axes, fuse neighbours with the same role.
        int[] md = new int[dims.length];
        boolean[] mr = new boolean[dims.length];
        int m = 0;
        boolean empty = false;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 0) empty = true;
            if (dims[i] == 1) continue;
            if (m > 0 && mr[m - 1] == red[i]) {
                md[m - 1] *= dims[i];
            } else {
                md[m] = dims[i];
                mr[m] = red[i];
                m++;
            }
        }
        if (empty) {
            // Nothing to add: sums are 0 (means 0 * (1/0) = NaN, as on the CPU).
            ops.launch1d("elementwise", "fill_f32", nOut, new KernelArgs().i32(nOut).ptr(CudaOps.ptr(out))
                    .f32(Double.isInfinite(scale) ? Double.NaN : 0.0));
            return;
        }
        int[] stride = new int[m];
        int st = 1;
        for (int i = m - 1; i >= 0; i--) {
            stride[i] = st;
            st *= md[i];
        }
        int[] g = new int[2 + 4 * MAX_AXES];
        int nk = 0, nr = 0;
        long nRed = 1;
        for (int i = 0; i < m; i++) {
            if (mr[i]) {
                nRed *= md[i];
                nr++;
            } else {
                nk++;
            }
        }
        if (nk > MAX_AXES || nr > MAX_AXES) {
            throw new IllegalArgumentException("reduce: input " + x.shape() + " alternates kept and reduced axes more than "
                    + MAX_AXES + " times, which the cuda kernel does not handle");
        }
        g[0] = nk;
        g[1 + 2 * MAX_AXES] = nr;
        for (int i = 0, k = 0, r = 0; i < m; i++) {
            if (mr[i]) {
                g[2 + 2 * MAX_AXES + r] = md[i];
                g[2 + 3 * MAX_AXES + r] = stride[i];
                r++;
            } else {
                g[1 + k] = md[i];
                g[1 + MAX_AXES + k] = stride[i];
                k++;
            }
        }
        boolean lastReduced = m > 0 && mr[m - 1];
        if (lastReduced && nRed >= 2L * SLICE && nOut < SLICED_MAX_OUTPUTS) {
            // Few long rows: a block per (row, slice of SLICE elements), then the slices in order.
            int slices = (int) Math.min(65535, (nRed + SLICE - 1) / SLICE);
            int chunk = (int) ((nRed + slices - 1) / slices);
            slices = (int) ((nRed + chunk - 1) / chunk);
            try (Tensor partial = ops.out(Shape.of(slices * nOut))) {
                ops.launch(MODULE, "reduce_block_sliced_f32", nOut, slices, 256, new KernelArgs().i32(nOut).i32((int) nRed).i32(chunk)
                        .ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(x)).struct(g).i32(square));
                ops.launch1d(MODULE, "reduce_finish_f32", nOut, new KernelArgs().i32(nOut).i32(slices).ptr(CudaOps.ptr(out))
                        .ptr(CudaOps.ptr(partial)).f32(scale));
            }
            return;
        }
        if (lastReduced && nRed >= 32) {
            int threads = (int) Math.min(256, (nRed + 31) / 32 * 32);
            int grid = Math.min(nOut, 65535);
            ops.launch(MODULE, "reduce_block_f32", grid, 1, threads, new KernelArgs().i32(nOut).i32((int) nRed)
                    .ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)).struct(g).i32(square).f32(scale));
            return;
        }
        // Enough slices to occupy the GPU, each at least MIN_CHUNK elements long.
        long wanted = Math.max(1, PARTIAL_THREADS / Math.max(1, nOut));
        int splits = (int) Math.max(1, Math.min(Math.min(wanted, (nRed + MIN_CHUNK - 1) / MIN_CHUNK), 65535));
        int chunk = (int) ((nRed + splits - 1) / splits);
        splits = (int) ((nRed + chunk - 1) / chunk);
        try (Tensor partial = ops.out(Shape.of(splits * nOut))) {
            int threads = CudaOps.THREADS;
            ops.launch(MODULE, "reduce_partial_f32", (nOut + threads - 1) / threads, splits, threads, new KernelArgs()
                    .i32(nOut).i32((int) nRed).i32(chunk).ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(x)).struct(g).i32(square));
            ops.launch1d(MODULE, "reduce_finish_f32", nOut, new KernelArgs().i32(nOut).i32(splits).ptr(CudaOps.ptr(out))
                    .ptr(CudaOps.ptr(partial)).f32(scale));
        }
    }

    @Override
    public Tensor argmax(Tensor x, int axis) {
        String op = "argmax";
        ops.checkF32(op, "x", x);
        int ax = x.shape().normalizeAxis(op, axis);
        int[] dims = x.dims();
        if (dims[ax] == 0) {
            throw new IllegalArgumentException(op + ": axis " + axis + " of input " + x.shape() + " is empty");
        }
        int outer = 1;
        int inner = 1;
        for (int i = 0; i < ax; i++) outer *= dims[i];
        for (int i = ax + 1; i < dims.length; i++) inner *= dims[i];
        int[] outDims = new int[dims.length - 1];
        for (int i = 0, j = 0; i < dims.length; i++) if (i != ax) outDims[j++] = dims[i];
        Tensor out = ops.device.empty(DType.INT64, Shape.of(outDims));
        ops.launch1d(MODULE, "argmax_f32", (long) outer * inner, new KernelArgs().i32(outer).i32(dims[ax]).i32(inner)
                .ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)));
        return out;
    }

    @Override
    public TopK topK(Tensor x, int k) {
        String op = "topK";
        ops.checkF32(op, "x", x);
        if (x.rank() < 1) throw new IllegalArgumentException(op + ": input must have rank >= 1, got shape " + x.shape());
        int c = x.dim(-1);
        if (k < 0 || k > c) {
            throw new IllegalArgumentException(op + ": k " + k + " must be in [0, " + c + "] (last axis of input " + x.shape() + ")");
        }
        Shape outShape = x.shape().withDim(-1, k);
        Tensor values = ops.out(outShape);
        Tensor indices = ops.device.empty(DType.INT32, outShape);
        if (k > 0 && c > 0) {
            int rows = x.numel() / c;
            ops.launch1d(MODULE, "topk_f32", rows, new KernelArgs().i32(rows).i32(c).i32(k).ptr(CudaOps.ptr(values))
                    .ptr(CudaOps.ptr(indices)).ptr(CudaOps.ptr(x)));
        }
        return new TopK(values, indices);
    }
}
