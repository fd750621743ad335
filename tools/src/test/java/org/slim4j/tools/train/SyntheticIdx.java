package org.slim4j.tools.train;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** MNIST-style gzip IDX files of patterned 28x28 images (labels 0..9 in turn), for download_and_convert_data --source. */
public final class SyntheticIdx {
    private SyntheticIdx() {
    }

    /** Writes {@code prefix}-images-idx3-ubyte.gz and {@code prefix}-labels-idx1-ubyte.gz with {@code n} examples into {@code dir}. */
    public static void write(Path dir, String prefix, int n) throws IOException {
        Files.createDirectories(dir);
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
            o.writeInt(0x803);
            o.writeInt(n);
            o.writeInt(28);
            o.writeInt(28);
            for (int i = 0; i < n * 784; i++) o.write(i * 7);
        }
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
            o.writeInt(0x801);
            o.writeInt(n);
            for (int i = 0; i < n; i++) o.write(i % 10);
        }
    }
}
