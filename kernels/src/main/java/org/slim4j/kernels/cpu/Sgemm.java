package org.slim4j.kernels.cpu;

/**
 * Single-precision GEMM on row-major arrays: C = alpha * op(A) * op(B) + beta * C, where op(A) is
 * M x K and op(B) is K x N. lda/ldb/ldc are row strides of the stored (untransposed) matrices.
 * The shared entry point for matmul and convolution.
 */
public final class Sgemm {
    private Sgemm() {
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        // Placeholder plain loop until the blocked kernel lands.
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = alpha * s + (beta == 0 ? 0 : beta * c[ci]);
            }
        }
    }
}
