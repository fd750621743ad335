package org.slim4j.io.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.proto.Example;
import org.slim4j.tensor.testing.GoldenData;

class TfRecordWriterTest {
    @TempDir
    Path tmp;

    private static List<byte[]> randomRecords(long seed) {
        Random r = new Random(seed);
        List<byte[]> recs = new ArrayList<>();
        recs.add(new byte[0]);
        recs.add(new byte[] {42});
        for (int i = 0; i < 20; i++) {
            byte[] b = new byte[r.nextInt(3000)];
            r.nextBytes(b);
            recs.add(b);
        }
        byte[] big = new byte[300_000]; // larger than the reader's initial window
        r.nextBytes(big);
        recs.add(big);
        return recs;
    }

    @Test
    void roundTripsInEveryCompression() throws IOException {
        List<byte[]> recs = randomRecords(7);
        for (Compression c : Compression.values()) {
            Path f = tmp.resolve("rt-" + c + ".tfrecord");
            try (TfRecordWriter w = TfRecordWriter.create(f, c)) {
                for (byte[] b : recs) w.write(b);
                assertEquals(recs.size(), w.records());
            }
            assertEquals(c, Compression.detect(f));
            try (TfRecordReader r = TfRecordReader.open(f, c)) {
                long offset = 0;
                for (int i = 0; i < recs.size(); i++) {
                    TfRecord got = r.next();
                    assertArrayEquals(recs.get(i), got.data(), c + " record " + i);
                    assertEquals(offset, got.offset());
                    offset += 16 + recs.get(i).length;
                }
                assertEquals(null, r.next());
            }
        }
    }

    @Test
    void uncompressedOutputIsByteIdenticalToTensorFlows() throws IOException {
        Path golden = GoldenData.goldenDir().resolve("tfrecord/examples.tfrecord");
        List<TfRecord> recs = TfRecordReader.readAll(golden);
        Path f = tmp.resolve("same.tfrecord");
        try (TfRecordWriter w = TfRecordWriter.create(f)) {
            for (TfRecord r : recs) w.write(Example.parseFrom(r.data())); // via the protobuf overload
        }
        assertArrayEquals(Files.readAllBytes(golden), Files.readAllBytes(f));

        // tensorflow/rust's expected.tfrecord, written by TF's Python TFRecordWriter.
        Path rust = GoldenData.sharedDir().resolve("testdata/tf/rust/test_resources/io/expected.tfrecord");
        Path g = tmp.resolve("fox.tfrecord");
        try (TfRecordWriter w = TfRecordWriter.create(g)) {
            w.write("The Quick Brown Fox".getBytes(StandardCharsets.US_ASCII));
        }
        assertArrayEquals(Files.readAllBytes(rust), Files.readAllBytes(g));
    }

    @Test
    void compressedFilesAreOneStreamOverTheUncompressedFraming() throws IOException {
        List<byte[]> recs = randomRecords(3);
        recs.add("compressible ".repeat(5000).getBytes(StandardCharsets.US_ASCII));
        Path plain = tmp.resolve("p.tfrecord");
        Path gz = tmp.resolve("p.tfrecord.gz");
        Path zl = tmp.resolve("p.tfrecord.zlib");
        for (Path p : List.of(plain, gz, zl)) {
            try (TfRecordWriter w = TfRecordWriter.create(p, Compression.forFileName(p))) {
                for (byte[] b : recs) w.write(b, 0, b.length);
            }
        }
        byte[] framed = Files.readAllBytes(plain);
        assertArrayEquals(framed, inflateAll(new GZIPInputStream(new ByteArrayInputStream(Files.readAllBytes(gz)))));
        assertArrayEquals(framed, inflateAll(new InflaterInputStream(new ByteArrayInputStream(Files.readAllBytes(zl)))));
        byte[] zb = Files.readAllBytes(zl);
        assertEquals(0x78, zb[0] & 0xff, "zlib header (RFC 1950)");
        assertTrue(Files.size(gz) < framed.length - 50_000 && Files.size(zl) < framed.length - 50_000, "compressed");
    }

    private static byte[] inflateAll(InputStream in) throws IOException {
        try (in) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            in.transferTo(o);
            return o.toByteArray();
        }
    }

    @Test
    void atomicReplaceAndAbort() throws IOException {
        Path f = tmp.resolve("shard-00000-of-00001");
        Files.writeString(f, "old contents");
        TfRecordWriter w = TfRecordWriter.create(f);
        w.write("new".getBytes());
        assertEquals("old contents", Files.readString(f), "target untouched until close");
        assertEquals(2, listDir().size(), "target plus a temporary file");
        w.close();
        assertEquals(1, listDir().size(), "temporary file renamed");
        assertEquals("new", new String(TfRecordReader.readAll(f).get(0).data()));

        TfRecordWriter a = TfRecordWriter.create(f, Compression.GZIP);
        a.write("discarded".getBytes());
        a.abort();
        a.close(); // harmless after abort
        assertEquals(1, listDir().size());
        assertEquals("new", new String(TfRecordReader.readAll(f).get(0).data()), "abort leaves the target as it was");
        assertThrows(IllegalStateException.class, () -> a.write(new byte[1]));

        Path fresh = tmp.resolve("sub/dir/new.tfrecord");
        try (TfRecordWriter n = TfRecordWriter.create(fresh, Compression.ZLIB)) {
            assertFalse(Files.exists(fresh));
            n.write(new byte[10]);
        }
        assertEquals(1, TfRecordReader.readAll(fresh).size());
    }

    @Test
    void badArguments() throws IOException {
        try (TfRecordWriter w = TfRecordWriter.create(tmp.resolve("x.tfrecord"))) {
            assertThrows(IndexOutOfBoundsException.class, () -> w.write(new byte[4], 2, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> w.write(new byte[4], -1, 1));
            w.write(new byte[4], 1, 2);
            assertEquals(1, w.records());
            assertEquals(18, w.bytesWritten());
        }
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
