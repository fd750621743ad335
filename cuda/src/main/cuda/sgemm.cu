// SGEMM (MatMulKernels): C = alpha * op(A) op(B) + beta * C, row-major, op(A) [m, k], op(B) [k, n],
// C [m, n]. A is stored [m, k] (lda >= k) or, when transA, [k, m] (lda >= m); B is stored [k, n]
// (ldb >= n) or, when transB, [n, k] (ldb >= k).
//
// Classic shared-memory tiling: a block of 256 threads computes a 128 x 128 tile of C, walking k in
// steps of 8. Each step the block stages op(A)[128 x 8] and op(B)[8 x 128] in shared memory (4
// elements per thread each, bounds-checked and zero-filled past the edges, loaded along whichever
// stored axis is contiguous so global reads coalesce for every transpose combination); then each
// thread accumulates an 8 x 8 sub-tile in registers: rows ty*4 + {0..3} and 64 + ty*4 + {0..3},
// columns tx*4 + {0..3} and 64 + tx*4 + {0..3} (the two halves keep shared-memory reads of a warp
// on distinct banks or broadcast). Grid: (ceil(n / 128), ceil(m / 128)).
#include "common.cuh"

#define TILE_M 128
#define TILE_N 128
#define TILE_K 8
#define PAD 4  // breaks the bank conflicts of the transposing stores into shared memory

extern "C" __global__ void __launch_bounds__(256) sgemm_f32(int m, int n, int k, int transA, int transB,
                                                            const float* __restrict__ A, int lda,
                                                            const float* __restrict__ B, int ldb,
                                                            float* __restrict__ C, int ldc, float alpha, float beta) {
    __shared__ float As[TILE_K][TILE_M + PAD];  // As[kk][mm] = op(A)[m0 + mm][k0 + kk]
    __shared__ float Bs[TILE_K][TILE_N + PAD];  // Bs[kk][nn] = op(B)[k0 + kk][n0 + nn]
    const int tid = threadIdx.x;
    const int tx = tid % 16;
    const int ty = tid / 16;
    const int m0 = blockIdx.y * TILE_M;
    const int n0 = blockIdx.x * TILE_N;

    float acc[8][8];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        for (int l = 0; l < 4; l++) {
            int e = tid + l * 256;  // 0 .. 1023 over the 128 x 8 tile
            int mm, kk;
            if (transA) {
                kk = e / TILE_M;  // stored [k, m]: consecutive threads walk m
                mm = e % TILE_M;
            } else {
                mm = e / TILE_K;  // stored [m, k]: consecutive threads walk k
                kk = e % TILE_K;
            }
            int gm = m0 + mm, gk = k0 + kk;
            float v = 0.f;
            if (gm < m && gk < k) v = transA ? A[(size_t)gk * lda + gm] : A[(size_t)gm * lda + gk];
            As[kk][mm] = v;

            int nn;
            if (transB) {
                nn = e / TILE_K;  // stored [n, k]: consecutive threads walk k
                kk = e % TILE_K;
            } else {
                kk = e / TILE_N;  // stored [k, n]: consecutive threads walk n
                nn = e % TILE_N;
            }
            int gn = n0 + nn;
            gk = k0 + kk;
            float w = 0.f;
            if (gn < n && gk < k) w = transB ? B[(size_t)gn * ldb + gk] : B[(size_t)gk * ldb + gn];
            Bs[kk][nn] = w;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float a[8], b[8];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = As[kk][ty * 4 + i];
                a[i + 4] = As[kk][64 + ty * 4 + i];
                b[i] = Bs[kk][tx * 4 + i];
                b[i + 4] = Bs[kk][64 + tx * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();  // the next step overwrites the tiles
    }

    for (int i = 0; i < 8; i++) {
        int row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
        if (row >= m) continue;
        for (int j = 0; j < 8; j++) {
            int col = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
            if (col >= n) continue;
            float* c = C + (size_t)row * ldc + col;
            *c = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
        }
    }
}
