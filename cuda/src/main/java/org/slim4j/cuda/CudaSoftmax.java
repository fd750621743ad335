package org.slim4j.cuda;

import java.util.Arrays;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Softmax, log-softmax and the softmax cross entropies on the GPU (softmax.cu): one warp per row
 * of C classes (the last axis), four rows per 128-thread block. Sparse labels are checked on the
 * device: a label outside [0, C) is recorded by the kernel and reported here with the same message
 * as the CPU backend (this reads 4 bytes back, so the call waits for the kernel).
 */
final class CudaSoftmax implements SoftmaxKernels {
    private static final String MODULE = "softmax";
    private static final int THREADS = 128;

    private final CudaOps ops;

    CudaSoftmax(CudaOps ops) {
        this.ops = ops;
    }

    @Override
    public Tensor softmax(Tensor logits) {
        return plain("softmax", logits, false);
    }

    @Override
    public Tensor logSoftmax(Tensor logits) {
        return plain("logSoftmax", logits, true);
    }

    private Tensor plain(String op, Tensor logits, boolean log) {
        int c = classes(op, logits);
        Tensor out = ops.out(logits.shape());
        if (c == 0 || logits.numel() == 0) return out;
        int rows = logits.numel() / c;
        ops.launch(MODULE, "softmax_f32", grid(rows), 1, THREADS, new KernelArgs().i32(rows).i32(c).ptr(CudaOps.ptr(out))
                .ptr(CudaOps.ptr(logits)).i32(log));
        return out;
    }

    @Override
    public CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels) {
        String op = "softmaxCrossEntropy";
        int c = classes(op, logits);
        ops.checkDevice(op, "labels", labels);
        if (labels.dtype() != logits.dtype()) {
            throw new IllegalArgumentException(op + ": labels dtype " + labels.dtype() + " != logits dtype " + logits.dtype());
        }
        if (!labels.shape().equals(logits.shape())) {
            throw new IllegalArgumentException(op + ": labels shape " + labels.shape() + " != logits shape " + logits.shape());
        }
        Tensor loss = ops.out(leadingShape(logits));
        Tensor backprop = ops.out(logits.shape());
        int rows = loss.numel();
        if (rows > 0) {
            if (c == 0) {
                ops.launch1d("elementwise", "fill_f32", rows, new KernelArgs().i32(rows).ptr(CudaOps.ptr(loss)).f32(0));
            } else {
                ops.launch(MODULE, "softmax_xent_f32", grid(rows), 1, THREADS, new KernelArgs().i32(rows).i32(c)
                        .ptr(CudaOps.ptr(loss)).ptr(CudaOps.ptr(backprop)).ptr(CudaOps.ptr(logits)).ptr(CudaOps.ptr(labels)));
            }
        }
        return new CrossEntropy(loss, backprop);
    }

    @Override
    public CrossEntropy sparseSoftmaxCrossEntropy(Tensor logits, Tensor labels) {
        String op = "sparseSoftmaxCrossEntropy";
        int c = classes(op, logits);
        ops.checkDevice(op, "labels", labels);
        if (labels.dtype() != DType.INT32 && labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": labels must be int32 or int64, got " + labels.dtype());
        }
        Shape lead = leadingShape(logits);
        if (!labels.shape().equals(lead)) {
            throw new IllegalArgumentException(op + ": labels shape " + labels.shape() + " must be the logits shape without its last axis "
                    + lead + " (logits " + logits.shape() + ")");
        }
        int rows = lead.numel();
        Tensor loss = ops.out(lead);
        Tensor backprop = ops.out(logits.shape());
        if (rows == 0) return new CrossEntropy(loss, backprop);
        int badRow;
        try (Tensor bad = ops.device.empty(DType.INT32, Shape.of(1))) {
            ops.device.memset32(CudaOps.ptr(bad), Integer.MAX_VALUE, 1);
            String kernel = labels.dtype() == DType.INT32 ? "sparse_xent_i32_f32" : "sparse_xent_i64_f32";
            ops.launch(MODULE, kernel, grid(rows), 1, THREADS, new KernelArgs().i32(rows).i32(c).ptr(CudaOps.ptr(loss))
                    .ptr(CudaOps.ptr(backprop)).ptr(CudaOps.ptr(logits)).ptr(CudaOps.ptr(labels)).ptr(CudaOps.ptr(bad)));
            badRow = bad.toIntArray()[0];
        }
        if (badRow != Integer.MAX_VALUE) {
            loss.close();
            backprop.close();
            long label;
            try (Tensor one = labels.reshape(rows).slice0(badRow, badRow + 1)) {
                label = one.toLongArray()[0];
            }
            throw new IllegalArgumentException(op + ": label " + label + " of row " + badRow + " is out of range [0, " + c + ")");
        }
        return new CrossEntropy(loss, backprop);
    }

    private static int grid(int rows) {
        int rowsPerBlock = THREADS / 32;
        return Math.max(1, Math.min(CudaOps.MAX_BLOCKS, (rows + rowsPerBlock - 1) / rowsPerBlock));
    }

    /** Validates device, dtype and rank; returns the number of classes (size of the last axis). */
    private int classes(String op, Tensor logits) {
        ops.checkF32(op, "logits", logits);
        if (logits.rank() < 1) {
            throw new IllegalArgumentException(op + ": logits must have rank >= 1 (last axis = classes), got shape " + logits.shape());
        }
        return logits.dim(-1);
    }

    private static Shape leadingShape(Tensor t) {
        return Shape.of(Arrays.copyOf(t.dims(), t.rank() - 1));
    }
}
