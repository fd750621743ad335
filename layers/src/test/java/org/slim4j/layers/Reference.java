package org.slim4j.layers;

import org.slim4j.kernels.Padding;

/** Plain float64 loops of the TF ops the layer tests check against (NHWC, HWIO). */
final class Reference {
    private Reference() {
    }

    /** Regular conv; x [n, h, w, c] flat, f [kh, kw, c, o] flat. */
    static double[] conv2d(double[] x, int[] xd, double[] f, int[] fd, int stride, int rate, Padding padding, int[] outDims) {
        int n = xd[0], h = xd[1], w = xd[2], c = xd[3];
        int kh = fd[0], kw = fd[1], o = fd[3];
        Padding.Window wh = padding.window(h, kh, stride, rate);
        Padding.Window ww = padding.window(w, kw, stride, rate);
        int oh = wh.outSize(), ow = ww.outSize();
        outDims[0] = n;
        outDims[1] = oh;
        outDims[2] = ow;
        outDims[3] = o;
        double[] y = new double[n * oh * ow * o];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    for (int q = 0; q < o; q++) {
                        double s = 0;
                        for (int di = 0; di < kh; di++) {
                            int r = i * stride + di * rate - wh.padBefore();
                            if (r < 0 || r >= h) continue;
                            for (int dj = 0; dj < kw; dj++) {
                                int col = j * stride + dj * rate - ww.padBefore();
                                if (col < 0 || col >= w) continue;
                                for (int p = 0; p < c; p++) {
                                    s += x[((b * h + r) * w + col) * c + p] * f[((di * kw + dj) * c + p) * o + q];
                                }
                            }
                        }
                        y[((b * oh + i) * ow + j) * o + q] = s;
                    }
                }
            }
        }
        return y;
    }

    /** Depthwise conv; f [kh, kw, c, m], output channel p*m + q. */
    static double[] depthwise(double[] x, int[] xd, double[] f, int[] fd, int stride, Padding padding, int[] outDims) {
        int n = xd[0], h = xd[1], w = xd[2], c = xd[3];
        int kh = fd[0], kw = fd[1], m = fd[3];
        Padding.Window wh = padding.window(h, kh, stride, 1);
        Padding.Window ww = padding.window(w, kw, stride, 1);
        int oh = wh.outSize(), ow = ww.outSize();
        outDims[0] = n;
        outDims[1] = oh;
        outDims[2] = ow;
        outDims[3] = c * m;
        double[] y = new double[n * oh * ow * c * m];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    for (int p = 0; p < c; p++) {
                        for (int q = 0; q < m; q++) {
                            double s = 0;
                            for (int di = 0; di < kh; di++) {
                                int r = i * stride + di - wh.padBefore();
                                if (r < 0 || r >= h) continue;
                                for (int dj = 0; dj < kw; dj++) {
                                    int col = j * stride + dj - ww.padBefore();
                                    if (col < 0 || col >= w) continue;
                                    s += x[((b * h + r) * w + col) * c + p] * f[((di * kw + dj) * c + p) * m + q];
                                }
                            }
                            y[((b * oh + i) * ow + j) * c * m + p * m + q] = s;
                        }
                    }
                }
            }
        }
        return y;
    }

    /** Adds bias over the last axis and applies relu when asked, in place. */
    static double[] biasRelu(double[] y, double[] bias, boolean relu) {
        for (int i = 0; i < y.length; i++) {
            double v = y[i] + (bias == null ? 0 : bias[i % bias.length]);
            y[i] = relu ? Math.max(0, v) : v;
        }
        return y;
    }

    /** Max pool (VALID). */
    static double[] maxPoolValid(double[] x, int[] xd, int k, int stride) {
        int n = xd[0], h = xd[1], w = xd[2], c = xd[3];
        int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
        double[] y = new double[n * oh * ow * c];
        for (int b = 0; b < n; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int p = 0; p < c; p++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int di = 0; di < k; di++)
                            for (int dj = 0; dj < k; dj++) m = Math.max(m, x[((b * h + i * stride + di) * w + j * stride + dj) * c + p]);
                        y[((b * oh + i) * ow + j) * c + p] = m;
                    }
        return y;
    }

    /** [m, k] x [k, n]. */
    static double[] matmul(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        return c;
    }
}
