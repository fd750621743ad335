package org.slim4j.tensor;

/**
 * Element types. FLOAT32 is the compute type; FLOAT64 serves references and gradient checks;
 * INT32/INT64 hold labels and indices; UINT8 holds decoded images. FLOAT16/BFLOAT16 are storage
 * types (2 bytes each) reserved for checkpoints and mixed precision; no CPU kernel computes in them.
 */
public enum DType {
    FLOAT32(4, true),
    FLOAT64(8, true),
    INT32(4, false),
    INT64(8, false),
    UINT8(1, false),
    FLOAT16(2, true),
    BFLOAT16(2, true);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return floating;
    }

    /** TensorFlow's lower-case spelling, as used in checkpoints and golden files. */
    public String tfName() {
        return switch (this) {
            case FLOAT32 -> "float32";
            case FLOAT64 -> "float64";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case UINT8 -> "uint8";
            case FLOAT16 -> "float16";
            case BFLOAT16 -> "bfloat16";
        };
    }
}
