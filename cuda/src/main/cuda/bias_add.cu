// BiasAdd (BiasAddKernels.biasAdd): x is read as rows of C channels (NHWC: the channel axis is
// last and contiguous), y[r, c] = x[r, c] + bias[c]. The gradient (sum of dy over the rows) is a
// column sum and runs on the reduction kernels of reduce.cu.
#include "common.cuh"

extern "C" __global__ void bias_add_f32(int n, int c, float* __restrict__ y, const float* __restrict__ x,
                                        const float* __restrict__ bias) {
    GRID_STRIDE_LOOP(i, n) {
        y[i] = x[i] + bias[i % (unsigned int)c];
    }
}
