// Tensor-core convolution (ConvKernels, FusedConvKernels at --precision=tf32, bf16 or fp16) as implicit
// GEMM on mma.sync (m16n8k8 tf32, m16n8k16 bf16 / fp16), fed by a 3-stage cp.async pipeline. The same
// three GEMMs as conv.cu (see its header and conv_geom.cuh: MODE_FWD, MODE_BWDI per stride phase,
// MODE_BWDF with split-K), for the shapes where every 16-byte piece of an operand is contiguous in
// memory: gathered channels and N multiples of 4, 16-byte aligned tensors (CudaConv falls back to
// conv.cu's TF32 WMMA kernels otherwise).
//
// A block of 256 threads (8 warps) owns a BM x BN tile of C (256 x 64 or 128 x 128) and walks its K
// range in steps of 32. Each step's tiles are copied global -> shared by cp.async 16 bytes at a time,
// STAGES - 1 steps ahead of the one being multiplied (one barrier per step); padding taps and rows
// past M are zero-filled by the copy itself (source size 0). Tiles stay float32 in shared memory; the
// operands are rounded to the precision PREC as fragments are read (TF32: tc_tf32_bits, one integer
// add, the tensor cores drop the low bits; BF16 / FP16: two floats per cvt.rn into a half pair), so the
// three precisions share the pipeline and the layouts; products accumulate in float registers.
// Shared layout per stage (row strides chosen for conflict-free fragment reads):
//   A, FWD / BWDI: [BM m][32 k + 8] (channels contiguous);  BWDF: [32 k][BM m + 4] (pixels are K)
//   B: [32 k][BN + 4]
// Inside each 8-wide k slice, mma k index j in 0..3 reads physical k 2j and j + 4 reads 2j + 1 (the
// same for A and B, so the sum is unchanged): the row-major A fragment's (t, t + 4) pair becomes
// one 8-byte shared load. BF16 / FP16 step 16-wide k slices in k order: a row-major A fragment's
// pairs (2t, 2t + 1) and (2t + 8, 2t + 9) are two 8-byte loads, conflict-free with the same strides.
// Warps: 2 (m) x 4 (n) of 64 x 32 for 128 x 128, 4 x 2 of 64 x 32 for 256 x 64; a warp's tile is
// FM x FN mma tiles of 16 x 8. Epilogue: out = act(acc * scale[n] + shift[n]) as in conv.cu.
// Grid: x = ceil(M / BM), y = ceil(N / BN) * splits. Dynamic shared memory: TcTile<...>::BYTES
// (CudaConv.tensorCoreSharedBytes mirrors it; CudaConv.rowsPerBlock gives BM).
#include "common.cuh"
#include "conv_geom.cuh"
#include "tensor_core.cuh"

#define TC_BK 32

// Operand precisions (template argument PREC): CudaConv names the kernels conv_tc_[bf16_|f16_]<mode>_n<bn>.
#define TC_TF32 0
#define TC_BF16 1
#define TC_F16 2

// Two floats of an mma operand, rounded to PREC's half type and packed (lo = the smaller k index).
template <int PREC>
__device__ __forceinline__ uint32_t tc_pack(float lo, float hi) {
    return PREC == TC_BF16 ? tc_pack_bf16x2(lo, hi) : tc_pack_f16x2(lo, hi);
}

// Shared-memory layout of one configuration (CudaConv.tensorCoreSharedBytes mirrors BYTES).
template <int MODE, int BM, int BN, int STAGES>
struct TcTile {
    static constexpr bool A_KMAJOR = MODE == MODE_BWDF;
    static constexpr int LDA = A_KMAJOR ? BM + 4 : TC_BK + 8;
    static constexpr int A_FLOATS = A_KMAJOR ? TC_BK * LDA : BM * LDA;
    static constexpr int LDB = BN + 4;
    static constexpr int B_FLOATS = TC_BK * LDB;
    static constexpr int STAGE = A_FLOATS + B_FLOATS;
    static constexpr int BYTES = STAGES * STAGE * 4;
};

// A block computes a BM x BN tile of C with (BM / WM) x (BN / WN) warps of WM x WN, in STAGES stages,
// its operands rounded to PREC.
template <int PREC, int MODE, int BM, int BN, int WM, int WN, int STAGES>
__device__ __forceinline__ void conv_tc_gemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                             const float* __restrict__ scale, const float* __restrict__ shift, const ConvGeom& g,
                                             const ConvPhase& ph) {
    using L = TcTile<MODE, BM, BN, STAGES>;
    constexpr int BK = TC_BK;
    constexpr int WARPS_N = BN / WN, THREADS = (BM / WM) * WARPS_N * 32;
    constexpr int FM = WM / 16, FN = WN / 8;
    constexpr int A_LOADS = BM * BK / 4 / THREADS;  // 16-byte copies of A per thread per step
    constexpr int B_LOADS = BK * BN / 4 / THREADS;  // and of B
    static_assert(A_LOADS * THREADS * 4 == BM * BK && B_LOADS * THREADS * 4 == BK * BN, "tile not a whole number of copies per thread");
    TC_DYNAMIC_SHARED(float, smem);
    // FWD / BWDI: where each tile row gathers from (element offset of its origin pixel in A, origin row and column).
    __shared__ __align__(16) int rowAt[BM][4];

    const int tid = threadIdx.x;
    const ConvTile tile = conv_tile(g, BM, BN);
    const int split = tile.split, m0 = tile.m0, n0 = tile.n0, kBegin = tile.kBegin, kEnd = tile.kEnd;
    const int chans = MODE == MODE_BWDI ? g.cout : g.c;

    // ---- gather state (no integer division in the k loop: the SM's ALU pipe would bound the kernel) ----
    // FWD / BWDI: thread copies k quad tid % 8 of rows tid / 8 + (THREADS / 8) i. rowAt holds each row's
    // origin pixel (y0, x0) and its element offset in A: FWD the input pixel of tap (0, 0) (iy = y0 +
    // ky*dh); BWDI the phase pixel (i, j), whose dy pixel for tap (ky, kx) is (i + tapY, j + tapX) with
    // tapY = (py + padT - ky*dh) / sh exact (the phase's taps are those that divide). The thread's k =
    // tap * chans + ci walks the tap grid (FWD kh x kw, BWDI the phase's nky x nkx) by BK per step:
    // channel ci, grid column tx, and the tap's pixel offset (tapY, tapX), all updated by additions.
    // BWDF: m quad tid % (BM / 4) of k rows (output pixels) tid / (BM / 4) + ROWS_APART i; the quad's tap
    // in registers, the first row's pixel (pb, py, px) advanced step by step.
    constexpr int ROWS_APART = 4 * THREADS / BM;
    const int limH = MODE == MODE_FWD ? g.h : g.oh, limW = MODE == MODE_FWD ? g.w : g.ow;
    int cci = 0, cy0 = CONV_OFF_ROW, cx0 = CONV_OFF_ROW;
    int pb = 0, py = 0, px = 0;
    int wCi = 0, wTx = 0, wTapY = 0, wTapX = 0;  // FWD / BWDI k walk of this thread's k quad
    int gridW = 1, dTapY = 0, dTapX = 0, tapX0 = 0;
    if (MODE != MODE_BWDF) {
        for (int r = tid; r < BM; r += THREADS) {
            int m = m0 + r, off = 0, y0 = CONV_OFF_ROW, x0 = CONV_OFF_ROW;
            if (m < g.M) {
                int outW = MODE == MODE_FWD ? g.ow : ph.wp, outH = MODE == MODE_FWD ? g.oh : ph.hp;
                int ox = m % outW, t = m / outW, oy = t % outH, b = t / outH;
                if (MODE == MODE_FWD) {
                    y0 = oy * g.sh - g.padT;
                    x0 = ox * g.sw - g.padL;
                } else {
                    y0 = oy;
                    x0 = ox;
                }
                off = ((b * limH + y0) * limW + x0) * chans;
            }
            rowAt[r][0] = off;
            rowAt[r][1] = y0;
            rowAt[r][2] = x0;
            rowAt[r][3] = 0;
        }
        int tapY0 = 0;
        if (MODE == MODE_FWD) {
            gridW = g.kw;
            dTapY = g.dh;
            dTapX = g.dw;
        } else {
            gridW = max(ph.nkx, 1);  // a phase no tap reaches has K = 0 (its dx pixels get zeros)
            dTapY = -(ph.kyStep * g.dh / g.sh);
            dTapX = -(ph.kxStep * g.dw / g.sw);
            tapY0 = (ph.py + g.padT - ph.ky0 * g.dh) / g.sh;
            tapX0 = (ph.px + g.padL - ph.kx0 * g.dw) / g.sw;
        }
        int k = kBegin + 4 * (tid & 7), t = k / chans, ty = t / gridW;
        wCi = k % chans;
        wTx = t % gridW;
        wTapY = tapY0 + ty * dTapY;
        wTapX = tapX0 + wTx * dTapX;
        __syncthreads();
    } else {
        int m = m0 + 4 * (tid % (BM / 4));
        if (m < g.M) {
            int t = m / g.c, kx = t % g.kw, ky = t / g.kw;
            cci = m % g.c;
            cy0 = ky * g.dh - g.padT;
            cx0 = kx * g.dw - g.padL;
        }
        int p = kBegin + tid / (BM / 4);
        px = p % g.ow;
        int t = p / g.ow;
        py = t % g.oh;
        pb = t / g.oh;
    }
    // (b, y, x) += d pixels, x < ow, y < oh (d is at most a few rows).
    auto advance = [&](int& b, int& y, int& x, int d) {
        x += d;
        while (x >= g.ow) {
            x -= g.ow;
            if (++y == g.oh) {
                y = 0;
                b++;
            }
        }
    };

    // BWDI with Cout >= BK: a step's B rows lie in two consecutive taps of the phase's grid, t0 (the
    // step's first k is channel bC0 of it) and t0 + 1; bRow0 is t0's first row of the swapped filter
    // ((ky * kw + kx) * Cout) and bTx its grid column, advanced with the step.
    int bC0 = 0, bTx = 0, bRow0 = 0, bNextX = 0, bNextY = 0;
    if (MODE == MODE_BWDI && g.cout >= BK && ph.nkx > 0) {
        int t0 = kBegin / g.cout, ky, kx;
        bC0 = kBegin % g.cout;
        bTx = t0 % ph.nkx;
        conv_taps<MODE>(g, ph, t0, ky, kx);
        bRow0 = (ky * g.kw + kx) * g.cout;
        bNextX = ph.kxStep * g.cout;                                                  // next tap in the grid row
        bNextY = (ph.kyStep * g.kw - (ph.nkx - 1) * ph.kxStep) * g.cout;              // first tap of the next grid row
    }

    // Queues the copies of k step k0 into stage s (called for k0 = kBegin, kBegin + BK, ... in order).
    auto load = [&](int s, int k0) {
        float* sA = smem + s * L::STAGE;
        float* sB = sA + L::A_FLOATS;
        if (MODE != MODE_BWDF) {
            int kq = tid & 7;
            bool kOk = k0 + 4 * kq < kEnd;
            int kOff = (wTapY * limW + wTapX) * chans + wCi;
            for (int i = 0; i < A_LOADS; i++) {
                int r = (tid >> 3) + (THREADS / 8) * i;
                int4 row = *reinterpret_cast<const int4*>(rowAt[r]);
                int y = row.y + wTapY, x = row.z + wTapX;
                bool ok = kOk && (unsigned)y < (unsigned)limH && (unsigned)x < (unsigned)limW;
                tc_cp_async16(sA + r * L::LDA + 4 * kq, ok ? A + (row.x + kOff) : A, ok);
            }
            // The next step's k: BK further along the tap grid.
            wCi += BK;
            while (wCi >= chans) {
                wCi -= chans;
                if (++wTx == gridW) {
                    wTx = 0;
                    wTapX = tapX0;
                    wTapY += dTapY;
                } else {
                    wTapX += dTapX;
                }
            }
        } else {
            int b = pb, y = py, x = px;
            for (int i = 0; i < A_LOADS; i++) {
                if (i > 0) advance(b, y, x, ROWS_APART);
                int kr = tid / (BM / 4) + ROWS_APART * i, p = k0 + kr;
                int iy = y * g.sh + cy0, ix = x * g.sw + cx0;
                bool ok = p < kEnd && (unsigned)iy < (unsigned)g.h && (unsigned)ix < (unsigned)g.w;
                const float* src = ok ? A + (((size_t)b * g.h + iy) * g.w + ix) * g.c + cci : A;
                tc_cp_async16(sA + kr * L::LDA + 4 * (tid % (BM / 4)), src, ok);
            }
            advance(pb, py, px, BK);  // the next step's first row
        }
        // Backward input: B row (ky*kw + kx)*Cout + co of the swapped filter for k = tap*Cout + co. With
        // Cout >= BK: channels c0 + kr of tap t0 (row0), past Cout those of tap t0 + 1 (row1 + co).
        const int c0 = bC0, row0 = bRow0;
        const int row1 = bRow0 + (bTx + 1 < ph.nkx ? bNextX : bNextY) - g.cout;
        if (MODE == MODE_BWDI && g.cout >= BK) {
            bC0 += BK;
            if (bC0 >= g.cout) {  // the next step starts in tap t0 + 1
                bC0 -= g.cout;
                bRow0 = row1 + g.cout;
                bTx = bTx + 1 < ph.nkx ? bTx + 1 : 0;
            }
        }
        for (int l = 0; l < B_LOADS; l++) {
            int e = tid + l * THREADS;
            int kr = e / (BN / 4), nq = e % (BN / 4);
            int k = k0 + kr, n = n0 + 4 * nq;
            bool ok = k < kEnd && n < g.N;
            const float* src = B;
            if (ok) {
                int brow = k;
                if (MODE == MODE_BWDI) {
                    if (g.cout >= BK) {
                        int co = c0 + kr;
                        brow = (co < g.cout ? row0 : row1) + co;
                    } else {
                        int ky, kx;
                        conv_taps<MODE>(g, ph, k / g.cout, ky, kx);
                        brow = (ky * g.kw + kx) * g.cout + k % g.cout;
                    }
                }
                src = B + (size_t)brow * g.N + n;
            }
            tc_cp_async16(sB + kr * L::LDB + 4 * nq, src, ok);
        }
    };

    const int warp = tid >> 5, lane = tid & 31, gq = lane >> 2, tq = lane & 3;
    const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
    float acc[FM][FN][4];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    const int steps = kBegin < kEnd ? (kEnd - kBegin + BK - 1) / BK : 0;
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < steps) load(s, kBegin + s * BK);
        tc_cp_commit();
    }
    for (int step = 0; step < steps; step++) {
        tc_cp_wait<STAGES - 2>();  // this thread's copies of step `step` have landed
        __syncthreads();               // everyone's have; and every warp is done with step - 1's stage
        int ahead = step + STAGES - 1;
        if (ahead < steps) load(ahead % STAGES, kBegin + ahead * BK);
        tc_cp_commit();
        const float* sA = smem + (step % STAGES) * L::STAGE;
        const float* sB = sA + L::A_FLOATS;
#pragma unroll
        for (int kk = 0; kk < BK && PREC == TC_TF32; kk += 8) {
            uint32_t af[FM][4], bf[FN][2];
#pragma unroll
            for (int i = 0; i < FM; i++) {
                int r = wm0 + i * 16 + gq;
                if (!L::A_KMAJOR) {
                    float2 lo = *reinterpret_cast<const float2*>(sA + r * L::LDA + kk + 2 * tq);
                    float2 hi = *reinterpret_cast<const float2*>(sA + (r + 8) * L::LDA + kk + 2 * tq);
                    af[i][0] = tc_tf32_bits(lo.x);
                    af[i][1] = tc_tf32_bits(hi.x);
                    af[i][2] = tc_tf32_bits(lo.y);
                    af[i][3] = tc_tf32_bits(hi.y);
                } else {
                    const float* k0 = sA + (kk + 2 * tq) * L::LDA + r;
                    af[i][0] = tc_tf32_bits(k0[0]);
                    af[i][1] = tc_tf32_bits(k0[8]);
                    af[i][2] = tc_tf32_bits(k0[L::LDA]);
                    af[i][3] = tc_tf32_bits(k0[L::LDA + 8]);
                }
            }
#pragma unroll
            for (int j = 0; j < FN; j++) {
                const float* k0 = sB + (kk + 2 * tq) * L::LDB + wn0 + j * 8 + gq;
                bf[j][0] = tc_tf32_bits(k0[0]);
                bf[j][1] = tc_tf32_bits(k0[L::LDB]);
            }
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) tc_mma_tf32(acc[i][j], af[i], bf[j]);
        }
#pragma unroll
        for (int kk = 0; kk < BK && PREC != TC_TF32; kk += 16) {
            uint32_t af[FM][4], bf[FN][2];
#pragma unroll
            for (int i = 0; i < FM; i++) {
                int r = wm0 + i * 16 + gq;
                if (!L::A_KMAJOR) {
                    const float* p = sA + r * L::LDA + kk + 2 * tq;
                    float2 lo0 = *reinterpret_cast<const float2*>(p);
                    float2 hi0 = *reinterpret_cast<const float2*>(p + 8 * L::LDA);
                    float2 lo8 = *reinterpret_cast<const float2*>(p + 8);
                    float2 hi8 = *reinterpret_cast<const float2*>(p + 8 * L::LDA + 8);
                    af[i][0] = tc_pack<PREC>(lo0.x, lo0.y);
                    af[i][1] = tc_pack<PREC>(hi0.x, hi0.y);
                    af[i][2] = tc_pack<PREC>(lo8.x, lo8.y);
                    af[i][3] = tc_pack<PREC>(hi8.x, hi8.y);
                } else {
                    const float* k0 = sA + (kk + 2 * tq) * L::LDA + r;
                    af[i][0] = tc_pack<PREC>(k0[0], k0[L::LDA]);
                    af[i][1] = tc_pack<PREC>(k0[8], k0[L::LDA + 8]);
                    af[i][2] = tc_pack<PREC>(k0[8 * L::LDA], k0[9 * L::LDA]);
                    af[i][3] = tc_pack<PREC>(k0[8 * L::LDA + 8], k0[9 * L::LDA + 8]);
                }
            }
#pragma unroll
            for (int j = 0; j < FN; j++) {
                const float* k0 = sB + (kk + 2 * tq) * L::LDB + wn0 + j * 8 + gq;
                bf[j][0] = tc_pack<PREC>(k0[0], k0[L::LDB]);
                bf[j][1] = tc_pack<PREC>(k0[8 * L::LDB], k0[9 * L::LDB]);
            }
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) {
                    if (PREC == TC_BF16) tc_mma_bf16(acc[i][j], af[i], bf[j]);
                    else tc_mma_f16(acc[i][j], af[i], bf[j]);
                }
        }
    }

    // ---- epilogue: lane (gq, tq) holds rows gq, gq + 8 and columns 2 tq, 2 tq + 1 of each mma tile ----
    float* Cs = C + (size_t)split * g.M * g.N;
#pragma unroll
    for (int i = 0; i < FM; i++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int m = m0 + wm0 + i * 16 + gq + 8 * h;
            if (m >= g.M) continue;
            float* row = conv_c_row<MODE>(Cs, g, ph, m);
#pragma unroll
            for (int j = 0; j < FN; j++) {
                int n = n0 + wn0 + j * 8 + 2 * tq;  // N is a multiple of 4: n < N means n + 1 < N
                if (n >= g.N) continue;
                float2 v = make_float2(conv_finish(acc[i][j][2 * h], n, scale, shift, g.act),
                                       conv_finish(acc[i][j][2 * h + 1], n + 1, scale, shift, g.act));
                if (g.vecC) {
                    *reinterpret_cast<float2*>(row + n) = v;
                } else {
                    row[n] = v.x;
                    row[n + 1] = v.y;
                }
            }
        }
    }
}

// The entry points: precision x mode x column tile (written out: the emulator and PtxFreshnessTest find
// kernels by their extern "C" __global__ declarations). 8 warps of 64 x 32 either way: 128 x 128 tiles in 3
// stages, 256 x 64 in 2 (3 would not leave room for two blocks per SM); two blocks per SM (at most
// 128 registers, 2 x 110 or 2 x 104 KiB of shared memory), so 4 warps per scheduler hide the
// fragment loads' latency. Warps of 64 x 32 issue fewer instructions per mma than 32 x 32 (which the
// 64-column tile used before: ~30% more per mma in PTX); 4 warps of 64 x 64 reach only 2 per
// scheduler and were no faster on an H200.
#define CONV_TC_PARAMS                                                                                                  \
    const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, const float* __restrict__ scale, \
        const float* __restrict__ shift, ConvGeom g, ConvPhase ph
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_fwd_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_FWD, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_fwd_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_FWD, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bwdi_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_BWDI, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bwdi_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_BWDI, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bwdf_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_BWDF, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bwdf_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_TF32, MODE_BWDF, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_fwd_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_FWD, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_fwd_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_FWD, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_bwdi_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_BWDI, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_bwdi_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_BWDI, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_bwdf_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_BWDF, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_bf16_bwdf_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_BF16, MODE_BWDF, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_fwd_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_FWD, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_fwd_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_FWD, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_bwdi_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_BWDI, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_bwdi_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_BWDI, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_bwdf_n64(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_BWDF, 256, 64, 64, 32, 2>(A, B, C, scale, shift, g, ph); }
extern "C" __global__ void __launch_bounds__(256, 2) conv_tc_f16_bwdf_n128(CONV_TC_PARAMS) { conv_tc_gemm<TC_F16, MODE_BWDF, 128, 128, 64, 32, 3>(A, B, C, scale, shift, g, ph); }
