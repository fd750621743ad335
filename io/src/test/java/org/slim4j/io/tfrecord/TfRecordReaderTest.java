package org.slim4j.io.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.MaskedCrc32c;
import org.slim4j.tensor.testing.GoldenData;

class TfRecordReaderTest {
    static final Path GOLDEN = GoldenData.goldenDir().resolve("tfrecord");

    @TempDir
    Path tmp;

    static JsonNode manifest() throws IOException {
        return new ObjectMapper().readTree(GOLDEN.resolve("manifest.json").toFile());
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** One framed record, written here independently of TfRecordWriter. */
    static byte[] frame(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(data.length);
        b.putInt(MaskedCrc32c.maskedCrc(b.array(), 0, 8));
        b.put(data);
        b.putInt(MaskedCrc32c.maskedCrc(data));
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    // ---- the TensorFlow-written golden files -------------------------------------------------

    @Test
    void readsTheThreeGoldenFilesAsTheManifestSays() throws IOException {
        JsonNode m = manifest();
        assertEquals(8, m.get("count").asInt());
        for (JsonNode f : m.get("files")) {
            Path file = GOLDEN.resolve(f.get("file").asText());
            Compression expected = Compression.fromName(f.get("compression_type").asText());
            assertEquals(expected, Compression.detect(file), "detected compression of " + file);
            assertEquals(f.get("sha256").asText(), sha256(Files.readAllBytes(file)), "golden file changed: " + file);
            for (TfRecordReader.Options o : List.of(TfRecordReader.Options.defaults(), TfRecordReader.Options.defaults().compression(expected))) {
                try (TfRecordReader r = TfRecordReader.open(file, o)) {
                    assertEquals(expected, r.compression());
                    List<TfRecord> recs = r.readAll();
                    assertEquals(8, recs.size(), file.toString());
                    long offset = 0;
                    for (int i = 0; i < 8; i++) {
                        JsonNode want = m.get("records").get(i);
                        TfRecord rec = recs.get(i);
                        assertEquals(i, rec.index());
                        assertEquals(offset, rec.offset(), "offset of record " + i);
                        assertEquals(want.get("bytes").asInt(), rec.length());
                        assertEquals(want.get("sha256").asText(), sha256(rec.data()), "record " + i + " of " + file);
                        offset += 16 + rec.length();
                    }
                    assertNull(r.next(), "end stays the end");
                    assertEquals(8, r.recordsRead());
                    assertEquals(0, r.skippedRecords());
                }
            }
        }
    }

    @Test
    void iteratorCountAndFromBytes() throws IOException {
        Path file = GOLDEN.resolve("examples.tfrecord.gz");
        int n = 0;
        try (TfRecordReader r = TfRecordReader.open(file)) {
            for (TfRecord rec : r) {
                assertEquals(n++, rec.index());
            }
        }
        assertEquals(8, n);
        assertEquals(8, TfRecordReader.count(file, TfRecordReader.Options.defaults()));
        byte[] zlib = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord.zlib"));
        try (TfRecordReader r = TfRecordReader.fromBytes(zlib, "mem", TfRecordReader.Options.defaults())) {
            assertEquals(Compression.ZLIB, r.compression());
            assertEquals(8, r.readAll().size());
        }
    }

    @Test
    void emptyFileHasNoRecords() throws IOException {
        Path f = Files.write(tmp.resolve("empty.tfrecord"), new byte[0]);
        assertEquals(0, TfRecordReader.readAll(f).size());
    }

    // ---- corruption: strict mode ---------------------------------------------------------------

    private static long offsetOfRecord(byte[] file, int k) {
        long off = 0;
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < k; i++) off += 16 + b.getLong((int) off);
        return off;
    }

    private Path corruptCopy(String name, int byteIndex) throws IOException {
        byte[] b = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        b[byteIndex] ^= 0x20;
        return Files.write(tmp.resolve(name), b);
    }

    @Test
    void dataCrcMismatchNamesFileAndOffset() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        long rec3 = offsetOfRecord(orig, 3);
        Path bad = corruptCopy("data_flip.tfrecord", (int) rec3 + 12 + 100);
        try (TfRecordReader r = TfRecordReader.open(bad)) {
            for (int i = 0; i < 3; i++) assertEquals(i, r.next().index());
            TfRecordException e = assertThrows(TfRecordException.class, r::next);
            assertEquals(rec3, e.offset());
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("data CRC mismatch"), e.getMessage());
            assertTrue(e.getMessage().contains("byte offset " + rec3), e.getMessage());
        }
    }

    @Test
    void lengthCrcMismatchNamesFileAndOffset() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        long rec5 = offsetOfRecord(orig, 5);
        Path bad = corruptCopy("len_flip.tfrecord", (int) rec5 + 9); // inside the length's CRC
        TfRecordException e = assertThrows(TfRecordException.class, () -> TfRecordReader.readAll(bad));
        assertTrue(e.getMessage().contains("length CRC mismatch") && e.getMessage().contains("byte offset " + rec5)
                && e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void truncatedFilesGiveClearErrors() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        long rec6 = offsetOfRecord(orig, 6);
        // Cut inside record 6's data: its verified length runs past the end of the file.
        Path cut = Files.write(tmp.resolve("cut.tfrecord"), Arrays.copyOf(orig, (int) rec6 + 40));
        TfRecordException e = assertThrows(TfRecordException.class, () -> TfRecordReader.readAll(cut));
        assertTrue(e.getMessage().contains("truncated file") && e.getMessage().contains("byte offset " + rec6), e.getMessage());
        // Cut inside record 6's header.
        Path cutHeader = Files.write(tmp.resolve("cut_header.tfrecord"), Arrays.copyOf(orig, (int) rec6 + 7));
        e = assertThrows(TfRecordException.class, () -> TfRecordReader.readAll(cutHeader));
        assertTrue(e.getMessage().contains("truncated record header") && e.getMessage().contains("byte offset " + rec6), e.getMessage());
        // A stream of unknown size cut inside a record: found when the data runs out.
        byte[] cutBytes = Arrays.copyOf(orig, (int) rec6 + 40);
        try (TfRecordReader r = TfRecordReader.fromStream(new java.io.ByteArrayInputStream(cutBytes), "stream",
                TfRecordReader.Options.defaults().compression(Compression.NONE))) {
            e = assertThrows(TfRecordException.class, r::readAll);
            assertTrue(e.getMessage().contains("truncated record") && e.getMessage().contains("stream"), e.getMessage());
        }
    }

    @Test
    void truncatedGzipStreamGivesTheRecordsBeforeThenAClearError() throws IOException {
        byte[] gz = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord.gz"));
        Path cut = Files.write(tmp.resolve("cut.tfrecord.gz"), Arrays.copyOf(gz, gz.length * 3 / 4));
        List<TfRecord> got = new ArrayList<>();
        try (TfRecordReader r = TfRecordReader.open(cut)) {
            assertEquals(Compression.GZIP, r.compression());
            TfRecordException e = assertThrows(TfRecordException.class, () -> {
                for (TfRecord rec = r.next(); rec != null; rec = r.next()) got.add(rec);
            });
            assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("GZIP stream is truncated")
                    && e.getMessage().contains("decompressed stream"), e.getMessage());
        }
        assertTrue(got.size() >= 1 && got.size() < 8, "some records come before the cut: " + got.size());
        List<TfRecord> all = TfRecordReader.readAll(GOLDEN.resolve("examples.tfrecord"));
        for (TfRecord rec : got) assertArrayEquals(all.get((int) rec.index()).data(), rec.data());
    }

    @Test
    void absurdLengthsAreRejectedWithoutAllocating() throws IOException {
        // A length with a valid CRC but far beyond the cap.
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(1L << 40);
        h.putInt(MaskedCrc32c.maskedCrc(h.array(), 0, 8));
        byte[] huge = concat(h.array(), new byte[20]);
        TfRecordException e = assertThrows(TfRecordException.class,
                () -> TfRecordReader.fromBytes(huge, "huge", TfRecordReader.Options.defaults()).readAll());
        assertTrue(e.getMessage().contains("exceeds the maximum") && e.getMessage().contains("huge"), e.getMessage());
        // Below the cap but more than the file holds.
        h.clear();
        h.putLong(900_000_000L);
        h.putInt(MaskedCrc32c.maskedCrc(h.array(), 0, 8));
        byte[] big = concat(frame("ok".getBytes()), h.array(), new byte[50]);
        Path f = Files.write(tmp.resolve("big.tfrecord"), big);
        try (TfRecordReader r = TfRecordReader.open(f)) {
            assertEquals("ok", new String(r.next().data()));
            e = assertThrows(TfRecordException.class, r::next);
            assertTrue(e.getMessage().contains("bytes left in the file") && e.getMessage().contains("byte offset 18"), e.getMessage());
        }
        // The same inside a gzip stream (size unknown): read until the data runs out, then reported.
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(big);
        }
        long t0 = System.nanoTime();
        e = assertThrows(TfRecordException.class,
                () -> TfRecordReader.fromBytes(z.toByteArray(), "big.gz", TfRecordReader.Options.defaults()).readAll());
        assertTrue(e.getMessage().contains("truncated record"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "no hang");
        // maxRecordBytes applies to legitimate files too.
        e = assertThrows(TfRecordException.class, () -> {
            try (TfRecordReader r = TfRecordReader.open(GOLDEN.resolve("examples.tfrecord"),
                    TfRecordReader.Options.defaults().maxRecordBytes(100))) {
                r.readAll();
            }
        });
        assertTrue(e.getMessage().contains("maximum of 100"), e.getMessage());
    }

    // ---- corruption: skip mode -----------------------------------------------------------------

    @Test
    void skipModeDropsARecordWithABadDataCrc() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        long rec3 = offsetOfRecord(orig, 3);
        Path bad = corruptCopy("data_flip.tfrecord", (int) rec3 + 12 + 5);
        List<String> seen = new ArrayList<>();
        try (TfRecordReader r = TfRecordReader.open(bad, TfRecordReader.Options.defaults().skipCorrupt(true).onCorrupt(seen::add))) {
            List<TfRecord> recs = r.readAll();
            assertEquals(7, recs.size());
            assertEquals(offsetOfRecord(orig, 4), recs.get(3).offset(), "the record after the dropped one");
            assertEquals(1, r.skippedRecords());
            assertEquals(1, seen.size());
            assertEquals(seen, r.corruptionReports());
            assertTrue(seen.get(0).contains(bad.toString()) && seen.get(0).contains("byte offset " + rec3)
                    && seen.get(0).contains("data CRC mismatch"), seen.get(0));
        }
    }

    @Test
    void skipModeResynchronisesAfterABadLength() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        List<TfRecord> good = TfRecordReader.readAll(GOLDEN.resolve("examples.tfrecord"));
        long rec2 = offsetOfRecord(orig, 2);
        Path bad = corruptCopy("len_flip.tfrecord", (int) rec2 + 1); // the length itself
        try (TfRecordReader r = TfRecordReader.open(bad, TfRecordReader.Options.defaults().skipCorrupt(true))) {
            List<TfRecord> recs = r.readAll();
            assertEquals(7, recs.size());
            assertEquals(1, r.skippedRecords());
            assertArrayEquals(good.get(3).data(), recs.get(2).data(), "record 3 found again after the bad record 2");
            assertEquals(offsetOfRecord(orig, 3), recs.get(2).offset());
            assertTrue(r.corruptionReports().get(0).contains("length CRC mismatch")
                    && r.corruptionReports().get(0).contains("resumed at byte offset " + offsetOfRecord(orig, 3)), r.corruptionReports().get(0));
        }
    }

    @Test
    void skipModeCountsATruncatedTailAndABrokenStream() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        long rec7 = offsetOfRecord(orig, 7);
        Path cut = Files.write(tmp.resolve("cut.tfrecord"), Arrays.copyOf(orig, (int) rec7 + 20));
        try (TfRecordReader r = TfRecordReader.open(cut, TfRecordReader.Options.defaults().skipCorrupt(true))) {
            assertEquals(7, r.readAll().size());
            assertEquals(1, r.skippedRecords());
        }
        byte[] gz = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord.gz"));
        Path gcut = Files.write(tmp.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        try (TfRecordReader r = TfRecordReader.open(gcut, TfRecordReader.Options.defaults().skipCorrupt(true))) {
            int n = r.readAll().size();
            assertTrue(n > 0 && n < 8, "records before the cut: " + n);
            assertEquals(1, r.skippedRecords(), "the lost remainder counts once: " + r.corruptionReports());
            assertTrue(r.corruptionReports().get(0).contains("GZIP stream is truncated"), r.corruptionReports().get(0));
        }
    }

    @Test
    void iteratorWrapsErrors() throws IOException {
        byte[] orig = Files.readAllBytes(GOLDEN.resolve("examples.tfrecord"));
        Path bad = corruptCopy("x.tfrecord", (int) offsetOfRecord(orig, 1) + 30);
        try (TfRecordReader r = TfRecordReader.open(bad)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> r.forEach(rec -> { }));
            assertTrue(e.getCause() instanceof TfRecordException);
        }
    }

    @Test
    void compressionNames() {
        assertEquals(Compression.NONE, Compression.fromName(""));
        assertEquals(Compression.GZIP, Compression.fromName("gzip"));
        assertEquals(Compression.ZLIB, Compression.fromName("ZLIB"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Compression.fromName("snappy"));
        assertTrue(e.getMessage().contains("snappy"));
        assertEquals(Compression.GZIP, Compression.forFileName(Path.of("a/data_tfrecord-00000-of-00001.gz")));
        assertEquals(Compression.NONE, Compression.forFileName(Path.of("flowers_train-00000-of-00005.tfrecord")));
    }
}
