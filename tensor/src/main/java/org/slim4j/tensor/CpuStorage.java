package org.slim4j.tensor;

/** Host memory: one Java primitive array. FLOAT16/BFLOAT16 are stored as raw bits in a short[]. */
public final class CpuStorage extends Storage {
    private Object array;

    /** Wraps {@code array}, which must be a fresh or recycled array of the dtype's element type and {@code length}. */
    CpuStorage(CpuDevice device, DType dtype, int length, Object array) {
        super(device, dtype, length);
        this.array = array;
    }

    /** A new zero-filled array for {@code length} elements of {@code dtype}. */
    static Object newArray(DType dtype, int length) {
        return switch (dtype) {
            case FLOAT32 -> new float[length];
            case FLOAT64 -> new double[length];
            case INT32 -> new int[length];
            case INT64 -> new long[length];
            case UINT8 -> new byte[length];
            case FLOAT16, BFLOAT16 -> new short[length];
        };
    }

    public Object array() {
        if (array == null) throw new IllegalStateException("tensor memory was already released (closed tensor used)");
        return array;
    }

    @Override
    protected void free() {
        Object a = array;
        array = null;
        ((CpuDevice) device()).onFree(dtype(), length(), a);
    }
}
