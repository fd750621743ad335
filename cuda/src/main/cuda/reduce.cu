// Reductions (ReduceKernels): sum / mean over any set of axes, sumToShape, l2Loss, argmax, topK.
//
// The launcher splits the input's axes into kept and reduced ones (after merging neighbours with
// the same role and dropping size-1 axes) and passes both lists with their input strides, so an
// output index o and a reduced index r address x[offset(o, kept) + offset(r, reduced)]. Two
// strategies, both deterministic (fixed partial sums, fixed combination order):
//   * reduce_block_f32: one block per output element, its threads stride over the reduced
//     elements; used when the innermost input axis is reduced, so a warp reads contiguous memory
//     (softmax-like rows); with few outputs and long rows (l2Loss, a full sum) each row is cut
//     into slices, a block each (reduce_block_sliced_f32), finished by reduce_finish_f32;
//   * reduce_partial_f32 + reduce_finish_f32: one thread per (output element, slice of the reduced
//     range) writes a partial sum, then one thread per output adds its partials in slice order;
//     used when the innermost axis is kept, so neighbouring threads read neighbouring elements
//     (bias gradient [rows, C] -> [C], global average pooling [N, H*W, C] -> [N, C]).
#include "multi_tensor.cuh"

struct ReduceGeom {
    int keptRank;
    int keptDims[SLIM4J_MAX_RANK];
    int keptStrides[SLIM4J_MAX_RANK];
    int redRank;
    int redDims[SLIM4J_MAX_RANK];
    int redStrides[SLIM4J_MAX_RANK];
};

// Input offset of position p (row-major over dims) of one axis list.
__device__ __forceinline__ int axes_offset(unsigned int p, int rank, const int* dims, const int* strides) {
    int off = 0;
    for (int ax = rank - 1; ax >= 0; ax--) {
        off += (int)(p % (unsigned int)dims[ax]) * strides[ax];
        p /= (unsigned int)dims[ax];
    }
    return off;
}

// out[o] = scale * sum_r f(x[...]), f(v) = v or v*v (square != 0). blockDim.x: a multiple of 32.
extern "C" __global__ void __launch_bounds__(256) reduce_block_f32(int nOut, int nRed, float* __restrict__ out,
                                                                   const float* __restrict__ x, ReduceGeom g,
                                                                   int square, float scale) {
    __shared__ float scratch[32];
    // The loop bound is the same for every thread of the block, so all reach block_sum's barriers.
    for (int o = blockIdx.x; o < nOut; o += gridDim.x) {
        int base = axes_offset(o, g.keptRank, g.keptDims, g.keptStrides);
        float acc = 0.f;
        for (int r = threadIdx.x; r < nRed; r += blockDim.x) {
            float v = x[base + axes_offset(r, g.redRank, g.redDims, g.redStrides)];
            acc += square ? v * v : v;
        }
        float total = block_sum(acc, scratch);
        if (threadIdx.x == 0) out[o] = total * scale;
    }
}

// partial[s * nOut + o] = sum of f(x) over reduced positions [s * chunk, min(nRed, (s + 1) * chunk)),
// one block per (output, slice): reduce_block_f32 for few outputs with long contiguous rows (a full
// sum, l2Loss of a weight), where one block per output would leave the GPU idle. Grid: x the
// outputs, y the slices; reduce_finish_f32 then adds the slices in order (deterministic).
extern "C" __global__ void __launch_bounds__(256) reduce_block_sliced_f32(int nOut, int nRed, int chunk, float* __restrict__ partial,
                                                                          const float* __restrict__ x, ReduceGeom g, int square) {
    __shared__ float scratch[32];
    int o = blockIdx.x;
    int s = blockIdx.y;
    int base = axes_offset(o, g.keptRank, g.keptDims, g.keptStrides);
    int r1 = min(nRed, (s + 1) * chunk);
    float acc = 0.f;
    for (int r = s * chunk + threadIdx.x; r < r1; r += blockDim.x) {
        float v = x[base + axes_offset(r, g.redRank, g.redDims, g.redStrides)];
        acc += square ? v * v : v;
    }
    float total = block_sum(acc, scratch);
    if (threadIdx.x == 0) partial[(size_t)s * nOut + o] = total;
}

// partial[s * nOut + o] = sum of f(x) over reduced positions [s * chunk, min(nRed, (s + 1) * chunk)).
// Grid: x covers the outputs, y the slices.
extern "C" __global__ void reduce_partial_f32(int nOut, int nRed, int chunk, float* __restrict__ partial,
                                              const float* __restrict__ x, ReduceGeom g, int square) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= nOut) return;  // no barriers below
    int s = blockIdx.y;
    int base = axes_offset(o, g.keptRank, g.keptDims, g.keptStrides);
    int r0 = s * chunk;
    int r1 = min(nRed, r0 + chunk);
    float acc = 0.f;
    for (int r = r0; r < r1; r++) {
        float v = x[base + axes_offset(r, g.redRank, g.redDims, g.redStrides)];
        acc += square ? v * v : v;
    }
    partial[(size_t)s * nOut + o] = acc;
}

// out[o] = scale * sum_s partial[s * nOut + o], slices added in order.
extern "C" __global__ void reduce_finish_f32(int nOut, int splits, float* __restrict__ out,
                                             const float* __restrict__ partial, float scale) {
    GRID_STRIDE_LOOP(o, nOut) {
        float acc = 0.f;
        for (int s = 0; s < splits; s++) acc += partial[(size_t)s * nOut + o];
        out[o] = acc * scale;
    }
}

// x viewed as [outer, len, inner]: out[p * inner + i] = index along len of the first maximum (int64).
extern "C" __global__ void argmax_f32(int outer, int len, int inner, long long* __restrict__ out,
                                      const float* __restrict__ x) {
    GRID_STRIDE_LOOP(t, outer * inner) {
        int p = t / inner;
        int i = t % inner;
        const float* base = x + (size_t)p * len * inner + i;
        float best = base[0];
        int bestK = 0;
        for (int k = 1; k < len; k++) {
            float v = base[(size_t)k * inner];
            if (v > best) {  // strict: the first maximum wins
                best = v;
                bestK = k;
            }
        }
        out[t] = bestK;
    }
}

// Top k of each row of c values (rows of x [rows, c]), largest first, ties by lower index: pass j
// picks the largest element that comes after pick j-1 in the order (value desc, index asc), so no
// scratch memory is needed. O(k * c) per row, one thread per row.
extern "C" __global__ void topk_f32(int rows, int c, int k, float* __restrict__ values, int* __restrict__ indices,
                                    const float* __restrict__ x) {
    GRID_STRIDE_LOOP(r, rows) {
        const float* row = x + (size_t)r * c;
        float prevV = 0.f;
        int prevI = -1;
        for (int j = 0; j < k; j++) {
            float bestV = 0.f;
            int bestI = -1;
            for (int q = 0; q < c; q++) {
                float v = row[q];
                bool after = prevI < 0 || v < prevV || (v == prevV && q > prevI);
                if (after && (bestI < 0 || v > bestV)) {
                    bestV = v;
                    bestI = q;
                }
            }
            values[(size_t)r * k + j] = bestV;
            indices[(size_t)r * k + j] = bestI;
            prevV = bestV;
            prevI = bestI;
        }
    }
}

// ---- the L2 loss of many tensors (ReduceKernels.l2LossSum) ------------------------------------------
// l2_multi_partial_f32: each block sums the squares of its MULTI_CHUNK elements of one table entry
// (multi_tensor.cuh; ptr[0] the tensor) into partial[block]. l2_multi_finish_f32 (one block): thread
// t adds entry t's partials in block order in double and scales them by param / 2 (TF's
// scale * l2_loss); thread 0 then adds the entries' terms in table order: out[0] = the sum.
extern "C" __global__ void l2_multi_partial_f32(int count, const TensorEntry* __restrict__ table, float* __restrict__ partial) {
    __shared__ float scratch[32];
    const TensorEntry& e = table[multi_entry(table, count, blockIdx.x)];
    const float* x = reinterpret_cast<const float*>(e.ptr[0]);
    unsigned int start = (unsigned int)(blockIdx.x - e.first_block) * MULTI_CHUNK;
    unsigned int end = min((unsigned int)e.n, start + MULTI_CHUNK);
    float acc = 0.f;
    for (unsigned int i = start + threadIdx.x; i < end; i += blockDim.x) acc += x[i] * x[i];
    float total = block_sum(acc, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// terms: count doubles of scratch (global memory); out: one float.
extern "C" __global__ void l2_multi_finish_f32(int count, int blocks, const TensorEntry* __restrict__ table,
                                               const float* __restrict__ partial, double* __restrict__ terms, float* __restrict__ out) {
    for (int t = threadIdx.x; t < count; t += blockDim.x) {
        int b0 = table[t].first_block;
        int b1 = t + 1 < count ? table[t + 1].first_block : blocks;
        double s = 0.0;
        for (int b = b0; b < b1; b++) s += partial[b];
        terms[t] = s * 0.5 * (double)table[t].param;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0.0;
        for (int t = 0; t < count; t++) total += terms[t];
        out[0] = (float)total;
    }
}
