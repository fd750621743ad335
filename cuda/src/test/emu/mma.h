// CPU emulation of CUDA's <mma.h> (nvcuda::wmma): the part slim4j's kernels use, the TF32 shape
// m16n16k8 (matrix_a 16x8, matrix_b 8x16, float accumulator 16x16). The emulator's include path
// puts this file where a .cu file's #include <mma.h> finds it.
//
// A fragment holds num_elements values per lane: element e of lane l is element e*32 + l of the
// matrix in row-major order. The real mapping is unspecified, so a kernel may only touch fragments
// through the API (or uniformly, e.g. converting every element); one that assumes a layout gets
// wrong numbers here. Every call is a warp-collective operation: the lanes meet at a warp barrier,
// so a call some lanes of the warp skip is reported (as a divergent __syncwarp). Checked as on the
// device: load/store pointers must be 256-bit aligned and ldm a multiple of 4 floats.
//
// TF32: __float_to_tf32 is cvt.rna.tf32.f32, the conversion CUDA's __float_to_tf32 compiles to on
// sm_80+: round to nearest, ties AWAY from zero (not to even; cvt.rn.tf32 exists only from sm_90),
// keeping 10 explicit mantissa bits, the low 13 bits of the float zero. mma_sync multiplies tf32
// operands exactly (11 x 11 significant bits fit a float) and accumulates in float. The emulator is
// stricter than the hardware (which ignores the low 13 bits): an operand of mma_sync that is not
// tf32 (a kernel that forgot the conversion) is an error.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "cuda_emu.h"

namespace emu {
/** Floats in one of a warp's two mma exchange buffers: matrix_a then matrix_b of the largest shape (m16n8k16). */
constexpr int WMMA_EXCHANGE = 16 * 16 + 16 * 8;
// Implemented in emu_main.cpp.
float* wmma_exchange();                       // this warp's buffer for the calling lane's next mma_sync
void kernel_error(const std::string& msg);   // fails the launch, naming the block and thread
}  // namespace emu

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static_assert(sizeof(Use) == 0, "the wmma emulation supports m16n16k8 tf32 fragments only");
};

template <typename Layout>
struct fragment<matrix_a, 16, 16, 8, precision::tf32, Layout> {
    static constexpr int rows = 16, cols = 8, num_elements = 4;
    float x[num_elements];
};

template <typename Layout>
struct fragment<matrix_b, 16, 16, 8, precision::tf32, Layout> {
    static constexpr int rows = 8, cols = 16, num_elements = 4;
    float x[num_elements];
};

template <>
struct fragment<accumulator, 16, 16, 8, float, void> {
    static constexpr int rows = 16, cols = 16, num_elements = 8;
    float x[num_elements];
};

inline float __float_to_tf32(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u += 0x1000u;  // half of the dropped part's unit: ties go away from zero (sign-magnitude)
    }
    u &= 0xffffe000u;  // a carry into the exponent is the correctly rounded (possibly infinite) value
    float r;
    std::memcpy(&r, &u, 4);
    return r;
}

namespace detail {
inline void check_pointer(const char* op, const void* p, unsigned ldm) {
    if (reinterpret_cast<uintptr_t>(p) % 32 != 0) emu::kernel_error(std::string(op) + ": pointer not 256-bit aligned");
    if (ldm % 4 != 0) emu::kernel_error(std::string(op) + ": ldm " + std::to_string(ldm) + " is not a multiple of 4 floats");
}

/** Row and column of the calling lane's element e in a rows x cols fragment. */
inline void position(int e, int cols, int& r, int& c) {
    int idx = e * 32 + emu::lane_id();
    r = idx / cols;
    c = idx % cols;
}

inline bool is_tf32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return (u & 0x7f800000u) == 0x7f800000u || (u & 0x1fffu) == 0;
}
}  // namespace detail

template <typename Use, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, 8, precision::tf32, Layout>& f, const float* p, unsigned ldm) {
    static_assert(std::is_same_v<Layout, row_major> || std::is_same_v<Layout, col_major>, "matrix_a/b fragments need a layout");
    detail::check_pointer("wmma::load_matrix_sync", p, ldm);
    emu::sync_warp();
    using F = fragment<Use, 16, 16, 8, precision::tf32, Layout>;
    for (int e = 0; e < F::num_elements; e++) {
        int r, c;
        detail::position(e, F::cols, r, c);
        f.x[e] = std::is_same_v<Layout, row_major> ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
    }
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 8, float>& f, unsigned ldm, layout_t layout) {
    detail::check_pointer("wmma::store_matrix_sync", p, ldm);
    emu::sync_warp();
    for (int e = 0; e < 8; e++) {
        int r, c;
        detail::position(e, 16, r, c);
        (layout == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r]) = f.x[e];
    }
}

template <typename Use, typename T, typename Layout>
inline void fill_fragment(fragment<Use, 16, 16, 8, T, Layout>& f, float v) {
    emu::sync_warp();
    for (float& x : f.x) x = v;
}

/** d = a x b + c: the warp publishes its a and b elements, meets at a barrier, and each lane computes its d elements. */
template <typename LA, typename LB>
inline void mma_sync(fragment<accumulator, 16, 16, 8, float>& d, const fragment<matrix_a, 16, 16, 8, precision::tf32, LA>& a,
                     const fragment<matrix_b, 16, 16, 8, precision::tf32, LB>& b, const fragment<accumulator, 16, 16, 8, float>& c) {
    float* buf = emu::wmma_exchange();
    for (int e = 0; e < 4; e++) {
        if (!detail::is_tf32(a.x[e]) || !detail::is_tf32(b.x[e])) {
            emu::kernel_error("wmma::mma_sync: a tf32 operand has nonzero low 13 bits (convert with wmma::__float_to_tf32)");
        }
        buf[e * 32 + emu::lane_id()] = a.x[e];        // a[r][k] at r * 8 + k
        buf[128 + e * 32 + emu::lane_id()] = b.x[e];  // b[k][n] at 128 + k * 16 + n
    }
    emu::sync_warp();
    for (int e = 0; e < 8; e++) {
        int r, col;
        detail::position(e, 16, r, col);
        float s = c.x[e];
        for (int k = 0; k < 8; k++) s += buf[r * 8 + k] * buf[128 + k * 16 + col];  // exact products of tf32 values
        d.x[e] = s;
    }
}

}  // namespace wmma
}  // namespace nvcuda
