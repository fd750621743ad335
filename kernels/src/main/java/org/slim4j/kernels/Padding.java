package org.slim4j.kernels;

/**
 * TensorFlow's padding schemes. SAME: out = ceil(in / stride), total padding
 * max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0), of which floor(total / 2) goes
 * before and the extra row/column after (bottom/right). VALID: no padding,
 * out = ceil((in - (k - 1) * dilation) / stride).
 */
public enum Padding {
    SAME,
    VALID;

    /** Output size and padding along one spatial axis. */
    public record Window(int outSize, int padBefore, int padAfter) {
    }

    public Window window(int inSize, int kernel, int stride, int dilation) {
        if (stride < 1 || dilation < 1 || kernel < 1) {
            throw new IllegalArgumentException("kernel " + kernel + ", stride " + stride + ", dilation " + dilation + " must be >= 1");
        }
        int effective = (kernel - 1) * dilation + 1;
        if (this == VALID) {
            int out = inSize >= effective ? (inSize - effective) / stride + 1 : 0;
            if (out <= 0) {
                throw new IllegalArgumentException("VALID window of effective size " + effective + " does not fit input size " + inSize);
            }
            return new Window(out, 0, 0);
        }
        int out = (inSize + stride - 1) / stride;
        int total = Math.max((out - 1) * stride + effective - inSize, 0);
        return new Window(out, total / 2, total - total / 2);
    }

    /** Parses TensorFlow's attribute value "SAME" / "VALID" (case-insensitive). */
    public static Padding parse(String s) {
        return switch (s.toUpperCase(java.util.Locale.ROOT)) {
            case "SAME" -> SAME;
            case "VALID" -> VALID;
            default -> throw new IllegalArgumentException("padding must be SAME or VALID, got '" + s + "'");
        };
    }
}
