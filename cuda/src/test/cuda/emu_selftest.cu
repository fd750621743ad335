// Kernels that exercise the CPU emulator itself (EmulatorSelfTest): barriers, warp shuffles and
// the block reduction of common.cuh, plus deliberately broken kernels whose errors the emulator
// must report. Compiled only into the emulator, never into PTX.
#include "../../main/cuda/common.cuh"

// out[i] = in[n - 1 - i] within one block of n threads: correct only if __syncthreads() really
// waits for every thread's store.
extern "C" __global__ void emu_reverse_block(int n, float* out, const float* in) {
    __shared__ float tile[1024];
    int t = threadIdx.x;
    tile[t] = in[blockIdx.x * n + t];
    __syncthreads();
    out[blockIdx.x * n + t] = tile[n - 1 - t];
}

// out[i] = in[i + delta] within each warp (its own value past the end of the warp), for i in the block.
extern "C" __global__ void emu_shfl_down(float* out, const float* in, int delta) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = __shfl_down_sync(FULL_MASK, in[i], delta);
}

// out[b] = sum of the block's inputs via block_sum; also every thread's copy must agree (checked by
// writing thread 0's and the last thread's results).
extern "C" __global__ void emu_block_sum(float* out, const float* in) {
    __shared__ float scratch[32];
    float v = in[blockIdx.x * blockDim.x + threadIdx.x];
    float s = block_sum(v, scratch);
    float s2 = block_sum(2.f * v, scratch);  // reusing scratch right away must be safe
    if (threadIdx.x == 0) out[2 * blockIdx.x] = s;
    if (threadIdx.x == blockDim.x - 1) out[2 * blockIdx.x + 1] = s2;
}

// Broken on purpose: half the block returns before a barrier the other half waits at.
extern "C" __global__ void emu_divergent_barrier(float* out) {
    if (threadIdx.x < 16) return;
    __syncthreads();
    out[threadIdx.x] = 1.f;
}

// Broken on purpose: reads one element past the end of `in` (n elements). AddressSanitizer in
// the emulator must stop it.
extern "C" __global__ void emu_read_past_end(int n, float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i + 1];
}
