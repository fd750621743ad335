package org.slim4j.io.preprocessing;

import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/** Small images for the preprocessing tests. */
final class TestImages {
    private TestImages() {
    }

    /** A uint8 [h, w, c] image of uniform random bytes. */
    static Tensor randomUint8(long seed, int h, int w, int c) {
        SeededRandom r = new SeededRandom(seed);
        byte[] b = new byte[h * w * c];
        for (int i = 0; i < b.length; i++) b[i] = (byte) r.nextInt(256);
        return Tensor.ofBytes(b, h, w, c);
    }

    /** A uint8 image from unsigned values given row-major. */
    static Tensor uint8(int[] values, int h, int w, int c) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) values[i];
        return Tensor.ofBytes(b, h, w, c);
    }

    static double min(float[] a) {
        double m = Double.POSITIVE_INFINITY;
        for (float v : a) m = Math.min(m, v);
        return m;
    }

    static double max(float[] a) {
        double m = Double.NEGATIVE_INFINITY;
        for (float v : a) m = Math.max(m, v);
        return m;
    }
}
