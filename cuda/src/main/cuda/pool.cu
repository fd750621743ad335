// Max and average pooling (PoolKernels), NHWC: x [n, h, w, c] -> y [n, oh, ow, c], with the SAME /
// VALID geometry the launcher takes from Padding.window (padT / padL cells before the first row /
// column). Max pool skips out-of-bounds cells (padding acts as -infinity); average pool divides by
// the number of in-bounds cells. One thread per output (forward) or per input (backward) element;
// the channel is the fastest index, so a warp reads contiguous channels.
//
// Backward passes are gathers, not scatters: each input cell visits the output windows that cover
// it, in row-major window order, so no two threads write one cell and sums are deterministic.
// MaxPoolGrad first records each window's arg-max (the first maximum in row-major window order, as
// TensorFlow breaks ties) as a spatial index h * w + w', then gathers dy where the arg-max is the cell.
#include "common.cuh"

struct PoolGeom {
    int n, h, w, c;
    int oh, ow;
    int kh, kw;
    int sh, sw;
    int padT, padL;
};

__device__ __forceinline__ int ceil_div(int a, int b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// Output element i -> (batch b, output row oi, output col oj, channel ch).
__device__ __forceinline__ void out_coords(unsigned int i, const PoolGeom& g, int& b, int& oi, int& oj, int& ch) {
    ch = i % g.c;
    unsigned int t = i / g.c;
    oj = t % g.ow;
    t /= g.ow;
    oi = t % g.oh;
    b = t / g.oh;
}

// y (may be null) = window maxima; arg (may be null) = spatial index of each window's first maximum.
extern "C" __global__ void max_pool_f32(int total, float* __restrict__ y, int* __restrict__ arg,
                                        const float* __restrict__ x, PoolGeom g) {
    GRID_STRIDE_LOOP(i, total) {
        int b, oi, oj, ch;
        out_coords(i, g, b, oi, oj, ch);
        int hs = max(0, oi * g.sh - g.padT), he = min(g.h, oi * g.sh - g.padT + g.kh);
        int ws = max(0, oj * g.sw - g.padL), we = min(g.w, oj * g.sw - g.padL + g.kw);
        const float* xb = x + (size_t)b * g.h * g.w * g.c + ch;
        int bestSp = hs * g.w + ws;
        float best = xb[(size_t)bestSp * g.c];
        for (int hh = hs; hh < he; hh++) {
            for (int ww = ws; ww < we; ww++) {
                int sp = hh * g.w + ww;
                float v = xb[(size_t)sp * g.c];
                if (v > best) {  // strict: the first maximum in row-major order wins
                    best = v;
                    bestSp = sp;
                }
            }
        }
        if (y) y[i] = best;
        if (arg) arg[i] = bestSp;
    }
}

// dx[b, hh, ww, ch] = sum of dy over the windows covering (hh, ww) whose arg-max is (hh, ww).
extern "C" __global__ void max_pool_grad_f32(int total, float* __restrict__ dx, const int* __restrict__ arg,
                                             const float* __restrict__ dy, PoolGeom g) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int ww = t % g.w;
        t /= g.w;
        int hh = t % g.h;
        int b = t / g.h;
        int i0 = max(0, ceil_div(hh + g.padT - g.kh + 1, g.sh)), i1 = min(g.oh - 1, (hh + g.padT) / g.sh);
        int j0 = max(0, ceil_div(ww + g.padL - g.kw + 1, g.sw)), j1 = min(g.ow - 1, (ww + g.padL) / g.sw);
        int sp = hh * g.w + ww;
        float acc = 0.f;
        for (int oi = i0; oi <= i1; oi++) {
            for (int oj = j0; oj <= j1; oj++) {
                size_t o = (((size_t)b * g.oh + oi) * g.ow + oj) * g.c + ch;
                if (arg[o] == sp) acc += dy[o];
            }
        }
        dx[i] = acc;
    }
}

// y = mean of the in-bounds cells of each window.
extern "C" __global__ void avg_pool_f32(int total, float* __restrict__ y, const float* __restrict__ x, PoolGeom g) {
    GRID_STRIDE_LOOP(i, total) {
        int b, oi, oj, ch;
        out_coords(i, g, b, oi, oj, ch);
        int hs = max(0, oi * g.sh - g.padT), he = min(g.h, oi * g.sh - g.padT + g.kh);
        int ws = max(0, oj * g.sw - g.padL), we = min(g.w, oj * g.sw - g.padL + g.kw);
        const float* xb = x + (size_t)b * g.h * g.w * g.c + ch;
        float acc = 0.f;
        for (int hh = hs; hh < he; hh++) {
            for (int ww = ws; ww < we; ww++) acc += xb[(size_t)(hh * g.w + ww) * g.c];
        }
        y[i] = acc / (float)((he - hs) * (we - ws));
    }
}

// dx[cell] = sum over covering windows of dy[window] / count(window).
extern "C" __global__ void avg_pool_grad_f32(int total, float* __restrict__ dx, const float* __restrict__ dy, PoolGeom g) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int ww = t % g.w;
        t /= g.w;
        int hh = t % g.h;
        int b = t / g.h;
        int i0 = max(0, ceil_div(hh + g.padT - g.kh + 1, g.sh)), i1 = min(g.oh - 1, (hh + g.padT) / g.sh);
        int j0 = max(0, ceil_div(ww + g.padL - g.kw + 1, g.sw)), j1 = min(g.ow - 1, (ww + g.padL) / g.sw);
        float acc = 0.f;
        for (int oi = i0; oi <= i1; oi++) {
            int rows = min(g.h, oi * g.sh - g.padT + g.kh) - max(0, oi * g.sh - g.padT);
            for (int oj = j0; oj <= j1; oj++) {
                int cols = min(g.w, oj * g.sw - g.padL + g.kw) - max(0, oj * g.sw - g.padL);
                size_t o = (((size_t)b * g.oh + oi) * g.ow + oj) * g.c + ch;
                acc = fmaf(dy[o], 1.0f / (float)(rows * cols), acc);
            }
        }
        dx[i] = acc;
    }
}
