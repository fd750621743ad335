package org.slim4j.kernels;

import java.util.List;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Reductions: sums and means over axes, argmax, top-k and the L2 loss. */
public interface ReduceKernels {
    /** Which axes of {@code s} a reduction over {@code axes} reduces: empty means all; negative axes count from the end; repeats count once. */
    static boolean[] axisMask(String op, Shape s, int[] axes) {
        boolean[] red = new boolean[s.rank()];
        if (axes == null || axes.length == 0) {
            java.util.Arrays.fill(red, true);
            return red;
        }
        for (int a : axes) red[s.normalizeAxis(op, a)] = true;
        return red;
    }

    /** The result's dims: reduced axes dropped, or kept as 1 with {@code keepDims}. */
    static int[] reducedDims(int[] dims, boolean[] red, boolean keepDims) {
        int[] out = new int[dims.length];
        int m = 0;
        for (int i = 0; i < dims.length; i++) {
            if (!red[i]) out[m++] = dims[i];
            else if (keepDims) out[m++] = 1;
        }
        return java.util.Arrays.copyOf(out, m);
    }

    /** Top-k values and their int32 indices along the last axis, largest first (ties: lower index first). */
    record TopK(Tensor values, Tensor indices) {
    }

    /** Sum over {@code axes} (negative axes count from the end; empty = all axes). */
    Tensor sum(Tensor x, int[] axes, boolean keepDims);

    Tensor mean(Tensor x, int[] axes, boolean keepDims);

    /** Sums a broadcast result back to {@code target} (the gradient of broadcasting). */
    Tensor sumToShape(Tensor x, Shape target);

    /** Index of the maximum along {@code axis} as int64 (first one on ties). */
    Tensor argmax(Tensor x, int axis);

    TopK topK(Tensor x, int k);

    /** sum(x^2) / 2 as a scalar (TF's L2Loss). */
    Tensor l2Loss(Tensor x);

    /**
     * sum over i of scales[i] * l2Loss(xs[i]), as a scalar of the first tensor's dtype on its device:
     * the L2 regularisation loss of many weights. This default adds the terms in double, one
     * l2Loss call each; a backend may reduce all the tensors in one pass.
     */
    default Tensor l2LossSum(List<Tensor> xs, double[] scales) {
        checkL2LossSum(xs, scales);
        double total = 0;
        for (int i = 0; i < xs.size(); i++) {
            try (Tensor l = l2Loss(xs.get(i))) {
                total += scales[i] * l.item();
            }
        }
        Tensor first = xs.get(0);
        Tensor host = Tensor.fromDoubles(first.dtype(), Shape.scalar(), new double[] {total});
        if (first.device() == host.device()) return host;
        try (host) {
            return host.toDevice(first.device());
        }
    }

    /** l2LossSum's argument rule, for every implementation: at least one tensor, and a scale for each. */
    static void checkL2LossSum(List<Tensor> xs, double[] scales) {
        if (xs.isEmpty() || xs.size() != scales.length) {
            throw new IllegalArgumentException("l2LossSum: " + xs.size() + " tensors and " + scales.length + " scales (need as many, at least one)");
        }
    }
}
