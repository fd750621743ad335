package org.slim4j.io.checkpoint;

import org.slim4j.tensor.DType;

/**
 * TensorFlow's DataType codes as stored in checkpoints (the {@code DataType} enum of types.proto),
 * with each type's element size and the slim4j {@link DType} its values load as. Types slim4j
 * tensors can't hold (int16, complex, ...) are still listed so a checkpoint holding them can be
 * inspected, and their raw bytes read.
 */
public enum TfDataType {
    FLOAT(1, "float32", 4, DType.FLOAT32),
    DOUBLE(2, "float64", 8, DType.FLOAT64),
    INT32(3, "int32", 4, DType.INT32),
    UINT8(4, "uint8", 1, DType.UINT8),
    INT16(5, "int16", 2, null),
    INT8(6, "int8", 1, null),
    STRING(7, "string", -1, null),
    COMPLEX64(8, "complex64", 8, null),
    INT64(9, "int64", 8, DType.INT64),
    /** One byte per element, 0 or 1; loads as UINT8. */
    BOOL(10, "bool", 1, DType.UINT8),
    QINT8(11, "qint8", 1, null),
    QUINT8(12, "quint8", 1, null),
    QINT32(13, "qint32", 4, null),
    BFLOAT16(14, "bfloat16", 2, DType.BFLOAT16),
    QINT16(15, "qint16", 2, null),
    QUINT16(16, "quint16", 2, null),
    UINT16(17, "uint16", 2, null),
    COMPLEX128(18, "complex128", 16, null),
    /** IEEE half precision; loads as FLOAT16 storage. */
    HALF(19, "float16", 2, DType.FLOAT16),
    RESOURCE(20, "resource", -1, null),
    VARIANT(21, "variant", -1, null),
    UINT32(22, "uint32", 4, null),
    UINT64(23, "uint64", 8, null);

    private static final TfDataType[] BY_CODE = new TfDataType[24];

    static {
        for (TfDataType t : values()) BY_CODE[t.code] = t;
    }

    private final int code;
    private final String pythonName;
    private final int byteSize;
    private final DType dtype;

    TfDataType(int code, String pythonName, int byteSize, DType dtype) {
        this.code = code;
        this.pythonName = pythonName;
        this.byteSize = byteSize;
        this.dtype = dtype;
    }

    /** The DataType enum number. */
    public int code() {
        return code;
    }

    /** The enum name TensorFlow prints, e.g. {@code DT_FLOAT}. */
    public String tfName() {
        return "DT_" + name();
    }

    /** The Python spelling, e.g. {@code float32}. */
    public String pythonName() {
        return pythonName;
    }

    /** Bytes per element, or -1 for variable-size types (string, resource, variant). */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFixedSize() {
        return byteSize > 0;
    }

    /** The slim4j dtype the values load as, or null when a slim4j tensor can't hold them. */
    public DType dtype() {
        return dtype;
    }

    /** The type with DataType number {@code code}, or null for an unknown (or reference) code. */
    public static TfDataType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** How a slim4j tensor of {@code d} is saved (UINT8 as uint8; use BOOL explicitly for booleans). */
    public static TfDataType of(DType d) {
        return switch (d) {
            case FLOAT32 -> FLOAT;
            case FLOAT64 -> DOUBLE;
            case INT32 -> INT32;
            case INT64 -> INT64;
            case UINT8 -> UINT8;
            case FLOAT16 -> HALF;
            case BFLOAT16 -> BFLOAT16;
        };
    }

    @Override
    public String toString() {
        return pythonName;
    }
}
