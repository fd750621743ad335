package org.slim4j.io.convert;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small MNIST-format IDX files (gzip) for converter tests. */
final class Idx {
    private Idx() {
    }

    /** Pixel (i, y, x) of the test images: depends on all three, so mix-ups show. */
    static int pixel(int i, int y, int x) {
        return (i * 31 + y * 7 + x * 3) & 0xff;
    }

    static int label(int i) {
        return (i * 7 + 3) % 10;
    }

    static void write(Path dir, String prefix, int n) throws IOException {
        Files.createDirectories(dir);
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
            o.writeInt(0x803);
            o.writeInt(n);
            o.writeInt(28);
            o.writeInt(28);
            for (int i = 0; i < n; i++) for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) o.write(pixel(i, y, x));
        }
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
            o.writeInt(0x801);
            o.writeInt(n);
            for (int i = 0; i < n; i++) o.write(label(i));
        }
    }

    /** Both splits: train (nTrain) and t10k (nTest). */
    static void writeAll(Path dir, int nTrain, int nTest) throws IOException {
        write(dir, "train", nTrain);
        write(dir, "t10k", nTest);
    }
}
