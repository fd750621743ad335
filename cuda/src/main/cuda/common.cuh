// Helpers shared by slim4j's CUDA kernels.
//
// Conventions of every kernel in this folder:
//   * float32 only; tensors are contiguous row-major (TensorFlow layouts: NHWC activations);
//   * entry points are extern "C" (their PTX names are the names the Java launchers use) and take
//     element counts as int (slim4j tensors hold at most 2^31 - 1 elements);
//   * 1-D kernels use grid-stride loops, so the launcher may cap the grid;
//   * reductions are deterministic: fixed partial sums combined in a fixed order, no float atomics;
//   * blocks that reduce use a multiple of 32 threads (whole warps) and reach every barrier with
//     all their threads (no early return before __syncthreads), which the CPU emulator checks.
#pragma once

#define SLIM4J_MAX_RANK 8
#define FULL_MASK 0xffffffffu

// Grid-stride loop over [0, n). Unsigned arithmetic: i + stride cannot overflow for n < 2^31 and
// a grid capped by the launcher.
#define GRID_STRIDE_LOOP(i, n)                                                         \
    for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned int)(n); \
         i += blockDim.x * gridDim.x)

// Grid-stride loop over the float4 groups q of an n-element run, for kernels whose pointers are all
// 16-byte aligned (the launcher checks, and sizes the grid by n / 4); VEC4_TAIL then covers the
// n % 4 elements past the last whole group, one per thread of the first threads.
#define VEC4_LOOP(q, n) GRID_STRIDE_LOOP(q, (unsigned int)(n) >> 2)
#define VEC4_TAIL(i, n)                                                                                     \
    for (unsigned int i = ((unsigned int)(n) & ~3u) + blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned int)(n); \
         i += blockDim.x * gridDim.x)
#define LOAD4(p, q) (reinterpret_cast<const float4*>(p)[q])
#define STORE4(p, q, v) (reinterpret_cast<float4*>(p)[q] = (v))

__device__ __forceinline__ float warp_sum(float v) {
    // Butterfly: every lane ends with the same total, summed in the same order on every lane.
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// Sum over the block (threadIdx.x only; blockDim.x a multiple of 32, at most 1024). Every thread
// gets the total. scratch: 32 floats of shared memory, reusable right after the call returns.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // a previous call may still be reading scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.f;
    return warp_sum(v);
}
