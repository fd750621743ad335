package org.slim4j.layers;

import org.slim4j.autograd.Var;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Storage;
import org.slim4j.tensor.Tensor;

/**
 * A device that holds shapes but no values. Building a network on it (a
 * {@link VariableStore#shapeOnly shape-only} store and a {@link #placeholder}) creates every
 * variable and end point with its real name and shape, and counts multiply-adds, without
 * allocating or computing anything: this is how {@code model_summary} inspects VGG or NASNet-large
 * in milliseconds. Every layer and every {@link Ops} function accepts such tensors; reading their
 * values is an error.
 */
public final class MetaDevice implements Device {
    public static final MetaDevice INSTANCE = new MetaDevice();

    private MetaDevice() {
    }

    /** A value-less input of the given shape (TF's placeholder). */
    public static Var placeholder(DType dtype, int... dims) {
        return Var.constant(tensor(dtype, Shape.of(dims)));
    }

    /** A value-less tensor. */
    public static Tensor tensor(DType dtype, Shape shape) {
        return Tensor.zeros(INSTANCE, dtype, shape);
    }

    public static boolean isMeta(Tensor t) {
        return t.device() == INSTANCE;
    }

    public static boolean isMeta(Var v) {
        return v.value().device() == INSTANCE;
    }

    @Override
    public String name() {
        return "meta";
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        return new MetaStorage(this, dtype, length);
    }

    @Override
    public void copyFromHost(Object hostArray, int hostOffset, Storage dst, int dstOffset, int length) {
        throw noValues();
    }

    @Override
    public void copyToHost(Storage src, int srcOffset, Object hostArray, int hostOffset, int length) {
        throw noValues();
    }

    @Override
    public void copy(Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
        throw noValues();
    }

    @Override
    public void sync() {
    }

    @Override
    public long liveBytes() {
        return 0;
    }

    @Override
    public long liveAllocations() {
        return 0;
    }

    @Override
    public String toString() {
        return name();
    }

    private static UnsupportedOperationException noValues() {
        return new UnsupportedOperationException("a shape-only (meta) tensor has no values; build on a real VariableStore to compute");
    }

    private static final class MetaStorage extends Storage {
        MetaStorage(Device device, DType dtype, int length) {
            super(device, dtype, length);
        }

        @Override
        protected void free() {
        }
    }
}
