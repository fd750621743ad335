package org.slim4j.kernels;

/**
 * Local response normalisation across channels (TensorFlow's LRN):
 * y = x / (bias + alpha * sum_{c' in [c - r, c + r]} x[c']^2)^beta.
 */
public record LrnSpec(int depthRadius, float bias, float alpha, float beta) {
    /** CifarNet's setting: depth_radius 4, bias 1, alpha 0.001/9, beta 0.75. */
    public static LrnSpec cifarNet() {
        return new LrnSpec(4, 1.0f, (float) (0.001 / 9.0), 0.75f);
    }
}
