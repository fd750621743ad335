package org.slim4j.tensor;

import java.util.Arrays;

/**
 * An n-dimensional array: a shape, a dtype and a contiguous row-major window of a {@link Storage}.
 * Views (reshape, batch slices) share storage and are cheap. Memory is released deterministically
 * by {@link #close()} or by the enclosing {@link TensorScope}; closing twice is harmless.
 *
 * <p>Layouts follow TensorFlow: activations NHWC, conv filters HWIO, depthwise filters
 * [H, W, C, multiplier], fully-connected weights [in, out].
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final int offset;
    private final Shape shape;
    private volatile boolean closed;

    private Tensor(Storage storage, int offset, Shape shape) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        TensorScope.track(this);
    }

    // ---- creation -------------------------------------------------------------------------

    /** Zero-filled tensor on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, Shape shape) {
        return new Tensor(device.allocate(dtype, shape.numel()), 0, shape);
    }

    public static Tensor zeros(DType dtype, Shape shape) {
        return zeros(CpuDevice.INSTANCE, dtype, shape);
    }

    /**
     * A tensor whose elements are unspecified (possibly stale values of recycled memory), for a
     * kernel output that is written entirely before anything reads it: skips zeroing.
     */
    public static Tensor empty(Device device, DType dtype, Shape shape) {
        return new Tensor(device.allocateUninitialized(dtype, shape.numel()), 0, shape);
    }

    /** {@link #empty(Device, DType, Shape)} on the CPU. */
    public static Tensor empty(DType dtype, Shape shape) {
        return empty(CpuDevice.INSTANCE, dtype, shape);
    }

    /** Zero-filled float32 tensor on the CPU. */
    public static Tensor zeros(int... dims) {
        return zeros(DType.FLOAT32, Shape.of(dims));
    }

    /** A new tensor with the same shape, dtype and device as {@code like}, zero-filled. */
    public static Tensor zerosLike(Tensor like) {
        return zeros(like.device(), like.dtype(), like.shape());
    }

    public static Tensor fill(float value, int... dims) {
        float[] a = new float[Shape.of(dims).numel()];
        Arrays.fill(a, value);
        return of(a, dims);
    }

    public static Tensor fill(DType dtype, Shape shape, double value) {
        return fromDoubles(dtype, shape, filled(shape.numel(), value));
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    /** float32 tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, int... dims) {
        return fromHost(DType.FLOAT32, data, data.length, dims);
    }

    public static Tensor of(double[] data, int... dims) {
        return fromHost(DType.FLOAT64, data, data.length, dims);
    }

    public static Tensor of(int[] data, int... dims) {
        return fromHost(DType.INT32, data, data.length, dims);
    }

    public static Tensor of(long[] data, int... dims) {
        return fromHost(DType.INT64, data, data.length, dims);
    }

    public static Tensor ofBytes(byte[] data, int... dims) {
        return fromHost(DType.UINT8, data, data.length, dims);
    }

    private static Tensor fromHost(DType dtype, Object data, int length, int... dims) {
        Shape shape = dims.length == 0 && length != 1 ? Shape.of(length) : Shape.of(dims);
        if (shape.numel() != length) {
            throw new IllegalArgumentException("data has " + length + " elements but shape " + shape + " needs " + shape.numel());
        }
        Tensor t = empty(CpuDevice.INSTANCE, dtype, shape);
        t.device().copyFromHost(data, 0, t.storage, 0, length);
        return t;
    }

    /** A tensor of any numeric dtype from double values (rounded or truncated as a cast would). */
    public static Tensor fromDoubles(DType dtype, Shape shape, double[] values) {
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException(values.length + " values for shape " + shape);
        }
        int[] dims = shape.dims();
        return switch (dtype) {
            case FLOAT32 -> {
                float[] a = new float[values.length];
                for (int i = 0; i < a.length; i++) a[i] = (float) values[i];
                yield of(a, dims);
            }
            case FLOAT64 -> of(values.clone(), dims);
            case INT32 -> {
                int[] a = new int[values.length];
                for (int i = 0; i < a.length; i++) a[i] = (int) values[i];
                yield of(a, dims);
            }
            case INT64 -> {
                long[] a = new long[values.length];
                for (int i = 0; i < a.length; i++) a[i] = (long) values[i];
                yield of(a, dims);
            }
            case UINT8 -> {
                byte[] a = new byte[values.length];
                for (int i = 0; i < a.length; i++) a[i] = (byte) (int) values[i];
                yield ofBytes(a, dims);
            }
            default -> throw new UnsupportedOperationException("fromDoubles to " + dtype);
        };
    }

    /** Uniform in [lo, hi), reproducible for a given seed. */
    public static Tensor randomUniform(long seed, DType dtype, Shape shape, double lo, double hi) {
        SeededRandom r = new SeededRandom(seed);
        double[] v = new double[shape.numel()];
        for (int i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return fromDoubles(dtype, shape, v);
    }

    public static Tensor randomUniform(long seed, double lo, double hi, int... dims) {
        return randomUniform(seed, DType.FLOAT32, Shape.of(dims), lo, hi);
    }

    /** Normal(mean, stddev), reproducible for a given seed. */
    public static Tensor randomNormal(long seed, DType dtype, Shape shape, double mean, double stddev) {
        SeededRandom r = new SeededRandom(seed);
        double[] v = new double[shape.numel()];
        for (int i = 0; i < v.length; i++) v[i] = mean + stddev * r.nextGaussian();
        return fromDoubles(dtype, shape, v);
    }

    /** TensorFlow's truncated normal: samples beyond two standard deviations are drawn again. */
    public static Tensor truncatedNormal(long seed, DType dtype, Shape shape, double mean, double stddev) {
        SeededRandom r = new SeededRandom(seed);
        double[] v = new double[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            double g;
            do {
                g = r.nextGaussian();
            } while (Math.abs(g) > 2.0);
            v[i] = mean + stddev * g;
        }
        return fromDoubles(dtype, shape, v);
    }

    // ---- properties -----------------------------------------------------------------------

    public Shape shape() {
        return shape;
    }

    public int[] dims() {
        return shape.dims();
    }

    public int dim(int axis) {
        return shape.dim(axis);
    }

    public int rank() {
        return shape.rank();
    }

    public int numel() {
        return shape.numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    public Storage storage() {
        checkOpen();
        return storage;
    }

    /** Element offset of this tensor's first element in its storage. */
    public int offset() {
        return offset;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Whether another open tensor (a view) holds this one's memory: writing through one changes the other. */
    public boolean sharesStorage() {
        return storage().references() > 1;
    }

    // ---- host access for CPU kernels -----------------------------------------------------

    private Object cpuArray(DType expected) {
        checkOpen();
        if (!(storage instanceof CpuStorage cs)) {
            throw new IllegalStateException("tensor lives on " + device().name() + "; copy it to the CPU first");
        }
        if (dtype() != expected) {
            throw new IllegalStateException("tensor is " + dtype() + ", expected " + expected);
        }
        return cs.array();
    }

    /** The backing array of a CPU float32 tensor; elements start at {@link #offset()}. */
    public float[] floatData() {
        return (float[]) cpuArray(DType.FLOAT32);
    }

    public double[] doubleData() {
        return (double[]) cpuArray(DType.FLOAT64);
    }

    public int[] intData() {
        return (int[]) cpuArray(DType.INT32);
    }

    public long[] longData() {
        return (long[]) cpuArray(DType.INT64);
    }

    public byte[] byteData() {
        return (byte[]) cpuArray(DType.UINT8);
    }

    // ---- copies out -----------------------------------------------------------------------

    public float[] toFloatArray() {
        if (dtype() == DType.FLOAT32) {
            float[] a = new float[numel()];
            device().copyToHost(storage(), offset, a, 0, a.length);
            return a;
        }
        double[] d = toDoubleArray();
        float[] a = new float[d.length];
        for (int i = 0; i < a.length; i++) a[i] = (float) d[i];
        return a;
    }

    /** Copies the elements out, widened to double (uint8 read as unsigned). */
    public double[] toDoubleArray() {
        int n = numel();
        double[] out = new double[n];
        switch (dtype()) {
            case FLOAT32 -> {
                float[] a = toFloatArray();
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case FLOAT64 -> device().copyToHost(storage(), offset, out, 0, n);
            case INT32 -> {
                int[] a = new int[n];
                device().copyToHost(storage(), offset, a, 0, n);
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case INT64 -> {
                long[] a = new long[n];
                device().copyToHost(storage(), offset, a, 0, n);
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case UINT8 -> {
                byte[] a = new byte[n];
                device().copyToHost(storage(), offset, a, 0, n);
                for (int i = 0; i < n; i++) out[i] = a[i] & 0xff;
            }
            default -> throw new UnsupportedOperationException("reading " + dtype() + " elements");
        }
        return out;
    }

    public int[] toIntArray() {
        if (dtype() == DType.INT32) {
            int[] a = new int[numel()];
            device().copyToHost(storage(), offset, a, 0, a.length);
            return a;
        }
        double[] d = toDoubleArray();
        int[] a = new int[d.length];
        for (int i = 0; i < a.length; i++) a[i] = (int) d[i];
        return a;
    }

    public long[] toLongArray() {
        if (dtype() == DType.INT64) {
            long[] a = new long[numel()];
            device().copyToHost(storage(), offset, a, 0, a.length);
            return a;
        }
        double[] d = toDoubleArray();
        long[] a = new long[d.length];
        for (int i = 0; i < a.length; i++) a[i] = (long) d[i];
        return a;
    }

    /** The single element of a one-element tensor, as a double. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() on a tensor of shape " + shape);
        return toDoubleArray()[0];
    }

    // ---- views and copies -----------------------------------------------------------------

    /** A view with a new shape (one entry may be -1); shares memory. */
    public Tensor reshape(int... dims) {
        Shape s = shape.reshape(dims);
        storage().retain();
        return new Tensor(storage, offset, s);
    }

    public Tensor reshape(Shape s) {
        return reshape(s.dims());
    }

    /** A view of rows [start, end) along axis 0 (a batch slice); shares memory. */
    public Tensor slice0(int start, int end) {
        if (rank() == 0) throw new IllegalStateException("cannot slice a scalar");
        if (start < 0 || end > dim(0) || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") of axis 0 with size " + dim(0));
        }
        storage().retain();
        return new Tensor(storage, offset + start * shape.strideOf(0), shape.withDim(0, end - start));
    }

    /** A deep copy on the same device. */
    public Tensor copy() {
        Tensor t = empty(device(), dtype(), shape);
        device().copy(storage(), offset, t.storage, 0, numel());
        return t;
    }

    /** Copies {@code src}'s elements into this tensor (same dtype and element count). */
    public void copyFrom(Tensor src) {
        if (src.dtype() != dtype() || src.numel() != numel()) {
            throw new IllegalArgumentException("copyFrom: " + src.dtype() + src.shape + " into " + dtype() + shape);
        }
        if (src.device() == device()) {
            device().copy(src.storage(), src.offset, storage(), offset, numel());
        } else if (device().copyFromDevice(src.device(), src.storage(), src.offset, storage(), offset, numel())) {
            return;
        } else {
            Tensor host = src.toDevice(CpuDevice.INSTANCE);
            device().copyFromHost(((CpuStorage) host.storage()).array(), host.offset, storage(), offset, numel());
            host.close();
        }
    }

    /** A copy on {@code target}; on the same device this is still a copy, never an alias. */
    public Tensor toDevice(Device target) {
        Tensor t = empty(target, dtype(), shape);
        if (target == device()) {
            device().copy(storage(), offset, t.storage, 0, numel());
        } else if (device() instanceof CpuDevice) {
            target.copyFromHost(((CpuStorage) storage()).array(), offset, t.storage, 0, numel());
        } else if (target instanceof CpuDevice) {
            device().copyToHost(storage(), offset, ((CpuStorage) t.storage).array(), 0, numel());
        } else if (target.copyFromDevice(device(), storage(), offset, t.storage, 0, numel())) {
            return t;
        } else {
            Tensor host = toDevice(CpuDevice.INSTANCE);
            Tensor r = host.toDevice(target);
            host.close();
            t.close();
            return r;
        }
        return t;
    }

    /** A copy converted to {@code target} dtype (on the CPU). */
    public Tensor cast(DType target) {
        if (target == dtype()) return copy();
        return fromDoubles(target, shape, toDoubleArray());
    }

    // ---- lifetime -------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) throw new IllegalStateException("tensor " + shape + " " + storage.dtype() + " used after close()");
    }

    /** Releases this tensor's reference to its memory. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        storage.release();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype().tfName()).append(shape).append(" on ").append(device().name());
        if (closed) return sb.append(", closed)").toString();
        if (numel() <= 64 && dtype() != DType.FLOAT16 && dtype() != DType.BFLOAT16) {
            sb.append(", ");
            appendValues(sb, toDoubleArray(), 0, 0);
        }
        return sb.append(')').toString();
    }

    private int appendValues(StringBuilder sb, double[] v, int axis, int pos) {
        if (axis == rank()) {
            double x = v[pos];
            sb.append(dtype().isFloating() ? String.format("%.6g", x) : Long.toString((long) x));
            return pos + 1;
        }
        sb.append('[');
        for (int i = 0; i < dim(axis); i++) {
            if (i > 0) sb.append(", ");
            pos = appendValues(sb, v, axis + 1, pos);
        }
        sb.append(']');
        return pos;
    }
}
