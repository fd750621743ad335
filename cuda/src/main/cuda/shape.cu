// Shape ops (ShapeKernels): concat, split, pad, slice, transpose, for any dtype. The kernels never
// look at values: they move "units" of 1, 2, 4, 8 or 16 bytes, and the launcher picks the widest
// unit that divides every byte count, offset and address of the call (a float32 concat along
// channels of 64 moves 16-byte units; a uint8 slice of 3 channels moves bytes). Each kernel has
// one extern "C" entry per unit size, named <op>_u<bytes>.
//
// Layouts are row-major and contiguous; the launcher merges neighbouring axes that move together,
// so the kernels see at most SLIM4J_MAX_RANK axes:
//   * concat / split: one piece per blockIdx.y; the output (concat) or input (split) is
//     [rows, total] units and piece k is [rows, run_k] placed at column off_k;
//   * slice and transposes that keep the innermost axis: a gather, out[i] = src[sum idx_a * stride_a]
//     over the output's multi-index (writes coalesced; reads too where the innermost source stride
//     is 1, the only case that widens the unit);
//   * pad: out[i] = src[idx - before] inside the box, else the fill value;
//   * index arithmetic divides by launch constants through magic numbers (fast_div), not the
//     divide instruction sequence;
//   * transposes that move the innermost axis: 32x32 tiles through shared memory, read along the
//     input's innermost axis and written along the output's.
#include "common.cuh"

// 16-byte unit (uint4 is not part of the emulated language; a 16-aligned struct loads as one
// 128-bit access all the same).
struct __align__(16) Bytes16 {
    unsigned int a, b, c, d;
};

#define SHAPE_MAX_PIECES 16
#define TILE 32
#define TILE_ROWS 8  // a 256-thread block is 32 x 8: each thread moves 4 elements of a tile

// Division by a launch constant d without the divide instruction sequence: for n < 2^31,
// n / d = (umulhi(n, magic) + n) >> shift with shift = ceil(log2 d) and
// magic = floor(2^32 (2^shift - d) / d) + 1 (Granlund & Montgomery; the launcher computes both).
// umulhi(n, magic) < n, so the sum stays below 2^32.
__device__ __forceinline__ unsigned int fast_div(unsigned int n, unsigned int magic, int shift) {
    unsigned int t = (unsigned int)(((unsigned long long)n * magic) >> 32);
    return (t + n) >> shift;
}

// concat / split: piece k is [rows, run[k]] units at column off[k] of the [rows, total] whole;
// its address is ptrLo[k] | ptrHi[k] << 32; (runMagic[k], runShift[k]) divide by run[k].
struct PieceTable {
    int count;
    int rows;
    int total;
    int run[SHAPE_MAX_PIECES];
    int off[SHAPE_MAX_PIECES];
    unsigned int ptrLo[SHAPE_MAX_PIECES];
    unsigned int ptrHi[SHAPE_MAX_PIECES];
    unsigned int runMagic[SHAPE_MAX_PIECES];
    int runShift[SHAPE_MAX_PIECES];
};

// Output dims (in units on the innermost axis), their dividers, and the source stride of each
// output axis.
struct GatherGeom {
    int rank;
    int dims[SLIM4J_MAX_RANK];
    unsigned int magic[SLIM4J_MAX_RANK];
    int shift[SLIM4J_MAX_RANK];
    int strides[SLIM4J_MAX_RANK];
};

// Output dims and their dividers, and the box [before, before + inDims) that holds the input,
// per axis (units on the innermost axis).
struct PadGeom {
    int rank;
    int dims[SLIM4J_MAX_RANK];
    unsigned int magic[SLIM4J_MAX_RANK];
    int shift[SLIM4J_MAX_RANK];
    int before[SLIM4J_MAX_RANK];
    int inDims[SLIM4J_MAX_RANK];
};

// Tiled transpose: the plane of output-innermost axis A (input stride strideAIn) and input-innermost
// axis B (output stride strideBOut), repeated over the other ("rest") axes.
struct TileGeom {
    int restRank;
    int restDims[SLIM4J_MAX_RANK - 2];
    int restIn[SLIM4J_MAX_RANK - 2];
    int restOut[SLIM4J_MAX_RANK - 2];
    int sizeA, sizeB;
    int strideAIn, strideBOut;
    int tilesA, tilesB;
};

// The fields of piece p. Fully unrolled with constant indices, so the table stays in parameter
// space (a dynamic index would copy it to local memory); p is uniform per block, so this runs once.
struct Piece {
    unsigned int run, off, magic;
    int shift;
    unsigned long long ptr;
};

__device__ __forceinline__ Piece piece(const PieceTable& t, int p) {
    Piece q{0u, 0u, 0u, 0, 0ull};
#pragma unroll
    for (int k = 0; k < SHAPE_MAX_PIECES; k++) {
        if (k == p) {
            q.run = (unsigned int)t.run[k];
            q.off = (unsigned int)t.off[k];
            q.magic = t.runMagic[k];
            q.shift = t.runShift[k];
            q.ptr = (unsigned long long)t.ptrLo[k] | ((unsigned long long)t.ptrHi[k] << 32);
        }
    }
    return q;
}

// Piece blockIdx.y of the table into its columns of out.
template <typename U>
__device__ __forceinline__ void concat_body(U* __restrict__ out, const PieceTable& t) {
    Piece p = piece(t, blockIdx.y);
    const U* __restrict__ src = reinterpret_cast<const U*>(p.ptr);
    unsigned int n = (unsigned int)t.rows * p.run;
    GRID_STRIDE_LOOP(j, n) {
        unsigned int row = fast_div(j, p.magic, p.shift);
        unsigned int col = j - row * p.run;
        out[row * (unsigned int)t.total + p.off + col] = src[j];
    }
}

// The columns of x that belong to piece blockIdx.y, into that piece.
template <typename U>
__device__ __forceinline__ void split_body(const U* __restrict__ x, const PieceTable& t) {
    Piece p = piece(t, blockIdx.y);
    U* __restrict__ dst = reinterpret_cast<U*>(p.ptr);
    unsigned int n = (unsigned int)t.rows * p.run;
    GRID_STRIDE_LOOP(j, n) {
        unsigned int row = fast_div(j, p.magic, p.shift);
        unsigned int col = j - row * p.run;
        dst[j] = x[row * (unsigned int)t.total + p.off + col];
    }
}

template <typename U>
__device__ __forceinline__ void gather_body(int n, U* __restrict__ out, const U* __restrict__ src, const GatherGeom& g) {
    GRID_STRIDE_LOOP(i, n) {
        unsigned int rem = i;
        unsigned int s = 0;
#pragma unroll
        for (int ax = SLIM4J_MAX_RANK - 1; ax >= 0; ax--) {
            if (ax < g.rank) {
                unsigned int q = fast_div(rem, g.magic[ax], g.shift[ax]);
                s += (rem - q * (unsigned int)g.dims[ax]) * (unsigned int)g.strides[ax];
                rem = q;
            }
        }
        out[i] = src[s];
    }
}

template <typename U>
__device__ __forceinline__ void pad_body(int n, U* __restrict__ out, const U* __restrict__ src, const PadGeom& g,
                                         Bytes16 fill) {
    U value;
    memcpy(&value, &fill, sizeof(U));  // the launcher repeats the dtype's bit pattern over all 16 bytes
    GRID_STRIDE_LOOP(i, n) {
        unsigned int rem = i;
        unsigned int s = 0;
        unsigned int stride = 1;
        bool inside = true;
#pragma unroll
        for (int ax = SLIM4J_MAX_RANK - 1; ax >= 0; ax--) {
            if (ax < g.rank) {
                unsigned int q = fast_div(rem, g.magic[ax], g.shift[ax]);
                int idx = (int)(rem - q * (unsigned int)g.dims[ax]) - g.before[ax];
                rem = q;
                inside = inside && idx >= 0 && idx < g.inDims[ax];
                s += (unsigned int)idx * stride;
                stride *= (unsigned int)g.inDims[ax];
            }
        }
        out[i] = inside ? src[s] : value;
    }
}

// One 32x32 tile per block iteration: read rows of the input's innermost axis B into shared
// memory, write rows of the output's innermost axis A. The tile loop is uniform per block, so all
// threads reach both barriers.
template <typename U>
__device__ __forceinline__ void transpose_tiled_body(int tiles, U* __restrict__ out, const U* __restrict__ src,
                                                     const TileGeom& g) {
    __shared__ U tile[TILE][TILE + 1];  // +1: column reads hit 32 different banks
    int tx = threadIdx.x & (TILE - 1);
    int ty = threadIdx.x / TILE;
    int perPlane = g.tilesA * g.tilesB;
    for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
        int rest = t / perPlane;
        int inPlane = t - rest * perPlane;
        int a0 = (inPlane / g.tilesB) * TILE;
        int b0 = (inPlane % g.tilesB) * TILE;
        unsigned int inBase = 0, outBase = 0;
#pragma unroll
        for (int q = SLIM4J_MAX_RANK - 3; q >= 0; q--) {
            if (q < g.restRank) {
                unsigned int idx = (unsigned int)rest % (unsigned int)g.restDims[q];
                rest /= g.restDims[q];
                inBase += idx * (unsigned int)g.restIn[q];
                outBase += idx * (unsigned int)g.restOut[q];
            }
        }
        int b = b0 + tx;
        for (int r = ty; r < TILE; r += TILE_ROWS) {
            int a = a0 + r;
            if (a < g.sizeA && b < g.sizeB) tile[r][tx] = src[inBase + (unsigned int)a * (unsigned int)g.strideAIn + (unsigned int)b];
        }
        __syncthreads();
        int a = a0 + tx;
        for (int r = ty; r < TILE; r += TILE_ROWS) {
            int bb = b0 + r;
            if (a < g.sizeA && bb < g.sizeB) out[outBase + (unsigned int)bb * (unsigned int)g.strideBOut + (unsigned int)a] = tile[tx][r];
        }
        __syncthreads();  // the next tile overwrites the buffer
    }
}

// ---- entry points, one per unit size ---------------------------------------------------------------

extern "C" __global__ void concat_u1(unsigned char* __restrict__ out, PieceTable t) { concat_body(out, t); }
extern "C" __global__ void concat_u2(unsigned short* __restrict__ out, PieceTable t) { concat_body(out, t); }
extern "C" __global__ void concat_u4(unsigned int* __restrict__ out, PieceTable t) { concat_body(out, t); }
extern "C" __global__ void concat_u8(unsigned long long* __restrict__ out, PieceTable t) { concat_body(out, t); }
extern "C" __global__ void concat_u16(Bytes16* __restrict__ out, PieceTable t) { concat_body(out, t); }

extern "C" __global__ void split_u1(const unsigned char* __restrict__ x, PieceTable t) { split_body(x, t); }
extern "C" __global__ void split_u2(const unsigned short* __restrict__ x, PieceTable t) { split_body(x, t); }
extern "C" __global__ void split_u4(const unsigned int* __restrict__ x, PieceTable t) { split_body(x, t); }
extern "C" __global__ void split_u8(const unsigned long long* __restrict__ x, PieceTable t) { split_body(x, t); }
extern "C" __global__ void split_u16(const Bytes16* __restrict__ x, PieceTable t) { split_body(x, t); }

extern "C" __global__ void gather_u1(int n, unsigned char* __restrict__ out, const unsigned char* __restrict__ src, GatherGeom g) {
    gather_body(n, out, src, g);
}
extern "C" __global__ void gather_u2(int n, unsigned short* __restrict__ out, const unsigned short* __restrict__ src, GatherGeom g) {
    gather_body(n, out, src, g);
}
extern "C" __global__ void gather_u4(int n, unsigned int* __restrict__ out, const unsigned int* __restrict__ src, GatherGeom g) {
    gather_body(n, out, src, g);
}
extern "C" __global__ void gather_u8(int n, unsigned long long* __restrict__ out, const unsigned long long* __restrict__ src,
                                     GatherGeom g) {
    gather_body(n, out, src, g);
}
extern "C" __global__ void gather_u16(int n, Bytes16* __restrict__ out, const Bytes16* __restrict__ src, GatherGeom g) {
    gather_body(n, out, src, g);
}

extern "C" __global__ void pad_u1(int n, unsigned char* __restrict__ out, const unsigned char* __restrict__ src, PadGeom g,
                                  Bytes16 fill) {
    pad_body(n, out, src, g, fill);
}
extern "C" __global__ void pad_u2(int n, unsigned short* __restrict__ out, const unsigned short* __restrict__ src, PadGeom g,
                                  Bytes16 fill) {
    pad_body(n, out, src, g, fill);
}
extern "C" __global__ void pad_u4(int n, unsigned int* __restrict__ out, const unsigned int* __restrict__ src, PadGeom g,
                                  Bytes16 fill) {
    pad_body(n, out, src, g, fill);
}
extern "C" __global__ void pad_u8(int n, unsigned long long* __restrict__ out, const unsigned long long* __restrict__ src,
                                  PadGeom g, Bytes16 fill) {
    pad_body(n, out, src, g, fill);
}
extern "C" __global__ void pad_u16(int n, Bytes16* __restrict__ out, const Bytes16* __restrict__ src, PadGeom g, Bytes16 fill) {
    pad_body(n, out, src, g, fill);
}

extern "C" __global__ void transpose_tiled_u1(int tiles, unsigned char* __restrict__ out, const unsigned char* __restrict__ src,
                                              TileGeom g) {
    transpose_tiled_body(tiles, out, src, g);
}
extern "C" __global__ void transpose_tiled_u2(int tiles, unsigned short* __restrict__ out, const unsigned short* __restrict__ src,
                                              TileGeom g) {
    transpose_tiled_body(tiles, out, src, g);
}
extern "C" __global__ void transpose_tiled_u4(int tiles, unsigned int* __restrict__ out, const unsigned int* __restrict__ src,
                                              TileGeom g) {
    transpose_tiled_body(tiles, out, src, g);
}
extern "C" __global__ void transpose_tiled_u8(int tiles, unsigned long long* __restrict__ out,
                                              const unsigned long long* __restrict__ src, TileGeom g) {
    transpose_tiled_body(tiles, out, src, g);
}
