// Max and average pooling (PoolKernels), NHWC: x [n, h, w, c] -> y [n, oh, ow, c], with the SAME /
// VALID geometry the launcher takes from Padding.window (padT / padL cells before the first row /
// column). Max pool skips out-of-bounds cells (padding acts as -infinity); average pool divides by
// the number of in-bounds cells. One thread per output (forward) or per input (backward) element,
// or per 4 channels of one (the *_f32x4 kernels); the channel is the fastest index, so a warp reads
// contiguous channels.
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

// V channels per thread: 1 (any c; entry points *_f32), or 4 (c % 4 == 0, 16-byte aligned tensors;
// entry points *_f32x4): one float4 / int4 access per cell instead of four, and a quarter of the index
// arithmetic (the integer divisions by runtime sizes, not the memory traffic, bounded these kernels).
// Lane type of a V-wide access: float / int for V 1, float4 / int4 for V 4.
template <int V> struct PoolLanes;
template <> struct PoolLanes<1> {
    typedef float F;
    typedef int I;
    static __device__ __forceinline__ float get(const F& v, int) { return v; }
    static __device__ __forceinline__ void set(F& v, int, float x) { v = x; }
    static __device__ __forceinline__ int geti(const I& v, int) { return v; }
    static __device__ __forceinline__ void seti(I& v, int, int x) { v = x; }
};
template <> struct PoolLanes<4> {
    typedef float4 F;
    typedef int4 I;
    static __device__ __forceinline__ float get(const F& v, int l) { return l == 0 ? v.x : l == 1 ? v.y : l == 2 ? v.z : v.w; }
    static __device__ __forceinline__ void set(F& v, int l, float x) {
        if (l == 0) v.x = x; else if (l == 1) v.y = x; else if (l == 2) v.z = x; else v.w = x;
    }
    static __device__ __forceinline__ int geti(const I& v, int l) { return l == 0 ? v.x : l == 1 ? v.y : l == 2 ? v.z : v.w; }
    static __device__ __forceinline__ void seti(I& v, int l, int x) {
        if (l == 0) v.x = x; else if (l == 1) v.y = x; else if (l == 2) v.z = x; else v.w = x;
    }
};

// Element index i of a [b, rows, cols, c / V] grid of V-wide groups -> (b, row, col, group).
template <int V>
__device__ __forceinline__ void grid_coords(unsigned int i, int c, int rows, int cols, int& b, int& row, int& col, int& q) {
    int cq = c / V;
    q = i % cq;
    unsigned int t = i / cq;
    col = t % cols;
    t /= cols;
    row = t % rows;
    b = t / rows;
}

// y (may be null) = window maxima; arg (may be null) = spatial index of each window's first maximum.
template <int V>
__device__ __forceinline__ void max_pool(int total, float* __restrict__ y, int* __restrict__ arg, const float* __restrict__ x,
                                         const PoolGeom& g) {
    typedef PoolLanes<V> P;
    GRID_STRIDE_LOOP(i, total) {
        int b, oi, oj, q;
        grid_coords<V>(i, g.c, g.oh, g.ow, b, oi, oj, q);
        int hs = max(0, oi * g.sh - g.padT), he = min(g.h, oi * g.sh - g.padT + g.kh);
        int ws = max(0, oj * g.sw - g.padL), we = min(g.w, oj * g.sw - g.padL + g.kw);
        const float* xb = x + (size_t)b * g.h * g.w * g.c + q * V;
        int first = hs * g.w + ws;
        typename P::F best = *reinterpret_cast<const typename P::F*>(xb + (size_t)first * g.c);
        typename P::I bestSp;
        for (int l = 0; l < V; l++) P::seti(bestSp, l, first);
        for (int hh = hs; hh < he; hh++) {
            for (int ww = ws; ww < we; ww++) {
                int sp = hh * g.w + ww;
                typename P::F v = *reinterpret_cast<const typename P::F*>(xb + (size_t)sp * g.c);
                for (int l = 0; l < V; l++) {
                    if (P::get(v, l) > P::get(best, l)) {  // strict: the first maximum in row-major order wins
                        P::set(best, l, P::get(v, l));
                        P::seti(bestSp, l, sp);
                    }
                }
            }
        }
        if (y) reinterpret_cast<typename P::F*>(y)[i] = best;
        if (arg) reinterpret_cast<typename P::I*>(arg)[i] = bestSp;
    }
}

// dx[b, hh, ww, ch] = sum of dy over the windows covering (hh, ww) whose arg-max is (hh, ww).
template <int V>
__device__ __forceinline__ void max_pool_grad(int total, float* __restrict__ dx, const int* __restrict__ arg,
                                              const float* __restrict__ dy, const PoolGeom& g) {
    typedef PoolLanes<V> P;
    GRID_STRIDE_LOOP(i, total) {
        int b, hh, ww, q;
        grid_coords<V>(i, g.c, g.h, g.w, b, hh, ww, q);
        int i0 = max(0, ceil_div(hh + g.padT - g.kh + 1, g.sh)), i1 = min(g.oh - 1, (hh + g.padT) / g.sh);
        int j0 = max(0, ceil_div(ww + g.padL - g.kw + 1, g.sw)), j1 = min(g.ow - 1, (ww + g.padL) / g.sw);
        int sp = hh * g.w + ww;
        typename P::F acc;
        for (int l = 0; l < V; l++) P::set(acc, l, 0.f);
        for (int oi = i0; oi <= i1; oi++) {
            for (int oj = j0; oj <= j1; oj++) {
                size_t o = (((size_t)b * g.oh + oi) * g.ow + oj) * g.c + q * V;
                typename P::I a = *reinterpret_cast<const typename P::I*>(arg + o);
                typename P::F d = *reinterpret_cast<const typename P::F*>(dy + o);
                for (int l = 0; l < V; l++) {
                    if (P::geti(a, l) == sp) P::set(acc, l, P::get(acc, l) + P::get(d, l));
                }
            }
        }
        reinterpret_cast<typename P::F*>(dx)[i] = acc;
    }
}

// y = mean of the in-bounds cells of each window.
template <int V>
__device__ __forceinline__ void avg_pool(int total, float* __restrict__ y, const float* __restrict__ x, const PoolGeom& g) {
    typedef PoolLanes<V> P;
    GRID_STRIDE_LOOP(i, total) {
        int b, oi, oj, q;
        grid_coords<V>(i, g.c, g.oh, g.ow, b, oi, oj, q);
        int hs = max(0, oi * g.sh - g.padT), he = min(g.h, oi * g.sh - g.padT + g.kh);
        int ws = max(0, oj * g.sw - g.padL), we = min(g.w, oj * g.sw - g.padL + g.kw);
        const float* xb = x + (size_t)b * g.h * g.w * g.c + q * V;
        typename P::F acc;
        for (int l = 0; l < V; l++) P::set(acc, l, 0.f);
        for (int hh = hs; hh < he; hh++) {
            for (int ww = ws; ww < we; ww++) {
                typename P::F v = *reinterpret_cast<const typename P::F*>(xb + (size_t)(hh * g.w + ww) * g.c);
                for (int l = 0; l < V; l++) P::set(acc, l, P::get(acc, l) + P::get(v, l));
            }
        }
        float cells = (float)((he - hs) * (we - ws));
        for (int l = 0; l < V; l++) P::set(acc, l, P::get(acc, l) / cells);
        reinterpret_cast<typename P::F*>(y)[i] = acc;
    }
}

// dx[cell] = sum over covering windows of dy[window] / count(window).
template <int V>
__device__ __forceinline__ void avg_pool_grad(int total, float* __restrict__ dx, const float* __restrict__ dy, const PoolGeom& g) {
    typedef PoolLanes<V> P;
    GRID_STRIDE_LOOP(i, total) {
        int b, hh, ww, q;
        grid_coords<V>(i, g.c, g.h, g.w, b, hh, ww, q);
        int i0 = max(0, ceil_div(hh + g.padT - g.kh + 1, g.sh)), i1 = min(g.oh - 1, (hh + g.padT) / g.sh);
        int j0 = max(0, ceil_div(ww + g.padL - g.kw + 1, g.sw)), j1 = min(g.ow - 1, (ww + g.padL) / g.sw);
        typename P::F acc;
        for (int l = 0; l < V; l++) P::set(acc, l, 0.f);
        for (int oi = i0; oi <= i1; oi++) {
            int rows = min(g.h, oi * g.sh - g.padT + g.kh) - max(0, oi * g.sh - g.padT);
            for (int oj = j0; oj <= j1; oj++) {
                int cols = min(g.w, oj * g.sw - g.padL + g.kw) - max(0, oj * g.sw - g.padL);
                size_t o = (((size_t)b * g.oh + oi) * g.ow + oj) * g.c + q * V;
                typename P::F d = *reinterpret_cast<const typename P::F*>(dy + o);
                float inv = 1.0f / (float)(rows * cols);
                for (int l = 0; l < V; l++) P::set(acc, l, fmaf(P::get(d, l), inv, P::get(acc, l)));
            }
        }
        reinterpret_cast<typename P::F*>(dx)[i] = acc;
    }
}

// Entry points; total counts V-wide groups (elements / V).
extern "C" __global__ void max_pool_f32(int total, float* __restrict__ y, int* __restrict__ arg, const float* __restrict__ x, PoolGeom g) {
    max_pool<1>(total, y, arg, x, g);
}
extern "C" __global__ void max_pool_f32x4(int total, float* __restrict__ y, int* __restrict__ arg, const float* __restrict__ x, PoolGeom g) {
    max_pool<4>(total, y, arg, x, g);
}
extern "C" __global__ void max_pool_grad_f32(int total, float* __restrict__ dx, const int* __restrict__ arg, const float* __restrict__ dy,
                                             PoolGeom g) {
    max_pool_grad<1>(total, dx, arg, dy, g);
}
extern "C" __global__ void max_pool_grad_f32x4(int total, float* __restrict__ dx, const int* __restrict__ arg, const float* __restrict__ dy,
                                               PoolGeom g) {
    max_pool_grad<4>(total, dx, arg, dy, g);
}
extern "C" __global__ void avg_pool_f32(int total, float* __restrict__ y, const float* __restrict__ x, PoolGeom g) {
    avg_pool<1>(total, y, x, g);
}
extern "C" __global__ void avg_pool_f32x4(int total, float* __restrict__ y, const float* __restrict__ x, PoolGeom g) {
    avg_pool<4>(total, y, x, g);
}
extern "C" __global__ void avg_pool_grad_f32(int total, float* __restrict__ dx, const float* __restrict__ dy, PoolGeom g) {
    avg_pool_grad<1>(total, dx, dy, g);
}
extern "C" __global__ void avg_pool_grad_f32x4(int total, float* __restrict__ dx, const float* __restrict__ dy, PoolGeom g) {
    avg_pool_grad<4>(total, dx, dy, g);
}
