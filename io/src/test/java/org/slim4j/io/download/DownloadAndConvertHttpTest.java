package org.slim4j.io.download;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.convert.DownloadAndConvert;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.Tensor;

/** download_and_convert_data end to end against a server on 127.0.0.1 serving archives made here. */
class DownloadAndConvertHttpTest {
    @TempDir
    Path tmp;
    TestHttpServer server;
    ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    @BeforeEach
    void start() throws IOException {
        server = new TestHttpServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DownloadAndConvert.Options options(String source) {
        return new DownloadAndConvert.Options(source, false, 2, false, new Downloader(log, false, 5000, 5000, 3));
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(b);
        }
        return o.toByteArray();
    }

    private static byte[] idx(boolean images, int n) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(o);
        d.writeInt(images ? 0x803 : 0x801);
        d.writeInt(n);
        if (images) {
            d.writeInt(28);
            d.writeInt(28);
            byte[] px = new byte[n * 784];
            new java.util.Random(n).nextBytes(px); // incompressible: the .gz is bigger than the drop point
            d.write(px);
        } else {
            for (int i = 0; i < n; i++) d.write(i % 10);
        }
        return gzip(o.toByteArray());
    }

    @Test
    void mnistFromAMirrorWithADroppedConnection() throws IOException {
        server.put("/mnist/train-images-idx3-ubyte.gz", idx(true, 30));
        server.put("/mnist/train-labels-idx1-ubyte.gz", idx(false, 30));
        server.put("/mnist/t10k-images-idx3-ubyte.gz", idx(true, 7));
        server.put("/mnist/t10k-labels-idx1-ubyte.gz", idx(false, 7));
        server.dropAfter = 5000;
        server.dropsLeft.set(1); // the first response (train images) breaks off
        Path out = tmp.resolve("mnist");
        DownloadAndConvert.Result r = DownloadAndConvert.run("mnist", out, options(server.url("/mnist/")), log);
        assertEquals(List.of(30L, 7L), r.files().stream().map(f -> f.records()).toList());
        assertEquals(30, TfRecordReader.count(out.resolve("mnist_train.tfrecord"), TfRecordReader.Options.defaults()));
        assertTrue(server.rangeHeaders.contains("bytes=5000-"), server.rangeHeaders.toString());
        try (var s = Files.list(out)) {
            assertEquals(List.of("labels.txt", "mnist_test.tfrecord", "mnist_train.tfrecord"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "downloads removed after conversion");
        }
    }

    @Test
    void flowersArchiveDownloadedAndExtracted() throws IOException {
        ByteArrayOutputStream tgz = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(tgz))) {
            for (String cls : List.of("daisy", "roses")) {
                for (int k = 0; k < 6; k++) {
                    byte[] jpeg;
                    try (Tensor t = Tensor.ofBytes(new byte[8 * 9 * 3], 8, 9, 3)) {
                        jpeg = ImageEncoder.jpeg(t, 80);
                    }
                    TarArchiveEntry e = new TarArchiveEntry("flower_photos/" + cls + "/" + k + ".jpg");
                    e.setSize(jpeg.length);
                    tar.putArchiveEntry(e);
                    tar.write(jpeg);
                    tar.closeArchiveEntry();
                }
            }
        }
        server.put("/example_images/flower_photos.tgz", tgz.toByteArray());
        Path out = tmp.resolve("flowers");
        DownloadAndConvert.Result r = DownloadAndConvert.run("flowers", out, options(server.url("/example_images/flower_photos.tgz")), log);
        assertEquals(10, r.files().size());
        assertEquals(12, r.files().stream().mapToLong(f -> f.records()).sum(), "12 photos, all in validation (350 > 12)");
        assertEquals("0:daisy\n1:roses\n", Files.readString(out.resolve("labels.txt")));
        assertFalse(Files.exists(out.resolve("flower_photos.tgz")));
        assertFalse(Files.exists(out.resolve(".flowers-extract")));
        assertTrue(DownloadAndConvert.outputsExist("flowers", out));
    }

    @Test
    void unreachableDownloadSaysToUseSource() {
        IOException e = assertThrows(IOException.class, () -> DownloadAndConvert.run("cifar10", tmp.resolve("c"),
                options(server.url("/missing/cifar-10-python.tar.gz")), log));
        assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("--source"), e.getMessage());
    }
}
