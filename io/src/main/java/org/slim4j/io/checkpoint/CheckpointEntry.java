package org.slim4j.io.checkpoint;

import java.util.Arrays;
import org.slim4j.tensor.Shape;

/**
 * What a checkpoint says about one tensor without reading its values: name, TensorFlow dtype and
 * shape (as stored: dimensions are longs). Immutable: {@link #dims()} returns a copy.
 */
public record CheckpointEntry(String name, TfDataType dtype, long[] dims) {
    public CheckpointEntry {
        if (name == null || dtype == null || dims == null) throw new NullPointerException("name, dtype and dims are required");
        dims = dims.clone();
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(dims));
        }
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    /** The element count, or -1 if it overflows a long. */
    public long numElements() {
        return numElements(dims);
    }

    static long numElements(long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d != 0 && n > Long.MAX_VALUE / d) return -1;
            n *= d;
        }
        return n;
    }

    /** The shape as a slim4j {@link Shape}; IllegalStateException when it has more than 2^31-1 elements. */
    public Shape shape() {
        long n = numElements();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new IllegalStateException("tensor '" + name + "' of shape " + shapeString() + " has too many elements for a slim4j tensor");
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < d.length; i++) d[i] = (int) dims[i];
        return Shape.of(d);
    }

    /** TensorFlow's TensorShape debug spelling: {@code [3,3,3,32]}, {@code []} for a scalar. */
    public String shapeString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(dims[i]);
        }
        return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CheckpointEntry e && e.name.equals(name) && e.dtype == dtype && Arrays.equals(e.dims, dims);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(dims);
    }

    /** {@code name (DT_FLOAT) [3,3,3,32]}, the line TensorFlow's checkpoint reader prints. */
    @Override
    public String toString() {
        return name + " (" + dtype.tfName() + ") " + shapeString();
    }
}
