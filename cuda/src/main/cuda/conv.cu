// 2-D convolution as implicit GEMM (ConvKernels, FusedConvKernels) and the TF32 tensor-core GEMM
// of MatMulKernels. NHWC activations, HWIO filters [kh, kw, Cin, Cout], float32 storage.
//
// Every kernel computes C[M, N] = A[M, K] x B[K, N] (C row-major, ld N). A is gathered on the fly
// (zero where a tap falls in the padding), B is a row-major matrix with rows of N (backward input:
// the rows of the phase's taps):
//   MODE_FWD   forward:          M = N*OH*OW pixels, N = Cout, K = KH*KW*Cin (taps in HWI order);
//              A[p, (ky,kx,ci)] = x[b, oh*sh - padT + ky*dh, ow*sw - padL + kx*dw, ci]; B = the filter.
//   MODE_BWDI  backward input, one launch per stride phase (py, px) in [0,sh) x [0,sw): the input
//              pixels ih = py + i*sh, iw = px + j*sw (M = N*hp*wp of them), N = Cin, and only the taps
//              that reach them, ky = ky0 + t*kyStep (nky of them; likewise kx), K = nky*nkx*Cout;
//              A[(b,ih,iw), (ky,kx,co)] = dy[b, oh, ow, co] with ih + padT - ky*dh == oh*sh;
//              B[(ky,kx,co), ci] = the filter with in/out swapped (conv_swap_io). Stride 1: one phase.
//              C rows are scattered (input pixels of the phase); a phase without taps writes zeros.
//   MODE_BWDF  backward filter:  M = KH*KW*Cin, N = Cout, K = N*OH*OW output pixels;
//              A[(ky,kx,ci), p] = the forward A transposed; B = dy [pixels, Cout]. K is split over
//              blocks (split-K): each split writes its partial tile to a workspace slab and
//              conv_splitk_reduce sums the slabs in a fixed order (no atomics: reproducible).
//
// A block of 256 threads owns a 128 x BN tile (BN 64 or 128) and walks its K range in steps of 16
// through double-buffered shared memory: the next step's global loads are issued into registers
// before the current step's products, then stored to the other buffer (one barrier per step).
// Loads are float4 when the gathered channel axis and N are multiples of 4 (flags vecA / vecB).
// Shared layout: As[k][m] (A transposed, so both products read contiguous rows), Bs[k][n].
//   FP32:  thread (tx = tid%16, ty = tid/16) accumulates rows ty*4+{0..3}, 64+ty*4+{0..3} and
//          columns j*64 + tx*4 + {0..3} (j < BN/64) with FMAs.
//   TF32:  8 warps, each a 64x32 (BN 128) or 32x32 (BN 64) sub-tile of WMMA m16n16k8 float
//          accumulators; operands are rounded to tf32 (cvt.rna) once, when stored to shared memory.
// The epilogue applies out = act(acc * scale[n] + shift[n]) (null scale = 1, null shift = 0; act 0
// none, 1 relu, 2 relu6): the fused inference convolution; the plain ops pass nulls and act 0.
// Grid: x = ceil(M / 128), y = ceil(N / BN) * splits (split = blockIdx.y / column tiles).
#include <mma.h>

#include "common.cuh"
#include "conv_geom.cuh"

#define CONV_BM 128
#define CONV_BK 16
// Row padding of the shared tiles, in floats: 4 keeps the FP32 path's float4 rows aligned; 8 makes
// the TF32 fragment loads (lanes 4 rows x 8 columns apart) hit 32 distinct banks.
#define CONV_PAD_F32 4
#define CONV_PAD_TF32 8
#define CONV_THREADS 256
__device__ __forceinline__ float4 conv_ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }

__device__ __forceinline__ float conv_round(float v, bool tf32) {
    return tf32 ? nvcuda::wmma::__float_to_tf32(v) : v;
}

template <int MODE, bool TF32, int BN>
__device__ __forceinline__ void conv_gemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                          const float* __restrict__ scale, const float* __restrict__ shift, const ConvGeom& g,
                                          const ConvPhase& ph) {
    constexpr int BM = CONV_BM, BK = CONV_BK;
    constexpr int BLOADS = BK * BN / 4 / CONV_THREADS;  // float4 loads of B per thread per step
    constexpr int PAD = TF32 ? CONV_PAD_TF32 : CONV_PAD_F32;
    __shared__ __align__(32) float As[2][BK][BM + PAD];
    __shared__ __align__(32) float Bs[2][BK][BN + PAD];

    const int tid = threadIdx.x;
    const ConvTile tile = conv_tile(g, BM, BN);
    const int split = tile.split, m0 = tile.m0, n0 = tile.n0, kBegin = tile.kBegin, kEnd = tile.kEnd;
    // Gathered channels of a tap: Cin forward, Cout backward-input.
    const int chans = MODE == MODE_BWDI ? g.cout : g.c;

    // ---- per-thread gather state, fixed for the whole K loop ----
    // Row gather (FWD, BWDI): rows tid/4 and tid/4 + 64, k quad tid%4 of each step.
    int rbase[2], ry0[2], rx0[2];
    // Column gather (BWDF): rows 4*(tid%32) + {0..3}, k offsets tid/32 and tid/32 + 8.
    int cci[4], cy0[4], cx0[4];
    if (MODE != MODE_BWDF) {
        for (int i = 0; i < 2; i++) {
            int m = m0 + (tid >> 2) + i * 64;
            rbase[i] = 0;
            ry0[i] = CONV_OFF_ROW;
            rx0[i] = CONV_OFF_ROW;
            if (m < g.M) {
                int outW = MODE == MODE_FWD ? g.ow : ph.wp, outH = MODE == MODE_FWD ? g.oh : ph.hp;
                int px = m % outW, t = m / outW, py = t % outH, b = t / outH;
                if (MODE == MODE_FWD) {
                    rbase[i] = b * g.h * g.w * g.c;
                    ry0[i] = py * g.sh - g.padT;
                    rx0[i] = px * g.sw - g.padL;
                } else {
                    rbase[i] = b * g.oh * g.ow * g.cout;
                    ry0[i] = ph.py + py * g.sh + g.padT;
                    rx0[i] = ph.px + px * g.sw + g.padL;
                }
            }
        }
    } else {
        for (int j = 0; j < 4; j++) {
            int m = m0 + 4 * (tid & 31) + j;
            cci[j] = 0;
            cy0[j] = CONV_OFF_ROW;
            cx0[j] = CONV_OFF_ROW;
            if (m < g.M) {
                int t = m / g.c, kx = t % g.kw, ky = t / g.kw;
                cci[j] = m % g.c;
                cy0[j] = ky * g.dh - g.padT;
                cx0[j] = kx * g.dw - g.padL;
            }
        }
    }

    float ra[8], rb[4 * BLOADS];  // the next step's tiles, in flight

    auto loadA = [&](int k0) {
        for (int i = 0; i < 8; i++) ra[i] = 0.f;
        if (MODE != MODE_BWDF) {
            int kq = k0 + 4 * (tid & 3);
            if (g.vecA) {
                if (kq < kEnd) {
                    int ci = kq % chans, ky, kx;
                    conv_taps<MODE>(g, ph, kq / chans, ky, kx);
                    for (int i = 0; i < 2; i++) {
                        int off = conv_tap<MODE>(g, rbase[i], ry0[i], rx0[i], ky, kx);
                        if (off >= 0) {
                            float4 v = conv_ld4(A + off + ci);
                            ra[i * 4 + 0] = v.x;
                            ra[i * 4 + 1] = v.y;
                            ra[i * 4 + 2] = v.z;
                            ra[i * 4 + 3] = v.w;
                        }
                    }
                }
            } else {
                for (int j = 0; j < 4; j++) {
                    int k = kq + j;
                    if (k >= kEnd) break;
                    int ci = k % chans, ky, kx;
                    conv_taps<MODE>(g, ph, k / chans, ky, kx);
                    for (int i = 0; i < 2; i++) {
                        int off = conv_tap<MODE>(g, rbase[i], ry0[i], rx0[i], ky, kx);
                        if (off >= 0) ra[i * 4 + j] = A[off + ci];
                    }
                }
            }
        } else {
            for (int r = 0; r < 2; r++) {
                int p = k0 + (tid >> 5) + r * 8;
                if (p >= kEnd) continue;
                int ox = p % g.ow, t = p / g.ow, oy = t % g.oh, b = t / g.oh;
                int img = b * g.h * g.w * g.c;
                int ybase = oy * g.sh, xbase = ox * g.sw;
                if (g.vecA) {
                    int iy = ybase + cy0[0], ix = xbase + cx0[0];
                    if ((unsigned)iy < (unsigned)g.h && (unsigned)ix < (unsigned)g.w) {
                        float4 v = conv_ld4(A + img + (iy * g.w + ix) * g.c + cci[0]);
                        ra[r * 4 + 0] = v.x;
                        ra[r * 4 + 1] = v.y;
                        ra[r * 4 + 2] = v.z;
                        ra[r * 4 + 3] = v.w;
                    }
                } else {
                    for (int j = 0; j < 4; j++) {
                        int iy = ybase + cy0[j], ix = xbase + cx0[j];
                        if ((unsigned)iy < (unsigned)g.h && (unsigned)ix < (unsigned)g.w) {
                            ra[r * 4 + j] = A[img + (iy * g.w + ix) * g.c + cci[j]];
                        }
                    }
                }
            }
        }
    };
    auto loadB = [&](int k0) {
        for (int l = 0; l < BLOADS; l++) {
            int e = tid + l * CONV_THREADS;
            int k = k0 + e / (BN / 4), n = n0 + 4 * (e % (BN / 4));
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (k < kEnd) {
                int brow = k;  // backward-input: row (ky*kw + kx)*Cout + co of the swapped filter
                if (MODE == MODE_BWDI) {
                    int ky, kx;
                    conv_taps<MODE>(g, ph, k / g.cout, ky, kx);
                    brow = (ky * g.kw + kx) * g.cout + k % g.cout;
                }
                const float* row = B + (size_t)brow * g.N;
                if (g.vecB) {
                    if (n < g.N) v = conv_ld4(row + n);
                } else {
                    if (n < g.N) v.x = row[n];
                    if (n + 1 < g.N) v.y = row[n + 1];
                    if (n + 2 < g.N) v.z = row[n + 2];
                    if (n + 3 < g.N) v.w = row[n + 3];
                }
            }
            rb[l * 4 + 0] = v.x;
            rb[l * 4 + 1] = v.y;
            rb[l * 4 + 2] = v.z;
            rb[l * 4 + 3] = v.w;
        }
    };
    auto store = [&](int buf) {
        if (MODE != MODE_BWDF) {
            int q = tid & 3;
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 4; j++) As[buf][4 * q + j][(tid >> 2) + i * 64] = conv_round(ra[i * 4 + j], TF32);
        } else {
            for (int r = 0; r < 2; r++) {
                float4 v = make_float4(conv_round(ra[r * 4], TF32), conv_round(ra[r * 4 + 1], TF32), conv_round(ra[r * 4 + 2], TF32),
                                       conv_round(ra[r * 4 + 3], TF32));
                *reinterpret_cast<float4*>(&As[buf][(tid >> 5) + r * 8][4 * (tid & 31)]) = v;
            }
        }
        for (int l = 0; l < BLOADS; l++) {
            int e = tid + l * CONV_THREADS;
            float4 v = make_float4(conv_round(rb[l * 4], TF32), conv_round(rb[l * 4 + 1], TF32), conv_round(rb[l * 4 + 2], TF32),
                                   conv_round(rb[l * 4 + 3], TF32));
            *reinterpret_cast<float4*>(&Bs[buf][e / (BN / 4)][4 * (e % (BN / 4))]) = v;
        }
    };
    // out = act(v * scale[n] + shift[n]) at C[split][m][n] (conv_c_row, conv_finish).
    float* Cs = C + (size_t)split * g.M * g.N;

    if (kBegin < kEnd) {
        loadA(kBegin);
        loadB(kBegin);
        store(0);
    }
    __syncthreads();

    if constexpr (!TF32) {
        constexpr int TN = BN / 16;
        const int tx = tid & 15, ty = tid >> 4;
        float acc[8][TN];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < TN; j++) acc[i][j] = 0.f;
        int buf = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
            bool more = k0 + BK < kEnd;
            if (more) {
                loadA(k0 + BK);
                loadB(k0 + BK);
            }
#pragma unroll
            for (int kk = 0; kk < BK; kk++) {
                float a[8], b[TN];
                float4 a0 = conv_ld4(&As[buf][kk][ty * 4]), a1 = conv_ld4(&As[buf][kk][64 + ty * 4]);
                a[0] = a0.x, a[1] = a0.y, a[2] = a0.z, a[3] = a0.w;
                a[4] = a1.x, a[5] = a1.y, a[6] = a1.z, a[7] = a1.w;
#pragma unroll
                for (int j = 0; j < TN / 4; j++) {
                    float4 bv = conv_ld4(&Bs[buf][kk][j * 64 + tx * 4]);
                    b[j * 4] = bv.x, b[j * 4 + 1] = bv.y, b[j * 4 + 2] = bv.z, b[j * 4 + 3] = bv.w;
                }
#pragma unroll
                for (int i = 0; i < 8; i++)
#pragma unroll
                    for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
            if (more) store(buf ^ 1);
            __syncthreads();
            buf ^= 1;
        }
        for (int i = 0; i < 8; i++) {
            int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
            if (m >= g.M) continue;
            float* row = conv_c_row<MODE>(Cs, g, ph, m);
            for (int j = 0; j < TN / 4; j++) {
                int n = n0 + j * 64 + tx * 4;
                if (g.vecC && n < g.N) {
                    *reinterpret_cast<float4*>(row + n) =
                        make_float4(conv_finish(acc[i][j * 4], n, scale, shift, g.act), conv_finish(acc[i][j * 4 + 1], n + 1, scale, shift, g.act),
                                    conv_finish(acc[i][j * 4 + 2], n + 2, scale, shift, g.act), conv_finish(acc[i][j * 4 + 3], n + 3, scale, shift, g.act));
                } else {
                    for (int jj = 0; jj < 4; jj++)
                        if (n + jj < g.N) row[n + jj] = conv_finish(acc[i][j * 4 + jj], n + jj, scale, shift, g.act);
                }
            }
        }
    } else {
        using namespace nvcuda;
        constexpr int WARPS_N = BN / 32, WARPS_M = 8 / WARPS_N, WM = BM / WARPS_M, FM = WM / 16;
        constexpr int CLD = 20;  // leading dimension of a warp's 16x16 staging tile
        __shared__ __align__(32) float Cstage[8][16 * CLD];
        const int warp = tid >> 5, lane = tid & 31;
        const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * 32;
        wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[FM][2];
#pragma unroll
        for (int i = 0; i < FM; i++)
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);
        int buf = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
            bool more = k0 + BK < kEnd;
            if (more) {
                loadA(k0 + BK);
                loadB(k0 + BK);
            }
#pragma unroll
            for (int kk = 0; kk < BK; kk += 8) {
                wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> af[FM];
                wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> bf[2];
#pragma unroll
                for (int i = 0; i < FM; i++) wmma::load_matrix_sync(af[i], &As[buf][kk][wm0 + i * 16], BM + PAD);
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::load_matrix_sync(bf[j], &Bs[buf][kk][wn0 + j * 16], BN + PAD);
#pragma unroll
                for (int i = 0; i < FM; i++)
#pragma unroll
                    for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], af[i], bf[j], acc[i][j]);
            }
            if (more) store(buf ^ 1);
            __syncthreads();
            buf ^= 1;
        }
        float* stage = Cstage[warp];
#pragma unroll
        for (int i = 0; i < FM; i++) {
#pragma unroll
            for (int j = 0; j < 2; j++) {
                wmma::store_matrix_sync(stage, acc[i][j], CLD, wmma::mem_row_major);
                __syncwarp();
                int m = m0 + wm0 + i * 16 + (lane >> 1);
                int nb = n0 + wn0 + j * 16 + (lane & 1) * 8;
                if (m < g.M) {
                    float* row = conv_c_row<MODE>(Cs, g, ph, m);
                    const float* src = stage + (lane >> 1) * CLD + (lane & 1) * 8;
                    for (int c = 0; c < 8; c++)
                        if (nb + c < g.N) row[nb + c] = conv_finish(src[c], nb + c, scale, shift, g.act);
                }
                __syncwarp();  // the next store_matrix_sync overwrites the staging tile
            }
        }
    }
}

// The entry points: mode x precision x column tile. (Written out: the emulator and PtxFreshnessTest find
// kernels by their extern "C" __global__ declarations.) Two blocks per SM (at most 128 registers) where
// that costs no spills; the others need up to 182 registers and run one block of 8 warps per SM.
#define CONV_PARAMS                                                                                                     \
    const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, const float* __restrict__ scale, \
        const float* __restrict__ shift, ConvGeom g, ConvPhase ph
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_fwd_f32_n64(CONV_PARAMS) { conv_gemm<MODE_FWD, false, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_fwd_f32_n128(CONV_PARAMS) { conv_gemm<MODE_FWD, false, 128>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_fwd_tf32_n64(CONV_PARAMS) { conv_gemm<MODE_FWD, true, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS) conv_fwd_tf32_n128(CONV_PARAMS) { conv_gemm<MODE_FWD, true, 128>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_bwdi_f32_n64(CONV_PARAMS) { conv_gemm<MODE_BWDI, false, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_bwdi_f32_n128(CONV_PARAMS) { conv_gemm<MODE_BWDI, false, 128>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_bwdi_tf32_n64(CONV_PARAMS) { conv_gemm<MODE_BWDI, true, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS) conv_bwdi_tf32_n128(CONV_PARAMS) { conv_gemm<MODE_BWDI, true, 128>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_bwdf_f32_n64(CONV_PARAMS) { conv_gemm<MODE_BWDF, false, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS) conv_bwdf_f32_n128(CONV_PARAMS) { conv_gemm<MODE_BWDF, false, 128>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS, 2) conv_bwdf_tf32_n64(CONV_PARAMS) { conv_gemm<MODE_BWDF, true, 64>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(CONV_THREADS) conv_bwdf_tf32_n128(CONV_PARAMS) { conv_gemm<MODE_BWDF, true, 128>(A, B, C, scale, shift, g, ph); }

// out[i] = sum over s = 0..splits-1 (in that order) of ws[s * mn + i]: the split-K reduction.
extern "C" __global__ void conv_splitk_reduce(const float* __restrict__ ws, float* __restrict__ out, int mn, int splits) {
    GRID_STRIDE_LOOP(i, mn) {
        float s = 0.f;
        for (int z = 0; z < splits; z++) s += ws[(size_t)z * mn + i];
        out[i] = s;
    }
}

// Batched transpose: out[t][j][i] = in[t][i][j] for in [taps, rows, cols]. Turns an HWIO filter
// [kh*kw, Cin, Cout] into [kh*kw, Cout, Cin] (the B matrix of the input gradient), and a stored
// [n, k] matrix into [k, n] (taps 1) for the TF32 matmul with transposed B.
extern "C" __global__ void conv_swap_io(const float* __restrict__ in, float* __restrict__ out, int taps, int rows, int cols) {
    int total = taps * rows * cols;
    GRID_STRIDE_LOOP(o, total) {
        int i = o % rows, t = o / rows, j = t % cols, tap = t / cols;
        out[o] = in[((size_t)tap * rows + i) * cols + j];
    }
}
