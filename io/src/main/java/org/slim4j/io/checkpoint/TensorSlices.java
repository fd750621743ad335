package org.slim4j.io.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.slim4j.io.proto.TensorSliceProto;

/**
 * Slices of partitioned tensors: the SSTable key of a slice (TensorFlow's EncodeTensorNameSlice)
 * and copying a slice's elements into the full tensor. A slice has one extent per dimension;
 * an extent without a length is the whole dimension.
 */
final class TensorSlices {
    private TensorSlices() {
    }

    /** The key a slice of {@code name} is stored under: OrderedCode of 0, name, rank, (start, length)*. */
    static byte[] key(String name, TensorSliceProto slice) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OrderedCode.writeNumIncreasing(out, 0);
        OrderedCode.writeString(out, name.getBytes(StandardCharsets.UTF_8));
        OrderedCode.writeNumIncreasing(out, slice.getExtentCount());
        for (TensorSliceProto.Extent e : slice.getExtentList()) {
            OrderedCode.writeSignedNumIncreasing(out, e.getStart());
            OrderedCode.writeSignedNumIncreasing(out, e.hasLength() ? e.getLength() : -1);
        }
        return out.toByteArray();
    }

    /** A decoded slice key. */
    record SliceKey(String name, TensorSliceProto slice) {
    }

    /** Decodes a slice key into its tensor name and slice (the inverse of {@link #key}). */
    static SliceKey decodeKey(byte[] key, String where) throws CheckpointFormatException {
        OrderedCode.Reader r = new OrderedCode.Reader(key, where);
        if (r.readNumIncreasing() != 0) throw new CheckpointFormatException(where + ": slice key does not start with 0");
        String name = new String(r.readString(), StandardCharsets.UTF_8);
        long rank = r.readNumIncreasing();
        if (rank > 64) throw new CheckpointFormatException(where + ": slice key of rank " + rank);
        TensorSliceProto.Builder b = TensorSliceProto.newBuilder();
        for (int d = 0; d < rank; d++) {
            long start = r.readSignedNumIncreasing();
            long length = r.readSignedNumIncreasing();
            TensorSliceProto.Extent.Builder e = TensorSliceProto.Extent.newBuilder();
            if (length >= 0) e.setStart(start).setLength(length);
            b.addExtent(e);
        }
        if (!r.atEnd()) throw new CheckpointFormatException(where + ": trailing bytes after a slice key");
        return new SliceKey(name, b.build());
    }

    /**
     * The concrete {start, length} pairs of {@code slice} within a tensor of {@code dims}, checked:
     * as many extents as dimensions, each inside its dimension.
     */
    static long[][] bounds(TensorSliceProto slice, long[] dims, String where) throws CheckpointFormatException {
        if (slice.getExtentCount() != dims.length) {
            throw new CheckpointFormatException(where + ": slice has " + slice.getExtentCount() + " extents for a tensor of rank " + dims.length);
        }
        long[][] out = new long[dims.length][];
        for (int d = 0; d < dims.length; d++) {
            TensorSliceProto.Extent e = slice.getExtent(d);
            long start = e.hasLength() ? e.getStart() : 0;
            long len = e.hasLength() ? e.getLength() : dims[d];
            if (start < 0 || len < 0 || start > dims[d] || len > dims[d] - start) {
                throw new CheckpointFormatException(where + ": slice extent [" + start + ", +" + len + ") outside dimension " + d + " of size " + dims[d]);
            }
            out[d] = new long[] {start, len};
        }
        return out;
    }

    static long[] sliceDims(long[][] bounds) {
        long[] d = new long[bounds.length];
        for (int i = 0; i < d.length; i++) d[i] = bounds[i][1];
        return d;
    }

    /** A slice covering all of a tensor of rank {@code rank}. */
    static boolean isFull(long[][] bounds, long[] dims) {
        for (int i = 0; i < dims.length; i++) {
            if (bounds[i][0] != 0 || bounds[i][1] != dims[i]) return false;
        }
        return true;
    }

    /** Calls {@code f} with the row-major index in the full tensor of each element of the slice, in slice order. */
    static void forEachIndex(long[] dims, long[][] bounds, java.util.function.LongConsumer f) {
        int rank = dims.length;
        long n = 1;
        for (long[] b : bounds) n *= b[1];
        if (n == 0) return;
        long[] idx = new long[rank];
        for (long k = 0; k < n; k++) {
            long flat = 0;
            for (int d = 0; d < rank; d++) flat = flat * dims[d] + bounds[d][0] + idx[d];
            f.accept(flat);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < bounds[d][1]) break;
                idx[d] = 0;
            }
        }
    }

    /**
     * Copies a slice's elements ({@code src}, row-major over the slice's shape) into their places
     * in the full tensor {@code dst} (row-major over {@code dims}), one contiguous innermost run at a time.
     */
    static void copyInto(byte[] src, byte[] dst, long[] dims, long[][] bounds, int elemSize) {
        int rank = dims.length;
        if (rank == 0) {
            System.arraycopy(src, 0, dst, 0, elemSize);
            return;
        }
        long[] strides = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = s;
            s *= dims[d];
        }
        long runLen = bounds[rank - 1][1];
        long runs = 1;
        for (int d = 0; d < rank - 1; d++) runs *= bounds[d][1];
        if (runLen == 0 || runs == 0) return;
        long[] idx = new long[rank - 1];
        int runBytes = (int) (runLen * elemSize);
        int srcPos = 0;
        for (long r = 0; r < runs; r++) {
            long dstElem = bounds[rank - 1][0];
            for (int d = 0; d < rank - 1; d++) dstElem += (bounds[d][0] + idx[d]) * strides[d];
            System.arraycopy(src, srcPos, dst, (int) (dstElem * elemSize), runBytes);
            srcPos += runBytes;
            for (int d = rank - 2; d >= 0; d--) {
                if (++idx[d] < bounds[d][1]) break;
                idx[d] = 0;
            }
        }
    }
}
