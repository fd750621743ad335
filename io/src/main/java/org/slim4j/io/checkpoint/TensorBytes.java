package org.slim4j.io.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.CpuStorage;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Moves tensor elements between slim4j tensors and checkpoint bytes (little-endian, row-major,
 * TensorFlow's element encodings). Works in chunks so a large tensor is never held twice.
 */
final class TensorBytes {
    private TensorBytes() {
    }

    /** A zero tensor for {@code e}, or a CheckpointFormatException saying why slim4j can't hold it. */
    static Tensor allocate(CheckpointEntry e, String where) throws CheckpointFormatException {
        DType d = e.dtype().dtype();
        if (d == null) {
            throw new CheckpointFormatException(where + ": tensor '" + e.name() + "' has dtype " + e.dtype().tfName()
                    + ", which slim4j tensors cannot hold" + (e.dtype().isFixedSize() ? " (readBytes gives its raw bytes)" : ""));
        }
        long n = e.numElements();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(where + ": tensor '" + e.name() + "' of shape " + e.shapeString() + " has more than 2^31-1 elements");
        }
        return Tensor.zeros(d, e.shape());
    }

    /**
     * Copies little-endian elements from {@code chunk} (position to limit; a whole number of
     * elements) into {@code t} starting at element {@code elem}.
     */
    static void put(Tensor t, ByteBuffer chunk, int elem) {
        ByteBuffer b = chunk.slice().order(ByteOrder.LITTLE_ENDIAN);
        int base = t.offset() + elem;
        switch (t.dtype()) {
            case FLOAT32 -> b.asFloatBuffer().get(t.floatData(), base, b.remaining() / 4);
            case FLOAT64 -> b.asDoubleBuffer().get(t.doubleData(), base, b.remaining() / 8);
            case INT32 -> b.asIntBuffer().get(t.intData(), base, b.remaining() / 4);
            case INT64 -> b.asLongBuffer().get(t.longData(), base, b.remaining() / 8);
            case UINT8 -> b.get(t.byteData(), base, b.remaining());
            case FLOAT16, BFLOAT16 -> b.asShortBuffer().get((short[]) ((CpuStorage) t.storage()).array(), base, b.remaining() / 2);
        }
    }

    /** A tensor for {@code e} filled from its complete little-endian bytes. */
    static Tensor toTensor(CheckpointEntry e, byte[] le, String where) throws CheckpointFormatException {
        Tensor t = allocate(e, where);
        put(t, ByteBuffer.wrap(le), 0);
        return t;
    }

    /**
     * Writes elements {@code [elem, elem + count)} of a CPU tensor into {@code out} (little-endian),
     * which must have room for them.
     */
    static void get(Tensor t, int elem, int count, ByteBuffer out) {
        ByteBuffer b = out.slice().order(ByteOrder.LITTLE_ENDIAN);
        int base = t.offset() + elem;
        switch (t.dtype()) {
            case FLOAT32 -> b.asFloatBuffer().put(t.floatData(), base, count);
            case FLOAT64 -> b.asDoubleBuffer().put(t.doubleData(), base, count);
            case INT32 -> b.asIntBuffer().put(t.intData(), base, count);
            case INT64 -> b.asLongBuffer().put(t.longData(), base, count);
            case UINT8 -> b.put(t.byteData(), base, count);
            case FLOAT16, BFLOAT16 -> b.asShortBuffer().put((short[]) ((CpuStorage) t.storage()).array(), base, count);
        }
        out.position(out.position() + count * t.dtype().byteSize());
    }

    /** All elements of {@code t} as little-endian bytes (copied to the CPU first if needed). */
    static byte[] toBytes(Tensor t) {
        long n = (long) t.numel() * t.dtype().byteSize();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor " + t.shape() + " is larger than 2 GiB");
        byte[] out = new byte[(int) n];
        if (t.device() instanceof CpuDevice) {
            get(t, 0, t.numel(), ByteBuffer.wrap(out));
        } else {
            try (Tensor host = t.toDevice(CpuDevice.INSTANCE)) {
                get(host, 0, host.numel(), ByteBuffer.wrap(out));
            }
        }
        return out;
    }
}
