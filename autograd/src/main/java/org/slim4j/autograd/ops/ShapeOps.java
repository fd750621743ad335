package org.slim4j.autograd.ops;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable reshape, concat, split, slice, pad and transpose. */
public final class ShapeOps {
    private ShapeOps() {
    }

    private static ShapeKernels k(Tensor t) {
        return Backends.kernels(t, ShapeKernels.class);
    }

    /** A reshaped view (one entry may be -1). */
    public static Var reshape(Var x, int... dims) {
        Tensor y = x.value().reshape(dims);
        int[] original = x.value().dims();
        return Var.result(y, dy -> new Tensor[] {dy.reshape(original)}, x);  // a view of dy: no copy
    }

    /** [N, ...] to [N, prod(...)], as slim.flatten does. */
    public static Var flatten(Var x) {
        return reshape(x, x.value().dim(0), -1);
    }

    public static Var concat(List<Var> values, int axis) {
        List<Tensor> ts = new ArrayList<>();
        for (Var v : values) ts.add(v.value());
        Tensor y = k(ts.get(0)).concat(ts, axis);
        int ax = y.shape().normalizeAxis(axis);
        int[] sizes = new int[ts.size()];
        for (int i = 0; i < sizes.length; i++) sizes[i] = ts.get(i).dim(ax);
        return Var.result(y, dy -> {
            List<Tensor> parts = k(dy).split(dy, ax, sizes);
            Tensor[] out = parts.toArray(new Tensor[0]);
            for (int i = 0; i < out.length; i++) {
                if (!values.get(i).requiresGrad()) {
                    out[i].close();
                    out[i] = null;
                }
            }
            return out;
        }, values.toArray(new Var[0]));
    }

    /** The box x[begin[d] : begin[d] + size[d]]. */
    public static Var slice(Var x, int[] begin, int[] size) {
        Tensor y = k(x.value()).slice(x.value(), begin, size);
        int[] dims = x.value().dims();
        int[] taken = y.dims(); // size with TF's -1 ("the rest") resolved
        return Var.result(y, dy -> {
            int[][] pads = new int[dims.length][2];
            for (int d = 0; d < dims.length; d++) {
                pads[d][0] = begin[d];
                pads[d][1] = dims[d] - begin[d] - taken[d];
            }
            return new Tensor[] {k(dy).pad(dy, pads, 0)};
        }, x);
    }

    /** Splits along an axis into pieces of the given sizes. */
    public static List<Var> split(Var x, int axis, int[] sizes) {
        int[] dims = x.value().dims();
        int ax = x.value().shape().normalizeAxis(axis);
        int total = 0;
        for (int s : sizes) total += s;
        // Checked before any piece is made, so a bad call leaves nothing behind.
        if (total != dims[ax]) throw new IllegalArgumentException("split sizes add up to " + total + ", axis " + ax + " has " + dims[ax]);
        List<Var> out = new ArrayList<>();
        int start = 0;
        for (int s : sizes) {
            int[] begin = new int[dims.length];
            int[] size = dims.clone();
            begin[ax] = start;
            size[ax] = s;
            out.add(slice(x, begin, size));
            start += s;
        }
        return out;
    }

    public static Var pad(Var x, int[][] paddings, double value) {
        Tensor y = k(x.value()).pad(x.value(), paddings, value);
        int[] dims = x.value().dims();
        return Var.result(y, dy -> {
            int[] begin = new int[dims.length];
            for (int d = 0; d < dims.length; d++) begin[d] = paddings[d][0];
            return new Tensor[] {k(dy).slice(dy, begin, dims)};
        }, x);
    }

    public static Var transpose(Var x, int... perm) {
        Tensor y = k(x.value()).transpose(x.value(), perm);
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inverse[perm[i]] = i;
        return Var.result(y, dy -> new Tensor[] {k(dy).transpose(dy, inverse)}, x);
    }
}
