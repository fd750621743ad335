package org.slim4j.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * A convolution layer named the way the peer harness names it:
 * {@code conv<kh>x<kw>[s<stride>]_<cin>to<cout>_<h>x<w>_b<batch>} or
 * {@code dwconv<kh>x<kw>[s<stride>]_<c>ch_<h>x<w>_b<batch>}; SAME padding, NHWC, float32.
 */
record LayerShape(boolean depthwise, int kh, int kw, int stride, int cin, int cout, int h, int w, int batch) {
    private static final Pattern CONV = Pattern.compile("conv(\\d+)x(\\d+)(?:s(\\d+))?_(\\d+)to(\\d+)_(\\d+)x(\\d+)_b(\\d+)");
    private static final Pattern DW = Pattern.compile("dwconv(\\d+)x(\\d+)(?:s(\\d+))?_(\\d+)ch_(\\d+)x(\\d+)_b(\\d+)");

    static LayerShape parse(String name) {
        Matcher m = DW.matcher(name);
        if (m.matches()) {
            int c = Integer.parseInt(m.group(4));
            return new LayerShape(true, i(m, 1), i(m, 2), m.group(3) == null ? 1 : i(m, 3), c, c, i(m, 5), i(m, 6), i(m, 7));
        }
        m = CONV.matcher(name);
        if (m.matches()) {
            return new LayerShape(false, i(m, 1), i(m, 2), m.group(3) == null ? 1 : i(m, 3), i(m, 4), i(m, 5), i(m, 6), i(m, 7), i(m, 8));
        }
        throw new IllegalArgumentException("not a layer name: " + name);
    }

    private static int i(Matcher m, int g) {
        return Integer.parseInt(m.group(g));
    }

    Conv2dSpec spec() {
        return new Conv2dSpec(stride, stride, 1, 1, Padding.SAME);
    }

    int outH() {
        return (h + stride - 1) / stride;
    }

    int outW() {
        return (w + stride - 1) / stride;
    }

    /** The stem (3 input channels) needs no input gradient; the peers skip it too. */
    boolean needsInputGrad() {
        return cin > 3;
    }

    Tensor input(long seed) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(batch, h, w, cin), -1, 1);
    }

    Tensor filter(long seed) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(kh, kw, cin, depthwise ? 1 : cout), -0.1, 0.1);
    }

    Tensor outGrad(long seed) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(batch, outH(), outW(), cout), -1, 1);
    }

    /** Multiply-adds x 2 of the forward pass. */
    double forwardFlop() {
        return 2.0 * batch * outH() * outW() * cout * (depthwise ? 1 : cin) * kh * kw;
    }
}
