// The geometry of a 2-D convolution seen as an implicit GEMM, shared by conv.cu (FP32 and WMMA TF32
// kernels) and conv_tc.cu (mma.sync TF32 kernels): the modes, ConvGeom / ConvPhase (kernel
// arguments, ints only) and the tap arithmetic of the gathered operand (see conv.cu's header).
#pragma once

// Origin of a row past M: every tap lands outside the image, so the row gathers zeros.
#define CONV_OFF_ROW (-(1 << 29))

enum { MODE_FWD = 0, MODE_BWDI = 1, MODE_BWDF = 2 };

// Geometry of one convolution plus the GEMM view of the op being run (ints only: KernelArgs.struct).
struct ConvGeom {
    int n, h, w, c;           // input
    int kh, kw, sh, sw, dh, dw;
    int oh, ow, padT, padL, cout;
    int M, N, K;              // GEMM sizes of this mode
    int kChunk;               // K per split (a multiple of the kernel's k step); >= K when not split
    int vecA, vecB, vecC;     // float4 loads of A / B, float4 stores of C allowed
    int act;                  // 0 none, 1 relu, 2 relu6
};

// MODE_BWDI: one stride phase (a separate argument: a larger ConvGeom costs the forward kernel spills).
struct ConvPhase {
    int py, px, hp, wp;                      // the phase and its rows / columns
    int ky0, kyStep, nky, kx0, kxStep, nkx;  // the taps that reach it
};

// Element offset in A of tap (ky, kx) for a gathered row (FWD, BWDI), or -1 where it is padding.
template <int MODE>
__device__ __forceinline__ int conv_tap(const ConvGeom& g, int base, int y0, int x0, int ky, int kx) {
    if (MODE == MODE_FWD) {
        int iy = y0 + ky * g.dh, ix = x0 + kx * g.dw;
        if ((unsigned)iy >= (unsigned)g.h || (unsigned)ix >= (unsigned)g.w) return -1;
        return base + (iy * g.w + ix) * g.c;
    } else {
        int ny = y0 - ky * g.dh, nx = x0 - kx * g.dw;
        if (ny < 0 || nx < 0) return -1;
        int oy = ny / g.sh, ox = nx / g.sw;
        if (oy * g.sh != ny || ox * g.sw != nx || oy >= g.oh || ox >= g.ow) return -1;
        return base + (oy * g.ow + ox) * g.cout;
    }
}

// Tap (ky, kx) of k-index t = k / chans: row-major over (ky, kx) forward, over the phase's taps backward-input.
template <int MODE>
__device__ __forceinline__ void conv_taps(const ConvGeom& g, const ConvPhase& ph, int t, int& ky, int& kx) {
    if (MODE == MODE_BWDI) {
        ky = ph.ky0 + (t / ph.nkx) * ph.kyStep;
        kx = ph.kx0 + (t % ph.nkx) * ph.kxStep;
    } else {
        kx = t % g.kw;
        ky = t / g.kw;
    }
}

// A block's tile of C (grid: x = row tiles of bm, y = column tiles of bn x K splits): its split, first
// row and column, and K range [kBegin, kEnd).
struct ConvTile {
    int split, m0, n0, kBegin, kEnd;
};

__device__ __forceinline__ ConvTile conv_tile(const ConvGeom& g, int bm, int bn) {
    int nTiles = (g.N + bn - 1) / bn;
    ConvTile t;
    t.split = blockIdx.y / nTiles;
    t.m0 = blockIdx.x * bm;
    t.n0 = (blockIdx.y % nTiles) * bn;
    t.kBegin = t.split * g.kChunk;
    t.kEnd = min(g.K, t.kBegin + g.kChunk);
    return t;
}

// Row m of C in the split's slab Cs: row-major, except the input gradient's phase rows, scattered over dx.
template <int MODE>
__device__ __forceinline__ float* conv_c_row(float* Cs, const ConvGeom& g, const ConvPhase& ph, int m) {
    if constexpr (MODE != MODE_BWDI) {
        return Cs + (size_t)m * g.N;
    } else {
        int j = m % ph.wp, t = m / ph.wp, i = t % ph.hp, b = t / ph.hp;
        return Cs + ((size_t)(b * g.h + ph.py + i * g.sh) * g.w + ph.px + j * g.sw) * g.N;
    }
}

// The epilogue out = act(v * scale[n] + shift[n]): null scale = 1, null shift = 0; act 0 none, 1 relu, 2 relu6.
__device__ __forceinline__ float conv_finish(float v, int n, const float* scale, const float* shift, int act) {
    if (scale) v *= scale[n];
    if (shift) v += shift[n];
    if (act >= 1) v = fmaxf(v, 0.f);
    if (act == 2) v = fminf(v, 6.f);
    return v;
}
