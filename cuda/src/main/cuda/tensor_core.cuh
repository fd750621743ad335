// Tensor-core and asynchronous-copy primitives of sm_80+ as small inline functions over PTX:
//   tc_to_tf32     cvt.rna.tf32.f32: float -> tf32 bits (round to nearest, ties away from zero)
//   tc_tf32_bits   the same rounding for an mma operand in one integer add: bits + 0x1000 carries into
//                  bit 13 exactly when cvt.rna rounds up, and mma.sync ignores a tf32 operand's low 13
//                  bits (cvt.rna is slower: 10-20% of a convolution's time on an H200)
//   tc_mma_tf32    mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, d += a x b (per-lane fragments:
//                  g = lane / 4, t = lane % 4; a0 (g, t) a1 (g+8, t) a2 (g, t+4) a3 (g+8, t+4) of A 16x8,
//                  b0 (t, g) b1 (t+4, g) of B 8x8, d0 (g, 2t) d1 (g, 2t+1) d2 (g+8, 2t) d3 (g+8, 2t+1))
//   tc_pack_bf16x2 / tc_pack_f16x2   cvt.rn.{bf16x2,f16x2}.f32: two floats rounded to nearest even into one
//                  register, lo in the low half (the element with the smaller k index of an mma fragment)
//   tc_mma_bf16 / tc_mma_f16   mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.{bf16,f16}.f32, d += a x b,
//                  products and sums in float (per-lane pairs: a0 (g, 2t..2t+1) a1 (g+8, 2t..) a2 (g, 2t+8..)
//                  a3 (g+8, 2t+8..) of A 16x16, b0 (2t..2t+1, g) b1 (2t+8..2t+9, g) of B 16x8, d as m16n8k8)
//   tc_cp_async16  cp.async.cg of 16 bytes global -> shared (fill false: 16 zero bytes, nothing read)
//   tc_cp_commit / tc_cp_wait<N>   close the thread's group of copies / wait until at most N groups
//                  are in flight (a __syncthreads() after the wait makes every thread's copies visible)
//   TC_DYNAMIC_SHARED(T, name)     the launch's dynamic shared memory as T* name
// In the emulator (SLIM4J_EMU) the same names come from src/test/emu/tensor_core_emu.h.
#pragma once

#ifdef SLIM4J_EMU
#include "tensor_core_emu.h"
#else
#include <stdint.h>

__device__ __forceinline__ uint32_t tc_to_tf32(float v) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));
    return r;
}

__device__ __forceinline__ uint32_t tc_tf32_bits(float v) { return __float_as_uint(v) + 0x1000u; }

__device__ __forceinline__ void tc_mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ uint32_t tc_pack_bf16x2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ uint32_t tc_pack_f16x2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ void tc_mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void tc_mma_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void tc_cp_async16(void* dst, const void* src, bool fill) {
    unsigned s = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(src), "r"(fill ? 16 : 0) : "memory");
}

__device__ __forceinline__ void tc_cp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

template <int N>
__device__ __forceinline__ void tc_cp_wait() {
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

#define TC_DYNAMIC_SHARED(T, name) extern __shared__ __align__(16) T name[]
#endif
