// Dropout masks (DropoutKernels.mask) from Philox4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11; the generator of cuRAND, TensorFlow and PyTorch), written out here.
//
// Philox is counter-based: block b of four 32-bit draws is philox(counter = {b, 0, 0, 0},
// key = {seed low, seed high}), so element i of a mask uses word i % 4 of block i / 4 whatever the
// launch geometry, and a mask is a pure function of (seed, element index). Element i is kept
// (1/keepProb) when its word u satisfies u < threshold = round-down(keepProb * 2^32), else 0; the
// launcher passes threshold = 2^32 for keepProb = 1 (every 32-bit word is below it).
#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u  // golden ratio
#define PHILOX_W1 0xBB67AE85u  // sqrt(3) - 1

struct Philox4 {
    unsigned int x, y, z, w;
};

// High and low halves of a * b (nvcc emits one mul.wide.u32).
__device__ __forceinline__ unsigned int mulhilo(unsigned int a, unsigned int b, unsigned int& hi) {
    unsigned long long p = (unsigned long long)a * b;
    hi = (unsigned int)(p >> 32);
    return (unsigned int)p;
}

// Ten rounds of Philox4x32 on counter c under key (k0, k1); the key is bumped between rounds.
__device__ __forceinline__ Philox4 philox4x32_10(Philox4 c, unsigned int k0, unsigned int k1) {
#pragma unroll
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        unsigned int hi0, hi1;
        unsigned int lo0 = mulhilo(PHILOX_M0, c.x, hi0);
        unsigned int lo1 = mulhilo(PHILOX_M1, c.z, hi1);
        c = Philox4{hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
    }
    return c;
}

template <typename T>
__device__ __forceinline__ void mask_body(int n, T* __restrict__ out, long long seed, long long threshold, T kept) {
    unsigned int k0 = (unsigned int)(unsigned long long)seed;
    unsigned int k1 = (unsigned int)((unsigned long long)seed >> 32);
    unsigned long long limit = (unsigned long long)threshold;
    unsigned int blocks = ((unsigned int)n + 3u) / 4u;
    GRID_STRIDE_LOOP(b, blocks) {
        Philox4 r = philox4x32_10(Philox4{b, 0u, 0u, 0u}, k0, k1);
        unsigned int i = b * 4u;
        // Consecutive threads write consecutive groups of four: one contiguous span per warp.
        out[i] = r.x < limit ? kept : T(0);
        if (i + 1 < (unsigned int)n) out[i + 1] = r.y < limit ? kept : T(0);
        if (i + 2 < (unsigned int)n) out[i + 2] = r.z < limit ? kept : T(0);
        if (i + 3 < (unsigned int)n) out[i + 3] = r.w < limit ? kept : T(0);
    }
}

extern "C" __global__ void dropout_mask_f32(int n, float* __restrict__ out, long long seed, long long threshold, float kept) {
    mask_body(n, out, seed, threshold, kept);
}

extern "C" __global__ void dropout_mask_f64(int n, double* __restrict__ out, long long seed, long long threshold, double kept) {
    mask_body(n, out, seed, threshold, kept);
}

// The raw generator, for known-answer tests and callers that want random bits: row i of io is
// {c0, c1, c2, c3, k0, k1} on input and starts with the four output words on return.
extern "C" __global__ void philox4x32_10_rows(int rows, unsigned int* __restrict__ io) {
    GRID_STRIDE_LOOP(i, rows) {
        unsigned int* row = io + 6 * i;
        Philox4 r = philox4x32_10(Philox4{row[0], row[1], row[2], row[3]}, row[4], row[5]);
        row[0] = r.x;
        row[1] = r.y;
        row[2] = r.z;
        row[3] = r.w;
    }
}
