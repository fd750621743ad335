// Local response normalisation across the last axis (LrnKernels), TensorFlow's LRN and LRNGrad.
// Tensors are [rows, c] (any leading shape, NHWC in practice), each row normalised on its own:
//   norm[k] = bias + alpha * sum_{j in [k - r, k + r] clipped to [0, c)} x[j]^2,   y[k] = x[k] * norm[k]^-beta
//   dx[k]   = dy[k] * norm[k]^-beta - 2 alpha beta x[k] * sum_{j : |j - k| <= r} dy[j] * y[j] / norm[j]
// (the gradient uses the given forward output y, as TF's kernel does). One thread per element;
// the window sums read neighbouring channels, which a warp has just loaded (L1 hits). The
// gradient runs in two passes so each norm is computed twice, not 2r + 1 times:
// lrn_grad_scaled_f32 writes s[j] = dy[j] * y[j] / norm[j], lrn_grad_f32 sums s over the window.
// The launcher clips r to c, so k + r cannot overflow.
#include "common.cuh"

__device__ __forceinline__ float lrn_norm(const float* __restrict__ row, int c, int k, int r, float bias, float alpha) {
    int lo = max(0, k - r), hi = min(c - 1, k + r);
    float s = 0.f;
    for (int j = lo; j <= hi; j++) s = fmaf(row[j], row[j], s);
    return fmaf(alpha, s, bias);
}

// norm^-beta; the common betas (0.5, 0.75, 1) with square roots, as the CPU kernel does.
__device__ __forceinline__ float lrn_pow(float norm, float beta) {
    if (beta == 0.75f) {
        float s = sqrtf(norm);
        return 1.f / (s * sqrtf(s));
    }
    if (beta == 0.5f) return 1.f / sqrtf(norm);
    if (beta == 1.f) return 1.f / norm;
    return powf(norm, -beta);
}

// y = x * norm^-beta.
extern "C" __global__ void lrn_f32(int total, float* __restrict__ y, const float* __restrict__ x, int c, int r, float bias,
                                   float alpha, float beta) {
    GRID_STRIDE_LOOP(i, total) {
        int k = i % c;
        const float* row = x + (i - k);
        y[i] = x[i] * lrn_pow(lrn_norm(row, c, k, r, bias, alpha), beta);
    }
}

// s = dy * y / norm (pass 1 of LRNGrad).
extern "C" __global__ void lrn_grad_scaled_f32(int total, float* __restrict__ s, const float* __restrict__ x,
                                               const float* __restrict__ y, const float* __restrict__ dy, int c, int r,
                                               float bias, float alpha) {
    GRID_STRIDE_LOOP(i, total) {
        int k = i % c;
        s[i] = dy[i] * y[i] / lrn_norm(x + (i - k), c, k, r, bias, alpha);
    }
}

// dx = dy * norm^-beta - 2 alpha beta x * (window sum of s) (pass 2 of LRNGrad).
extern "C" __global__ void lrn_grad_f32(int total, float* __restrict__ dx, const float* __restrict__ x,
                                        const float* __restrict__ dy, const float* __restrict__ s, int c, int r, float bias,
                                        float alpha, float beta) {
    GRID_STRIDE_LOOP(i, total) {
        int k = i % c;
        size_t base = i - k;
        float norm = lrn_norm(x + base, c, k, r, bias, alpha);
        int lo = max(0, k - r), hi = min(c - 1, k + r);
        float sum = 0.f;
        for (int j = lo; j <= hi; j++) sum += s[base + j];
        dx[i] = fmaf(-2.f * alpha * beta * x[i], sum, dy[i] * lrn_pow(norm, beta));
    }
}
