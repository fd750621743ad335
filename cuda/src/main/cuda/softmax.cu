// Softmax family (SoftmaxKernels) over the last axis: x is [rows, c] row-major. One warp per row
// (blockDim.x a multiple of 32; warp w of block b takes rows b * warpsPerBlock + w, striding by the
// grid), lanes stride over the classes and combine with butterfly shuffles, so every lane holds
// the row's max and sum. Every row is shifted by its maximum before exp().
#include "common.cuh"

// Whole warps take whole rows: the loop condition is uniform across the warp, so all 32 lanes
// reach every shuffle.
#define ROW_LOOP(row, rows)                                                                   \
    for (int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); row < (rows);          \
         row += gridDim.x * (blockDim.x >> 5))

// y = softmax(x) or, when logMode != 0, log_softmax(x) = (x - max) - log(sum exp(x - max)).
extern "C" __global__ void softmax_f32(int rows, int c, float* __restrict__ y, const float* __restrict__ x, int logMode) {
    int lane = threadIdx.x & 31;
    ROW_LOOP(row, rows) {
        const float* xr = x + (size_t)row * c;
        float* yr = y + (size_t)row * c;
        float m = -INFINITY;
        for (int j = lane; j < c; j += 32) m = fmaxf(m, xr[j]);
        m = warp_max(m);
        float s = 0.f;
        for (int j = lane; j < c; j += 32) s += expf(xr[j] - m);
        s = warp_sum(s);
        if (logMode) {
            float lse = logf(s);
            for (int j = lane; j < c; j += 32) yr[j] = (xr[j] - m) - lse;
        } else {
            for (int j = lane; j < c; j += 32) yr[j] = expf(xr[j] - m) / s;
        }
    }
}

// Dense labels (a probability row per example): loss[row] = sum_j labels_j * (lse - (x_j - max)),
// backprop = softmax(x) - labels.
extern "C" __global__ void softmax_xent_f32(int rows, int c, float* __restrict__ loss, float* __restrict__ backprop,
                                            const float* __restrict__ x, const float* __restrict__ labels) {
    int lane = threadIdx.x & 31;
    ROW_LOOP(row, rows) {
        const float* xr = x + (size_t)row * c;
        const float* lr = labels + (size_t)row * c;
        float* br = backprop + (size_t)row * c;
        float m = -INFINITY;
        for (int j = lane; j < c; j += 32) m = fmaxf(m, xr[j]);
        m = warp_max(m);
        float s = 0.f;
        for (int j = lane; j < c; j += 32) s += expf(xr[j] - m);
        s = warp_sum(s);
        float lse = logf(s);
        float l = 0.f;
        for (int j = lane; j < c; j += 32) {
            float shifted = xr[j] - m;
            float lab = lr[j];
            l += lab * (lse - shifted);
            br[j] = expf(shifted) / s - lab;
        }
        l = warp_sum(l);
        if (lane == 0) loss[row] = l;
    }
}

// Integer labels: loss[row] = lse - (x_k - max), backprop = softmax(x) - onehot(k). A label
// outside [0, c) makes the row NaN and records the lowest such row in *badRow (initialised to
// INT_MAX by the launcher, which turns it into an error).
template <typename L>
__device__ __forceinline__ void sparse_xent(int rows, int c, float* __restrict__ loss, float* __restrict__ backprop,
                                            const float* __restrict__ x, const L* __restrict__ labels, int* badRow) {
    int lane = threadIdx.x & 31;
    ROW_LOOP(row, rows) {
        const float* xr = x + (size_t)row * c;
        float* br = backprop + (size_t)row * c;
        L label = labels[row];
        bool valid = label >= 0 && label < (L)c;
        int k = valid ? (int)label : 0;
        float m = -INFINITY;
        for (int j = lane; j < c; j += 32) m = fmaxf(m, xr[j]);
        m = warp_max(m);
        float s = 0.f;
        for (int j = lane; j < c; j += 32) s += expf(xr[j] - m);
        s = warp_sum(s);
        for (int j = lane; j < c; j += 32) {
            br[j] = valid ? expf(xr[j] - m) / s - (j == k ? 1.f : 0.f) : NAN;
        }
        if (lane == 0) {
            loss[row] = valid ? logf(s) - (xr[k] - m) : NAN;
            if (!valid) atomicMin(badRow, row);
        }
    }
}

extern "C" __global__ void sparse_xent_i32_f32(int rows, int c, float* __restrict__ loss, float* __restrict__ backprop,
                                               const float* __restrict__ x, const int* __restrict__ labels, int* badRow) {
    sparse_xent<int>(rows, c, loss, backprop, x, labels, badRow);
}

extern "C" __global__ void sparse_xent_i64_f32(int rows, int c, float* __restrict__ loss, float* __restrict__ backprop,
                                               const float* __restrict__ x, const long long* __restrict__ labels,
                                               int* badRow) {
    sparse_xent<long long>(rows, c, loss, backprop, x, labels, badRow);
}
