package org.slim4j.tools.train;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.slim4j.tools.Main;

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

    /**
     * A fashion_mnist dataset of {@code train} / {@code test} patterned examples in {@code tmp/data}:
     * IDX files in {@code tmp/src} converted by {@code download_and_convert_data --source}.
     */
    public static Path fashionMnist(Path tmp, int train, int test) throws IOException {
        Path src = tmp.resolve("src");
        write(src, "train", train);
        write(src, "t10k", test);
        Path data = tmp.resolve("data");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"download_and_convert_data", "--dataset_name=fashion_mnist", "--dataset_dir=" + data,
            "--source=" + src}, new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        if (status != Main.EXIT_OK) {
            throw new IllegalStateException("download_and_convert_data exited " + status + ": " + err.toString(StandardCharsets.UTF_8));
        }
        return data;
    }
}
