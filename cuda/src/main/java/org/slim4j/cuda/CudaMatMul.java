package org.slim4j.cuda;

import org.slim4j.kernels.MatMulKernels;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's MatMul on the GPU with the hand-written tiled SGEMM of sgemm.cu (128 x 128 tiles,
 * 256 threads, 8 x 8 outputs per thread); row-major, transposes handled by the kernel's loads.
 * With {@code --precision=tf32}, {@code bf16} or {@code fp16} the product runs on tensor cores through
 * the convolutions' implicit GEMM ({@link CudaConv#matmulTensorCores}), operands rounded to that
 * precision and sums in float.
 */
final class CudaMatMul implements MatMulKernels {
    private static final int TILE = 128;

    private final CudaOps ops;
    private final CudaConv conv;

    CudaMatMul(CudaOps ops) {
        this.ops = ops;
        this.conv = new CudaConv(ops);
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        ops.checkF32("matmul", "a", a);
        ops.checkF32("matmul", "b", b);
        if (a.rank() != 2 || b.rank() != 2) {
            throw new IllegalArgumentException("matmul: operands must be 2-D (a " + a.shape() + ", b " + b.shape() + ")");
        }
        int m = transposeA ? a.dim(1) : a.dim(0);
        int k = transposeA ? a.dim(0) : a.dim(1);
        int kb = transposeB ? b.dim(1) : b.dim(0);
        int n = transposeB ? b.dim(0) : b.dim(1);
        if (k != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ, op(a) is " + m + "x" + k + " but op(b) is "
                    + kb + "x" + n + " (a " + a.shape() + (transposeA ? " transposed" : "") + ", b " + b.shape()
                    + (transposeB ? " transposed" : "") + ")");
        }
        CudaOptions.Precision precision = conv.precision();
        Tensor out = ops.out(Shape.of(m, n));
        if (m == 0 || n == 0) return out;
        if (precision != CudaOptions.Precision.FP32) {
            conv.matmulTensorCores(precision, m, n, k, transposeA, transposeB, a, b, out);
            return out;
        }
        gemm(m, n, k, transposeA, transposeB, a, b, out, 1f, 0f);
        return out;
    }

    /** c = alpha * op(a) op(b) + beta * c with row-major leading dimensions from the tensors' shapes. */
    void gemm(int m, int n, int k, boolean transA, boolean transB, Tensor a, Tensor b, Tensor c, float alpha, float beta) {
        int gridX = (n + TILE - 1) / TILE;
        int gridY = (m + TILE - 1) / TILE;
        if (gridY > 65535) throw new IllegalArgumentException("matmul: " + m + " rows exceed the kernel's grid (at most " + 65535 * TILE + ")");
        ops.launch("sgemm", "sgemm_f32", gridX, gridY, 256, new KernelArgs().i32(m).i32(n).i32(k).i32(transA).i32(transB)
                .ptr(CudaOps.ptr(a)).i32(a.dim(1)).ptr(CudaOps.ptr(b)).i32(b.dim(1)).ptr(CudaOps.ptr(c)).i32(n).f32(alpha).f32(beta));
    }
}
