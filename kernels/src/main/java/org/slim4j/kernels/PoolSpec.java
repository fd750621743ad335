package org.slim4j.kernels;

/** Settings of a 2-D max or average pool, NHWC. */
public record PoolSpec(int kernelH, int kernelW, int strideH, int strideW, Padding padding) {
    public PoolSpec {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("pool kernel and stride must be >= 1");
        }
        if (padding == null) throw new IllegalArgumentException("padding is required");
    }

    public static PoolSpec of(int kernel, int stride, Padding padding) {
        return new PoolSpec(kernel, kernel, stride, stride, padding);
    }
}
