package org.slim4j.tensor;

import java.util.Arrays;

/** An immutable list of dimension sizes, row-major (the last dimension is contiguous). */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + dims[i] + " at axis " + i + " in " + Arrays.toString(dims));
            }
        }
        this.dims = dims;
        long n = numelLong();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has " + n + " elements; at most 2^31-1 are supported");
        }
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public static Shape scalar() {
        return new Shape(new int[0]);
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int axis) {
        return dims[normalizeAxis(axis)];
    }

    public int[] dims() {
        return dims.clone();
    }

    public int numel() {
        return (int) numelLong();
    }

    private long numelLong() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Number of elements after {@code axis} (the stride of {@code axis} in a contiguous layout). */
    public int strideOf(int axis) {
        int a = normalizeAxis(axis);
        int s = 1;
        for (int i = a + 1; i < dims.length; i++) s *= dims[i];
        return s;
    }

    /** Accepts negative axes counted from the end, as TensorFlow does. */
    /** NumPy broadcasting of {@code a} and {@code b}: align at the right; each pair of sizes must match or one must be 1. */
    public static Shape broadcast(String op, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            int ai = i - (r - a.rank());
            int bi = i - (r - b.rank());
            int da = ai >= 0 ? a.dim(ai) : 1;
            int db = bi >= 0 ? b.dim(bi) : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b
                        + " are not broadcast-compatible (axis " + i + " of the result: " + da + " vs " + db + ")");
            }
            d[i] = da == 1 ? db : da;
        }
        return Shape.of(d);
    }

    /** Row-major element strides of this (contiguous) shape aligned right into rank {@code r}; size-1 (broadcast) axes get 0. */
    public int[] broadcastStrides(int r) {
        int[] st = new int[r];
        int stride = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            int ax = i + (r - dims.length);
            st[ax] = dims[i] == 1 ? 0 : stride;
            stride *= dims[i];
        }
        return st;
    }

    /** As {@link #normalizeAxis(int)}, for an op's input: the error names {@code op} (kernels' argument checks). */
    public int normalizeAxis(String op, int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for input " + this);
        }
        return a;
    }

    public int normalizeAxis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for shape " + this);
        }
        return a;
    }

    public Shape withDim(int axis, int size) {
        int[] d = dims.clone();
        d[normalizeAxis(axis)] = size;
        return new Shape(d);
    }

    /** Resolves one -1 entry against this shape's element count, as reshape does. */
    public Shape reshape(int... newDims) {
        int[] d = newDims.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (unknown >= 0) throw new IllegalArgumentException("reshape " + Arrays.toString(newDims) + ": at most one -1");
                unknown = i;
            } else {
                known *= d[i];
            }
        }
        if (unknown >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(newDims));
            }
            d[unknown] = (int) (numel() / known);
        }
        Shape s = new Shape(d);
        if (s.numel() != numel()) {
            throw new IllegalArgumentException("cannot reshape " + this + " (" + numel() + " elements) to " + s + " (" + s.numel() + " elements)");
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
