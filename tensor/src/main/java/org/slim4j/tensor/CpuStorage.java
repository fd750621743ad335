package org.slim4j.tensor;

/** Host memory: one Java primitive array. FLOAT16/BFLOAT16 are stored as raw bits in a short[]. */
public final class CpuStorage extends Storage {
    private Object array;

    CpuStorage(CpuDevice device, DType dtype, int length) {
        super(device, dtype, length);
        this.array = switch (dtype) {
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
        array = null;
        ((CpuDevice) device()).onFree(dtype().byteSize() * (long) length());
    }
}
