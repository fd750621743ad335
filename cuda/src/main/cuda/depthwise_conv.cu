// Depthwise 2-D convolution (DepthwiseConvKernels), TensorFlow's DepthwiseConv2dNative and its two
// backprops: x [n, h, w, c] NHWC, filter f [kh, kw, c, m], y [n, oh, ow, c*m] with
//   y[b, oi, oj, ch*m + j] = sum over taps (ky, kx) of x[b, oi*sh - padT + ky*dh, oj*sw - padL + kx*dw, ch] * f[ky, kx, ch, j],
// cells outside the image counting as zero. The launcher takes oh / ow / padT / padL from
// Padding.window (TF's SAME / VALID rule with stride and dilation).
//
// Forward and input gradient: one thread per output / input element, the channel the fastest
// index (a warp reads contiguous channels); the input gradient is a gather over the taps that
// reach the cell, so no two threads write one element. Filter gradient: each block sums a slice
// of the output pixels for 32 filter channels x up to DW_TAPS taps into a partial buffer, and a
// second pass adds the slices in a fixed order (deterministic, no atomics).
#include "common.cuh"

struct DwGeom {
    int n, h, w, c, m;
    int oh, ow;
    int kh, kw;
    int sh, sw;
    int dh, dw;
    int padT, padL;
};

// Taps per filter-gradient block (its accumulators live in registers) and pixel rows per block
// (a 256-thread block is 32 channel lanes x DW_ROWS pixel rows).
#define DW_TAPS 9
#define DW_ROWS 8

// y = depthwise correlation of x with f; one thread per element of y.
extern "C" __global__ void depthwise_conv2d_f32(int total, float* __restrict__ y, const float* __restrict__ x,
                                                const float* __restrict__ f, DwGeom g) {
    const int cm = g.c * g.m;
    GRID_STRIDE_LOOP(i, total) {
        int k = i % cm;
        unsigned int t = i / cm;
        int oj = t % g.ow;
        t /= g.ow;
        int oi = t % g.oh;
        int b = t / g.oh;
        const float* xb = x + (size_t)b * g.h * g.w * g.c + k / g.m;
        int ih0 = oi * g.sh - g.padT, iw0 = oj * g.sw - g.padL;
        float acc = 0.f;
        for (int ky = 0; ky < g.kh; ky++) {
            int ih = ih0 + ky * g.dh;
            if (ih < 0 || ih >= g.h) continue;
            const float* xr = xb + (size_t)ih * g.w * g.c;
            const float* fr = f + (size_t)ky * g.kw * cm + k;
            for (int kx = 0; kx < g.kw; kx++) {
                int iw = iw0 + kx * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                acc = fmaf(xr[(size_t)iw * g.c], fr[(size_t)kx * cm], acc);
            }
        }
        y[i] = acc;
    }
}

// 3x3, m == 1, no dilation (MobileNet's layers): each thread computes DW_COLS neighbouring output
// columns of one channel, so the 9 taps are loaded once and, at stride 1, every input column is
// read once for the DW_COLS outputs instead of three times. Thread i -> (b, oi, column group, ch).
// The launcher uses it where the tiled kernel below does not apply (row stride above 2).
#define DW_COLS 4
extern "C" __global__ void depthwise_conv2d_3x3_f32(int total, float* __restrict__ y, const float* __restrict__ x,
                                                    const float* __restrict__ f, DwGeom g) {
    const int groups = (g.ow + DW_COLS - 1) / DW_COLS;
    const int span = (DW_COLS - 1) * 2 + 3;  // input columns of DW_COLS outputs at stride <= 2
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int grp = t % groups;
        t /= groups;
        int oi = t % g.oh;
        int b = t / g.oh;
        int oj0 = grp * DW_COLS;
        int iw0 = oj0 * g.sw - g.padL;
        int ncols = (DW_COLS - 1) * g.sw + 3;
        float acc[DW_COLS];
#pragma unroll
        for (int o = 0; o < DW_COLS; o++) acc[o] = 0.f;
        const float* xb = x + (size_t)b * g.h * g.w * g.c + ch;
#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            int ih = oi * g.sh - g.padT + ky;
            if (ih < 0 || ih >= g.h) continue;
            const float* xr = xb + (size_t)ih * g.w * g.c;
            float f0 = f[(ky * 3) * g.c + ch], f1 = f[(ky * 3 + 1) * g.c + ch], f2 = f[(ky * 3 + 2) * g.c + ch];
            float v[span];
#pragma unroll
            for (int q = 0; q < span; q++) {
                int iw = iw0 + q;
                v[q] = (q < ncols && iw >= 0 && iw < g.w) ? xr[(size_t)iw * g.c] : 0.f;
            }
            if (g.sw == 1) {
#pragma unroll
                for (int o = 0; o < DW_COLS; o++) acc[o] = fmaf(v[o + 2], f2, fmaf(v[o + 1], f1, fmaf(v[o], f0, acc[o])));
            } else {
#pragma unroll
                for (int o = 0; o < DW_COLS; o++) acc[o] = fmaf(v[2 * o + 2], f2, fmaf(v[2 * o + 1], f1, fmaf(v[2 * o], f0, acc[o])));
            }
        }
        float* yr = y + (((size_t)b * g.oh + oi) * g.ow + oj0) * g.c + ch;
#pragma unroll
        for (int o = 0; o < DW_COLS; o++) {
            if (oj0 + o < g.ow) yr[(size_t)o * g.c] = acc[o];
        }
    }
}

// 3x3, m == 1, no dilation, strides sh, sw in {1, 2}: a shared-memory tile. A 256-thread block
// computes an 8 x 8 output tile of 32 channels: it first stages the (7 sh + 3) x (7 sw + 3) input
// cells of those channels in shared memory (coalesced along the channels, zeros for padding), then
// thread (lane = channel, row r) computes output row r's 8 columns from shared memory (lanes read
// consecutive words: no bank conflicts). Each input cell is read from global memory about 1.6
// times (stride 1) instead of 9. Blocks: n x tile rows x tile columns x channel tiles, 1-D grid.
// With flip = 1 the filter is read rotated by 180 degrees: at unit strides the input gradient is
// dy correlated with the rotated filter (the launcher passes dy as x, dx as y, pad' = 2 - pad).
#define DW_TILE 8
#define DW_TILE_IN ((DW_TILE - 1) * 2 + 3)

template <int SW>
__device__ __forceinline__ void dw_tile_row(const float (*tile)[DW_TILE_IN][32], int r0, int lane, const float* fk, float* acc) {
#pragma unroll
    for (int ky = 0; ky < 3; ky++) {
#pragma unroll
        for (int o = 0; o < DW_TILE; o++) {
#pragma unroll
            for (int kx = 0; kx < 3; kx++) acc[o] = fmaf(tile[r0 + ky][o * SW + kx][lane], fk[ky * 3 + kx], acc[o]);
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) depthwise_conv2d_3x3_tile_f32(float* __restrict__ y, const float* __restrict__ x,
                                                                                 const float* __restrict__ f, DwGeom g, int flip) {
    __shared__ float tile[DW_TILE_IN][DW_TILE_IN][32];
    const int chTiles = (g.c + 31) / 32, colTiles = (g.ow + DW_TILE - 1) / DW_TILE, rowTiles = (g.oh + DW_TILE - 1) / DW_TILE;
    unsigned int t = blockIdx.x;
    const int ct = t % chTiles;
    t /= chTiles;
    const int tj = t % colTiles;
    t /= colTiles;
    const int ti = t % rowTiles;
    const int b = t / rowTiles;
    const int lane = threadIdx.x & 31, row = threadIdx.x >> 5;
    const int ch = ct * 32 + lane;
    const int oi0 = ti * DW_TILE, oj0 = tj * DW_TILE;
    const int inH = (DW_TILE - 1) * g.sh + 3, inW = (DW_TILE - 1) * g.sw + 3;
    const int ih0 = oi0 * g.sh - g.padT, iw0 = oj0 * g.sw - g.padL;
    const float* xb = x + (size_t)b * g.h * g.w * g.c;
    for (int idx = threadIdx.x; idx < inH * inW * 32; idx += blockDim.x) {
        int l = idx & 31, cell = idx >> 5;
        int ty = cell / inW, tx = cell - ty * inW;
        int ih = ih0 + ty, iw = iw0 + tx, c = ct * 32 + l;
        tile[ty][tx][l] = (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w && c < g.c) ? xb[((size_t)ih * g.w + iw) * g.c + c] : 0.f;
    }
    float fk[9];
#pragma unroll
    for (int q = 0; q < 9; q++) fk[q] = ch < g.c ? f[(flip ? 8 - q : q) * g.c + ch] : 0.f;
    __syncthreads();
    const int oi = oi0 + row;
    if (ch < g.c && oi < g.oh) {
        float acc[DW_TILE];
#pragma unroll
        for (int o = 0; o < DW_TILE; o++) acc[o] = 0.f;
        if (g.sw == 1) {
            dw_tile_row<1>(tile, row * g.sh, lane, fk, acc);
        } else {
            dw_tile_row<2>(tile, row * g.sh, lane, fk, acc);
        }
        float* yr = y + (((size_t)b * g.oh + oi) * g.ow + oj0) * g.c + ch;
#pragma unroll
        for (int o = 0; o < DW_TILE; o++) {
            if (oj0 + o < g.ow) yr[(size_t)o * g.c] = acc[o];
        }
    }
}

// dx[b, ih, iw, ch] = sum over the taps and outputs that read it of dy[.., ch*m + j] * f[ky, kx, ch, j]
// (a gather: output row oi reads ih through tap ky iff ih + padT - ky*dh = oi*sh).
extern "C" __global__ void depthwise_conv2d_backprop_input_f32(int total, float* __restrict__ dx, const float* __restrict__ f,
                                                               const float* __restrict__ dy, DwGeom g) {
    const int cm = g.c * g.m;
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int iw = t % g.w;
        t /= g.w;
        int ih = t % g.h;
        int b = t / g.h;
        const float* dyb = dy + (size_t)b * g.oh * g.ow * cm + (size_t)ch * g.m;
        const float* fc = f + (size_t)ch * g.m;
        float acc = 0.f;
        for (int ky = 0; ky < g.kh; ky++) {
            int th = ih + g.padT - ky * g.dh;
            if (th < 0 || th % g.sh != 0) continue;
            int oi = th / g.sh;
            if (oi >= g.oh) continue;
            for (int kx = 0; kx < g.kw; kx++) {
                int tw = iw + g.padL - kx * g.dw;
                if (tw < 0 || tw % g.sw != 0) continue;
                int oj = tw / g.sw;
                if (oj >= g.ow) continue;
                const float* d = dyb + ((size_t)oi * g.ow + oj) * cm;
                const float* fk = fc + (size_t)(ky * g.kw + kx) * cm;
                for (int j = 0; j < g.m; j++) acc = fmaf(d[j], fk[j], acc);
            }
        }
        dx[i] = acc;
    }
}

// Filter gradient, pass 1. Grid x = (filter-channel tiles of 32) x (tap chunks of DW_TAPS), grid y =
// slices of pixelsPerPart output pixels; 256 threads = 32 lanes (filter channels k = ch*m + j) x
// DW_ROWS rows (pixels p, p + DW_ROWS, ...). Writes partial[slice][tap][k] for its taps and channels.
extern "C" __global__ void __launch_bounds__(256) depthwise_conv2d_backprop_filter_partial_f32(
        float* __restrict__ partial, const float* __restrict__ x, const float* __restrict__ dy, DwGeom g, int pixelsPerPart) {
    __shared__ float red[DW_ROWS][DW_TAPS][32];
    const int cm = g.c * g.m;
    const int taps = g.kh * g.kw;
    const int tiles = (cm + 31) / 32;
    const int tile = blockIdx.x % tiles;
    const int tap0 = (blockIdx.x / tiles) * DW_TAPS;
    const int lane = threadIdx.x & 31, row = threadIdx.x >> 5;
    const int k = tile * 32 + lane;
    // Per-tap offsets of this chunk, in registers (fully unrolled constant indices).
    int offY[DW_TAPS], offX[DW_TAPS];
#pragma unroll
    for (int q = 0; q < DW_TAPS; q++) {
        int tap = min(tap0 + q, taps - 1);
        int ky = tap / g.kw;
        offY[q] = ky * g.dh;
        offX[q] = (tap - ky * g.kw) * g.dw;
    }
    float acc[DW_TAPS];
#pragma unroll
    for (int q = 0; q < DW_TAPS; q++) acc[q] = 0.f;
    if (k < cm) {
        const int pixels = g.n * g.oh * g.ow;
        const int p0 = blockIdx.y * pixelsPerPart;
        const int p1 = min(pixels, p0 + pixelsPerPart);
        const float* xc = x + k / g.m;
        for (int p = p0 + row; p < p1; p += DW_ROWS) {
            int oj = p % g.ow;
            int t = p / g.ow;
            int oi = t % g.oh;
            int b = t / g.oh;
            float d = dy[(size_t)p * cm + k];
            const float* xb = xc + (size_t)b * g.h * g.w * g.c;
            int ih0 = oi * g.sh - g.padT, iw0 = oj * g.sw - g.padL;
#pragma unroll
            for (int q = 0; q < DW_TAPS; q++) {
                int ih = ih0 + offY[q], iw = iw0 + offX[q];
                if (tap0 + q < taps && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) {
                    acc[q] = fmaf(xb[((size_t)ih * g.w + iw) * g.c], d, acc[q]);
                }
            }
        }
    }
#pragma unroll
    for (int q = 0; q < DW_TAPS; q++) red[row][q][lane] = acc[q];
    __syncthreads();
    for (int o = threadIdx.x; o < DW_TAPS * 32; o += blockDim.x) {
        int q = o >> 5, l = o & 31;
        int tap = tap0 + q, kk = tile * 32 + l;
        if (tap < taps && kk < cm) {
            float s = 0.f;
            for (int r = 0; r < DW_ROWS; r++) s += red[r][q][l];
            partial[((size_t)blockIdx.y * taps + tap) * cm + kk] = s;
        }
    }
}

// Filter gradient, pass 2: dw[i] = sum of partial[part][i] over the parts. Grid x = ceil(total / 32);
// 256 threads = 32 lanes (outputs) x DW_ROWS rows, row r summing parts r, r + DW_ROWS, ... (several
// independent loads in flight per thread), then the rows added in order: a fixed order, deterministic.
extern "C" __global__ void __launch_bounds__(256) depthwise_conv2d_backprop_filter_finish_f32(
        int total, float* __restrict__ dw, const float* __restrict__ partial, int parts) {
    __shared__ float rows[DW_ROWS][32];
    const int lane = threadIdx.x & 31, row = threadIdx.x >> 5;
    const int i = blockIdx.x * 32 + lane;
    float s = 0.f;
    if (i < total) {
#pragma unroll 4
        for (int p = row; p < parts; p += DW_ROWS) s += partial[(size_t)p * total + i];
    }
    rows[row][lane] = s;
    __syncthreads();
    if (row == 0 && i < total) {
        float t = 0.f;
        for (int r = 0; r < DW_ROWS; r++) t += rows[r][lane];
        dw[i] = t;
    }
}
