package org.slim4j.cuda;

import org.slim4j.kernels.DropoutKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Dropout masks on the GPU (dropout.cu): element i is 1/keepProb when word i % 4 of
 * Philox4x32-10(counter {i / 4, 0, 0, 0}, key {seed low, seed high}) is below keepProb * 2^32,
 * else 0. The mask is a function of (seed, shape) only: reproducible, and the same whatever the
 * launch geometry. It is not the CPU backend's mask (that one comes from SplitMix64), only
 * distributed alike.
 */
final class CudaDropout implements DropoutKernels {
    private static final String MODULE = "dropout";

    private final CudaOps ops;

    CudaDropout(CudaOps ops) {
        this.ops = ops;
    }

    @Override
    public Tensor mask(Shape shape, DType dtype, double keepProb, long seed) {
        if (shape == null) throw new IllegalArgumentException("dropout mask: shape is null");
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
            throw new IllegalArgumentException("dropout mask: unsupported dtype " + dtype + " (float32 or float64 only), shape " + shape);
        }
        if (!(keepProb > 0 && keepProb <= 1)) {
            throw new IllegalArgumentException("dropout mask: keepProb must be in (0, 1], got " + keepProb + " (shape " + shape + ")");
        }
        Tensor out = ops.device.empty(dtype, shape);
        int n = shape.numel();
        long threshold = threshold(keepProb);
        KernelArgs args = new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).i64(seed).i64(threshold);
        if (dtype == DType.FLOAT32) {
            ops.launch1d(MODULE, "dropout_mask_f32", (n + 3L) / 4, args.f32((float) (1.0 / keepProb)));
        } else {
            ops.launch1d(MODULE, "dropout_mask_f64", (n + 3L) / 4, args.f64(1.0 / keepProb));
        }
        return out;
    }

    /** floor(keepProb * 2^32): a 32-bit draw u keeps its element when u < threshold (2^32 for keepProb 1). */
    static long threshold(double keepProb) {
        return keepProb >= 1 ? 1L << 32 : (long) Math.floor(keepProb * 4294967296.0);
    }

    /**
     * Philox4x32-10 on the device, row by row: each row of {@code rows} is {c0, c1, c2, c3, k0, k1}
     * (counter, key); the result holds the four output words of each row.
     */
    int[][] philox(int[][] rows) {
        int[] io = new int[6 * rows.length];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != 6) throw new IllegalArgumentException("philox: row " + i + " has " + rows[i].length + " words, not 6");
            System.arraycopy(rows[i], 0, io, 6 * i, 6);
        }
        int[][] out = new int[rows.length][4];
        if (rows.length == 0) return out;
        try (Tensor host = Tensor.of(io, io.length); Tensor dev = host.toDevice(ops.device)) {
            ops.launch1d(MODULE, "philox4x32_10_rows", rows.length, new KernelArgs().i32(rows.length).ptr(CudaOps.ptr(dev)));
            int[] back = dev.toIntArray();
            for (int i = 0; i < rows.length; i++) System.arraycopy(back, 6 * i, out[i], 0, 4);
        }
        return out;
    }
}
