// Multi-tensor launches: one kernel updates or reduces many tensors (the optimizer's variables, the
// L2 regularisation of every weight) instead of one launch per tensor. The launcher
// (CudaTensorTable) uploads a table with an entry per tensor; the grid gives each tensor
// ceil(n / MULTI_CHUNK) consecutive blocks, starting at the entry's first_block, and a block finds
// its entry by binary search. Entries are in the launcher's order, so results do not depend on
// scheduling.
#pragma once
#include "common.cuh"

#define MULTI_CHUNK 4096

// 40 bytes, laid out as the launcher's ints: three pointers (unused ones 0), the element count, the
// first block, one float parameter (e.g. a weight decay or a scale), padding.
struct TensorEntry {
    unsigned long long ptr[3];
    int n;
    int first_block;
    float param;
    int pad;
};

// Index of the entry whose blocks include `block`: the last one with first_block <= block.
__device__ __forceinline__ int multi_entry(const TensorEntry* __restrict__ table, int count, int block) {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (table[mid].first_block <= block) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}
