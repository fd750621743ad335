// CPU emulation of the PTX that tensor_core.cuh wraps (mma.sync m16n8k8 TF32 and m16n8k16 BF16 /
// FP16, cvt.rn to bf16x2 / f16x2, cp.async, dynamic shared memory); tensor_core.cuh includes this
// file instead of its inline assembly when compiled into the emulator.
//
// Stricter than the hardware where the hardware would silently give wrong numbers:
//   * tc_mma_tf32 is warp-collective (a lane that skips it is reported) and rejects an operand
//     whose low 13 bits are not zero (a kernel that forgot tc_to_tf32);
//   * tc_pack_bf16x2 / tc_pack_f16x2 round to nearest even as cvt.rn does (fp16: past 65504 to
//     infinity, below 2^-24 to zero or a subnormal); the m16n8k16 products of the rounded halves are
//     exact in float and accumulate in float;
//   * tc_cp_async16 copies nothing when it is issued: a thread's copies land only when that thread
//     waits for their group (tc_cp_wait), so reading a stage before waiting reads stale data (the
//     dynamic shared memory starts as NaN bytes in every block); source and destination must be
//     16-byte aligned and the source inside a live allocation;
//   * TC_DYNAMIC_SHARED fails the launch if it asked for no dynamic shared memory.
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda_emu.h"
#include "mma.h"

namespace emu {
// Implemented in emu_main.cpp.
void* dynamic_shared();
void cp_async16(void* dst, const void* src, bool fill);
void cp_async_commit();
void cp_async_wait(int pending);
void mma_tf32_m16n8k8(float* d, const uint32_t* a, const uint32_t* b);
void mma_half_m16n8k16(bool bf16, float* d, const uint32_t* a, const uint32_t* b);

/** float -> bfloat16 bits, round to nearest even (NaN stays a quiet NaN). */
inline uint32_t to_bf16(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/** float -> IEEE binary16 bits, round to nearest even (GCC's _Float16 conversion does exactly that). */
inline uint32_t to_f16(float v) {
    _Float16 h = static_cast<_Float16>(v);
    uint16_t u;
    std::memcpy(&u, &h, 2);
    return u;
}
}  // namespace emu

inline uint32_t tc_to_tf32(float v) {
    float r = nvcuda::wmma::__float_to_tf32(v);
    uint32_t u;
    std::memcpy(&u, &r, 4);
    return u;
}

// The device's bits + 0x1000 (low bits left for the tensor cores to drop) as the exact tf32 value, so
// the strict operand check of mma_tf32_m16n8k8 still catches a kernel that skips the rounding.
inline uint32_t tc_tf32_bits(float v) { return tc_to_tf32(v); }

inline void tc_mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { emu::mma_tf32_m16n8k8(d, a, b); }

inline uint32_t tc_pack_bf16x2(float lo, float hi) { return emu::to_bf16(lo) | emu::to_bf16(hi) << 16; }

inline uint32_t tc_pack_f16x2(float lo, float hi) { return emu::to_f16(lo) | emu::to_f16(hi) << 16; }

inline void tc_mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { emu::mma_half_m16n8k16(true, d, a, b); }

inline void tc_mma_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { emu::mma_half_m16n8k16(false, d, a, b); }

inline void tc_cp_async16(void* dst, const void* src, bool fill) { emu::cp_async16(dst, src, fill); }

inline void tc_cp_commit() { emu::cp_async_commit(); }

template <int N>
inline void tc_cp_wait() {
    emu::cp_async_wait(N);
}

#define TC_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(emu::dynamic_shared())
