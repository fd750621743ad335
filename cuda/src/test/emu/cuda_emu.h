// CPU emulation of the CUDA device language, enough to run slim4j's kernels under g++.
//
// A .cu file is compiled as C++ with this header force-included (g++ -include cuda_emu.h). The
// emulator (emu_main.cpp) runs a launch block by block; inside a block every CUDA thread is a
// cooperative fiber (ucontext) on one host thread, so kernel bodies execute exactly as written:
//   * threadIdx/blockIdx/blockDim/gridDim are globals the scheduler sets before resuming a fiber;
//   * __syncthreads() parks the fiber until every thread of the block has arrived;
//   * warp shuffles write the lane's value to a per-warp slot, meet the other lanes of the warp at
//     a warp barrier, then read the source lane's slot (two slot buffers used alternately, so a
//     fast lane's next-but-one shuffle cannot overwrite a value a slow lane has yet to read);
//   * __shared__ variables are function-level statics: one copy, shared by the threads of the
//     block that is running (blocks run one after another);
//   * atomics are plain read-modify-writes (only one fiber runs at a time).
// The emulator is strict where real hardware would be undefined: a barrier that some thread of
// the block (or warp) can no longer reach because it has exited is reported as an error.
#pragma once

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#define SLIM4J_EMU 1

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static
#define __constant__ static
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
};

// float4 as on the device: 16-byte aligned, so UBSan reports a misaligned vector load or store
// (a real GPU faults on one). may_alias: kernels view float arrays in shared memory as float4.
struct __attribute__((aligned(16), may_alias)) float4 {
    float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct __attribute__((aligned(8), may_alias)) float2 {
    float x, y;
};
inline float2 make_float2(float x, float y) { return float2{x, y}; }
struct __attribute__((aligned(16), may_alias)) int4 {
    int x, y, z, w;
};
inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }

// The running fiber's coordinates (set by the scheduler on every switch).
inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
constexpr int warpSize = 32;

namespace emu {
// Implemented in emu_main.cpp.
void sync_block();
void sync_warp();
// Publishes this lane's 8-byte value and returns the value lane src published (src is a lane
// index 0..31 within the warp; out-of-range sources return the caller's own value).
uint64_t warp_exchange(uint64_t mine, int src);
int lane_id();
}  // namespace emu

inline void __syncthreads() { emu::sync_block(); }
inline void __syncwarp(unsigned int = 0xffffffffu) { emu::sync_warp(); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <typename T>
inline T emu_shfl(T v, int src) {
    static_assert(sizeof(T) <= 8, "shuffle of values up to 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    uint64_t got = emu::warp_exchange(bits, src);
    T out;
    std::memcpy(&out, &got, sizeof(T));
    return out;
}

// width (a power of two <= 32) splits the warp into segments, as on the device.
template <typename T>
inline T __shfl_sync(unsigned int, T v, int srcLane, int width = 32) {
    int lane = emu::lane_id();
    int base = lane & ~(width - 1);
    return emu_shfl(v, base + (srcLane & (width - 1)));
}

template <typename T>
inline T __shfl_down_sync(unsigned int, T v, unsigned int delta, int width = 32) {
    int lane = emu::lane_id();
    int seg = lane & (width - 1);
    int src = seg + (int)delta < width ? lane + (int)delta : lane;
    return emu_shfl(v, src);
}

template <typename T>
inline T __shfl_up_sync(unsigned int, T v, unsigned int delta, int width = 32) {
    int lane = emu::lane_id();
    int seg = lane & (width - 1);
    int src = seg - (int)delta >= 0 ? lane - (int)delta : lane;
    return emu_shfl(v, src);
}

template <typename T>
inline T __shfl_xor_sync(unsigned int, T v, int laneMask, int width = 32) {
    int lane = emu::lane_id();
    int src = lane ^ laneMask;
    if ((src & ~(width - 1)) != (lane & ~(width - 1))) src = lane;
    return emu_shfl(v, src);
}

// ---- atomics (one fiber runs at a time, so these are plain updates) ----------------------------
inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
inline int atomicAdd(int* p, int v) { int old = *p; *p = old + v; return old; }
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { unsigned int old = *p; *p = old + v; return old; }
inline int atomicMin(int* p, int v) { int old = *p; if (v < old) *p = v; return old; }
inline int atomicMax(int* p, int v) { int old = *p; if (v > old) *p = v; return old; }
inline int atomicExch(int* p, int v) { int old = *p; *p = v; return old; }
inline int atomicCAS(int* p, int cmp, int v) { int old = *p; if (old == cmp) *p = v; return old; }

// ---- device math that the host library lacks ------------------------------------------------------
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
template <typename T>
inline T __ldg(const T* p) { return *p; }
