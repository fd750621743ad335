package org.slim4j.kernels;

/** Settings of a 2-D convolution (regular or depthwise), NHWC. */
public record Conv2dSpec(int strideH, int strideW, int dilationH, int dilationW, Padding padding) {
    public Conv2dSpec {
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1) {
            throw new IllegalArgumentException("strides and dilations must be >= 1: " + strideH + "," + strideW + " / " + dilationH + "," + dilationW);
        }
        if (padding == null) throw new IllegalArgumentException("padding is required");
    }

    public static Conv2dSpec of(int stride, Padding padding) {
        return new Conv2dSpec(stride, stride, 1, 1, padding);
    }

    public Conv2dSpec withDilation(int rate) {
        return new Conv2dSpec(strideH, strideW, rate, rate, padding);
    }
}
