// Kernels that exercise the CPU emulator itself (EmulatorSelfTest): barriers, warp shuffles and
// the block reduction of common.cuh, plus deliberately broken kernels whose errors the emulator
// must report. Compiled only into the emulator, never into PTX.
#include <mma.h>

#include "../../main/cuda/common.cuh"
#include "../../main/cuda/tensor_core.cuh"

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

// One warp: out[16x16] = a[16x8] x b[8x16] through the emulated WMMA TF32 API (row-major inputs
// staged in shared memory). convert = 0 skips the tf32 conversion of the fragments (the emulator
// must reject the mma); skipLane >= 0 makes that lane leave before the mma (divergent collective).
extern "C" __global__ void emu_wmma_tf32(float* out, const float* a, const float* b, int convert, int skipLane) {
    using namespace nvcuda;
    __shared__ __align__(32) float as[16 * 8];
    __shared__ __align__(32) float bs[8 * 16];
    __shared__ __align__(32) float cs[16 * 16];
    int lane = threadIdx.x;
    for (int i = lane; i < 128; i += 32) {
        as[i] = a[i];
        bs[i] = b[i];
    }
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
    wmma::fill_fragment(acc, 0.f);
    wmma::load_matrix_sync(fa, as, 8);
    wmma::load_matrix_sync(fb, bs, 16);
    if (convert) {
        for (int e = 0; e < fa.num_elements; e++) fa.x[e] = wmma::__float_to_tf32(fa.x[e]);
        for (int e = 0; e < fb.num_elements; e++) fb.x[e] = wmma::__float_to_tf32(fb.x[e]);
    }
    if (lane == skipLane) return;
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(cs, acc, 16, wmma::mem_row_major);
    __syncwarp();
    for (int i = lane; i < 256; i += 32) out[i] = cs[i];
}

// One warp: d[16x8] = a[16x8] x b[8x8] through tensor_core.cuh's mma.sync, each lane loading its
// fragment elements from row-major global memory by the PTX ISA's m16n8k8 layout (g = lane / 4,
// t = lane % 4). convert = 0 passes the raw float bits (the emulator must reject them).
extern "C" __global__ void emu_mma_m16n8k8(float* d, const float* a, const float* b, int convert) {
    int lane = threadIdx.x, g = lane / 4, t = lane % 4;
    auto bits = [&](float v) { return convert ? tc_to_tf32(v) : __float_as_uint(v); };
    uint32_t af[4] = {bits(a[g * 8 + t]), bits(a[(g + 8) * 8 + t]), bits(a[g * 8 + t + 4]), bits(a[(g + 8) * 8 + t + 4])};
    uint32_t bf[2] = {bits(b[t * 8 + g]), bits(b[(t + 4) * 8 + g])};
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    tc_mma_tf32(acc, af, bf);
    d[g * 8 + 2 * t] = acc[0];
    d[g * 8 + 2 * t + 1] = acc[1];
    d[(g + 8) * 8 + 2 * t] = acc[2];
    d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

// One warp: d[16x8] = a[16x16] x b[16x8] through tensor_core.cuh's m16n8k16 mma.sync, operands rounded
// to bf16 (bf16 = 1) or fp16 (bf16 = 0) and packed in pairs by the PTX ISA's layout (g = lane / 4,
// t = lane % 4; the lower half of a register holds the smaller k).
extern "C" __global__ void emu_mma_m16n8k16(float* d, const float* a, const float* b, int bf16) {
    int lane = threadIdx.x, g = lane / 4, t = lane % 4;
    auto pack = [&](float lo, float hi) { return bf16 ? tc_pack_bf16x2(lo, hi) : tc_pack_f16x2(lo, hi); };
    uint32_t af[4], bf[2];
    for (int i = 0; i < 4; i++) {
        int r = g + (i & 1) * 8, k = 2 * t + (i >= 2 ? 8 : 0);
        af[i] = pack(a[r * 16 + k], a[r * 16 + k + 1]);
    }
    for (int i = 0; i < 2; i++) {
        int k = 2 * t + 8 * i;
        bf[i] = pack(b[k * 8 + g], b[(k + 1) * 8 + g]);
    }
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    if (bf16) tc_mma_bf16(acc, af, bf);
    else tc_mma_f16(acc, af, bf);
    d[g * 8 + 2 * t] = acc[0];
    d[g * 8 + 2 * t + 1] = acc[1];
    d[(g + 8) * 8 + 2 * t] = acc[2];
    d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

// Each thread cp.asyncs in[4 t .. 4 t + 3] into dynamic shared memory (thread 0 with fill = false:
// zeros). wait = 1: waits for its copies, passes a barrier and reads its neighbour's piece into out.
// wait = 0: passes the barrier without waiting and reads its own piece, which in the emulator (a
// thread's copies land at its wait) is still the NaN every block's shared memory starts as.
extern "C" __global__ void emu_cp_async(float* out, const float* in, int wait) {
    TC_DYNAMIC_SHARED(float, tile);
    int t = threadIdx.x, n = blockDim.x;
    tc_cp_async16(tile + 4 * t, in + 4 * t, t != 0);
    tc_cp_commit();
    if (wait) tc_cp_wait<0>();
    __syncthreads();
    int src = wait ? (t + 1) % n : t;
    for (int i = 0; i < 4; i++) out[4 * t + i] = tile[4 * src + i];
    tc_cp_wait<0>();
}
