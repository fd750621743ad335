package org.slim4j.kernels.cpu;

import org.slim4j.kernels.MatMulKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's MatMul on 2-D row-major tensors: product = op(a) x op(b), with a stored [M, K]
 * (or [K, M] when transposeA) and b stored [K, N] (or [N, K] when transposeB); the result is
 * [M, N]. float32 goes through the blocked {@link Sgemm}; float64 is a plain triple loop that
 * serves as the reference. The backward pass needs no kernel of its own: dA = dC x op(B)^T and
 * dB = op(A)^T x dC are matmuls with other transpose flags.
 */
public final class MatMulCpu implements MatMulKernels {
    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        if (a.rank() != 2 || b.rank() != 2) {
            throw new IllegalArgumentException("matmul: operands must be 2-D (a " + a.shape() + ", b " + b.shape() + ")");
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("matmul: mixed dtypes " + a.dtype() + " and " + b.dtype()
                    + " (a " + a.shape() + ", b " + b.shape() + ")");
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
        DType dt = a.dtype();
        Shape outShape = Shape.of(m, n);
        switch (dt) {
            case FLOAT32 -> {
                Tensor out = Tensor.empty(DType.FLOAT32, outShape);
                if (swapOperands(m, n, k, transposeB)) {
                    // C^T = op(B)^T x op(A)^T into scratch, then transposed into C: same sums in the same order.
                    float[] ct = scratch(m * n);
                    Sgemm.gemm(!transposeB, !transposeA, n, m, k, 1f, b.floatData(), b.offset(), b.dim(1),
                            a.floatData(), a.offset(), a.dim(1), 0f, ct, 0, m);
                    transpose(ct, n, m, out.floatData(), out.offset());
                } else {
                    Sgemm.gemm(transposeA, transposeB, m, n, k, 1f, a.floatData(), a.offset(), a.dim(1),
                            b.floatData(), b.offset(), b.dim(1), 0f, out.floatData(), out.offset(), n);
                }
                return out;
            }
            case FLOAT64 -> {
                Tensor out = Tensor.empty(DType.FLOAT64, outShape);
                matmul64(a.doubleData(), a.offset(), a.dim(1), transposeA, b.doubleData(), b.offset(), b.dim(1), transposeB,
                        out.doubleData(), out.offset(), m, n, k);
                return out;
            }
            default -> throw new IllegalArgumentException("matmul: unsupported dtype " + dt + " (a " + a.shape() + ", b " + b.shape() + ")");
        }
    }

    /** Per-thread C^T buffer of the swapped product. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(int size) {
        return ThreadBuffers.floats(SCRATCH, size);
    }

    /**
     * Whether to multiply C^T = op(B)^T op(A)^T instead: for few rows (a fully-connected layer on a
     * small batch) and a big op(B) (the weights). Sgemm packs all of its B operand into one buffer
     * that goes out to memory and is read back, but its A operand one L2-sized block at a time; with
     * the weights on the A side they are packed block by block and used while in L2, and only the
     * small activations are packed whole. Measured (A/B in one JVM, best of 21): [64 x 3136] x
     * [3136 x 1024] (LeNet's fc3 forward) 18.4 -> 11.7 ms on one thread, 15.8 -> 9.1 ms on two;
     * [8 x 2048] x [2048 x 1000] 8.5 -> 3.4 ms. For a transposed B (the input gradient dC x W^T)
     * the swapped product has W itself, untransposed, as A, which Sgemm reads in place when the
     * batch is at most 128 columns ({@link Sgemm#rowMajorA}): LeNet's [64 x 1024] x [1024 x 3136]
     * then took 8.3 / 7.0 ms instead of 10.9 / 9.3 (best of 30, one thread, alternated JVMs). Not
     * taken at 256 rows and more, for a small op(B), or for one too big to pass through the caches
     * a block at a time ({@link #SWAP_MAX_B}): packing the transposed weights then walks a new
     * cache line for every five values ([4 x 25088] x [25088 x 4096], VGG's fc6 as a matmul at
     * batch 4: 420 ms swapped, 63 ms streamed once by Sgemm's skinny path; medians, two threads).
     *
     * <p>Since Sgemm packs an untransposed B group by group inside its tasks when M is short
     * ({@link Sgemm#multiplyByPanelGroups}), the swap is only kept where that path does not apply:
     * an untransposed B with more rows than {@link Sgemm#SHORT_M}, and a transposed B up to 64 rows.
     * Alternated in one JVM (best of 8, two threads, a slow hour): [64 x 3136] x [3136 x 1024] 5.5 /
     * 6.0 ms unswapped against 7.3 / 8.1 swapped, [100 x 1024] x [1024 x 1024] 2.4 / 2.6 against
     * 2.9 / 3.6; with a transposed B, [64 x 1024] x [1024 x 3136] 7.9 / 7.4 unswapped against 5.8 /
     * 4.7 swapped, but [128 x 384] x [384 x 2304] 2.3 / 2.8 against 3.0 / 3.7.
     */
    static boolean swapOperands(int m, int n, int k, boolean transposeB) {
        long b = (long) k * n;
        boolean shortEnough = transposeB ? m <= 64 : m > Sgemm.SHORT_M && m <= 128;
        return m >= 3 && shortEnough && n >= 2 * m && b >= 1 << 18 && b <= SWAP_MAX_B;
    }

    /** Largest op(B), in floats (64 MB), for which {@link #swapOperands} swaps. */
    static final long SWAP_MAX_B = 1L << 24;

    /** dst[j * rows + i] = src[i * cols + j] for a rows x cols src, in 32 x 32 tiles (both sides stay in L1). */
    private static void transpose(float[] src, int rows, int cols, float[] dst, int dstOff) {
        final int t = 32;
        for (int i0 = 0; i0 < rows; i0 += t) {
            int i1 = Math.min(rows, i0 + t);
            for (int j0 = 0; j0 < cols; j0 += t) {
                int j1 = Math.min(cols, j0 + t);
                for (int j = j0; j < j1; j++) {
                    int d = dstOff + j * rows;
                    for (int i = i0; i < i1; i++) dst[d + i] = src[i * cols + j];
                }
            }
        }
    }

    /** Reference: every C entry is one straightforward dot product in double. */
    private static void matmul64(double[] a, int ao, int lda, boolean ta, double[] b, int bo, int ldb, boolean tb,
                                 double[] c, int co, int m, int n, int k) {
        int grain = (int) Math.max(1, 65536 / Math.max(1L, (long) n * k));
        Parallel.forRange(m, grain, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[ao + p * lda + i] : a[ao + i * lda + p];
                        double bv = tb ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
                        s += av * bv;
                    }
                    c[co + i * n + j] = s;
                }
            }
        });
    }
}
