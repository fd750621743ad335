package org.slim4j.io.tfrecord;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.slim4j.io.MaskedCrc32c;

/**
 * Feeds the reader damaged TFRecord data (random truncation, bit flips, overwritten bytes, absurd
 * lengths with and without a matching CRC) in every compression. It must always end with either
 * records or a {@link TfRecordException}: never another exception, an OutOfMemoryError or a hang.
 * In skip mode it must never fail, and every record it returns must be one of the originals (the
 * CRCs make anything else practically impossible).
 */
class TfRecordFuzzTest {
    private static final int ITERATIONS_PER_COMPRESSION = 800;

    private static byte[] framed(List<byte[]> recs) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] d : recs) o.writeBytes(TfRecordReaderTest.frame(d));
        return o.toByteArray();
    }

    private static byte[] compress(byte[] framed, Compression c) throws IOException {
        if (c == Compression.NONE) return framed;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (var z = c == Compression.GZIP ? new GZIPOutputStream(o) : new DeflaterOutputStream(o)) {
            z.write(framed);
        }
        return o.toByteArray();
    }

    /** A mutation of {@code src}: which one depends on {@code r}. */
    private static byte[] mutate(byte[] src, Random r, boolean compressed) {
        byte[] b = src.clone();
        switch (r.nextInt(5)) {
            case 0 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncation
            case 1 -> { // a few bit flips
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            }
            case 2 -> { // a run of random bytes
                int at = r.nextInt(b.length), len = Math.min(b.length - at, 1 + r.nextInt(40));
                for (int i = 0; i < len; i++) b[at + i] = (byte) r.nextInt(256);
            }
            case 3 -> { // an absurd length at a record boundary, its CRC fixed or not
                if (compressed) {
                    b[r.nextInt(b.length)] ^= (byte) 0xff;
                    break;
                }
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                int off = 0;
                int k = r.nextInt(5);
                for (int i = 0; i < k && off + 8 <= b.length; i++) off += 16 + (int) bb.getLong(off);
                if (off + 12 > b.length) break;
                long len = switch (r.nextInt(4)) {
                    case 0 -> -1L;
                    case 1 -> 1L << (31 + r.nextInt(32));
                    case 2 -> Integer.MAX_VALUE - r.nextInt(100);
                    default -> b.length + r.nextInt(1 << 20);
                };
                bb.putLong(off, len);
                if (r.nextBoolean()) bb.putInt(off + 8, MaskedCrc32c.maskedCrc(b, off, 8));
            }
            default -> { // duplicated or dropped stretch
                int at = r.nextInt(b.length), len = Math.min(b.length - at, r.nextInt(100));
                byte[] out = new byte[b.length + (r.nextBoolean() ? len : -len)];
                if (out.length > b.length) {
                    System.arraycopy(b, 0, out, 0, at + len);
                    System.arraycopy(b, at, out, at + len, b.length - at);
                } else {
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + len, out, at, b.length - at - len);
                }
                b = out;
            }
        }
        return b;
    }

    @Test
    void damagedInputEndsInRecordsOrAClearError() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random r = new Random(20241126);
            List<byte[]> recs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                byte[] d = new byte[r.nextInt(i == 5 ? 70_000 : 400)];
                r.nextBytes(d);
                recs.add(d);
            }
            Set<String> originals = new HashSet<>();
            for (byte[] d : recs) originals.add(Arrays.toString(d));
            byte[] plain = framed(recs);
            int errors = 0, skippedSome = 0;
            for (Compression c : Compression.values()) {
                byte[] file = compress(plain, c);
                for (int it = 0; it < ITERATIONS_PER_COMPRESSION; it++) {
                    byte[] bad = mutate(file, r, c != Compression.NONE);
                    String name = c + "-fuzz-" + it;
                    // Strict: records, then possibly one TfRecordException.
                    try (TfRecordReader rd = TfRecordReader.fromBytes(bad, name, TfRecordReader.Options.defaults().compression(c))) {
                        for (TfRecord rec = rd.next(); rec != null; rec = rd.next()) {
                            if (!originals.contains(Arrays.toString(rec.data()))) fail(name + ": returned a record that was never written");
                        }
                    } catch (TfRecordException e) {
                        errors++;
                        assertTrue(e.getMessage().startsWith(name + ": ") && e.getMessage().contains("byte offset"), e.getMessage());
                    } catch (Throwable t) {
                        throw new AssertionError(name + ": unexpected " + t, t);
                    }
                    // Skip mode: never fails.
                    try (TfRecordReader rd = TfRecordReader.fromBytes(bad, name,
                            TfRecordReader.Options.defaults().compression(c).skipCorrupt(true))) {
                        for (TfRecord rec = rd.next(); rec != null; rec = rd.next()) {
                            if (!originals.contains(Arrays.toString(rec.data()))) fail(name + ": skip mode returned a record that was never written");
                        }
                        if (rd.skippedRecords() > 0) skippedSome++;
                        assertTrue(rd.corruptionReports().size() == Math.min(100, rd.skippedRecords()));
                    } catch (Throwable t) {
                        throw new AssertionError(name + " (skip mode): unexpected " + t, t);
                    }
                    // Detection on damaged data must not fail either.
                    Compression.detect(bad, bad.length);
                }
            }
            // The mutations really do damage most files.
            assertTrue(errors > ITERATIONS_PER_COMPRESSION, "errors seen: " + errors);
            assertTrue(skippedSome > ITERATIONS_PER_COMPRESSION, "skips seen: " + skippedSome);
        });
    }
}
