package org.slim4j.io.tfrecord;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import org.slim4j.io.MaskedCrc32c;

/**
 * Streams the records of a TFRecord file, as TensorFlow's {@code TFRecordReader} /
 * {@code TFRecordDataset} do. Each record is framed as
 * {@code uint64 length (LE) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data};
 * both CRCs are verified. GZIP and ZLIB files are decompressed on the fly (the whole file is one
 * stream, as TensorFlow writes it). Only a window of the file is held in memory: about the size of
 * the largest record.
 *
 * <p>Bad input never causes an OutOfMemoryError or a hang: a length is trusted only after its CRC
 * matched, it must not exceed {@link Options#maxRecordBytes()} nor, for uncompressed files, the
 * bytes left in the file, and the buffer grows only as data actually arrives. Problems are reported
 * as {@link TfRecordException}s naming the file and byte offset.
 *
 * <p>With {@link Options#skipCorrupt(boolean) skipCorrupt}, corrupt data is skipped instead: a
 * record whose data CRC fails is dropped (its verified length says where the next one starts);
 * after a bad length the reader scans forward byte by byte for the next position where a whole
 * record verifies; a broken compressed stream ends the file. Each skipped stretch counts once in
 * {@link #skippedRecords()} and is described in {@link #corruptionReports()} and to the
 * {@link Options#onCorrupt(Consumer) onCorrupt} callback.
 *
 * <p>Not thread-safe: one reader per thread (slim's parallel readers each own one).
 */
public final class TfRecordReader implements Closeable, Iterable<TfRecord> {
    /** Default cap on one record's length: 1 GiB. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 30;
    /** No Java array can hold more than this (less the framing). */
    public static final int HARD_MAX_RECORD_BYTES = Integer.MAX_VALUE - 64;

    private static final int HEADER = 12;
    private static final int FOOTER = 4;
    private static final int MAX_KEPT_REPORTS = 100;
    private static final int CHUNK = 1 << 16;

    /**
     * Reader settings. {@code compression == null} means: detect it from the file's first bytes
     * ({@link Compression#detect(Path)}).
     */
    public record Options(Compression compression, boolean skipCorrupt, int maxRecordBytes, Consumer<String> onCorrupt) {
        public Options {
            if (maxRecordBytes < 0 || maxRecordBytes > HARD_MAX_RECORD_BYTES) {
                throw new IllegalArgumentException("maxRecordBytes " + maxRecordBytes + " not in [0, " + HARD_MAX_RECORD_BYTES + "]");
            }
        }

        /** Detect compression, fail on corrupt data, records up to 1 GiB. */
        public static Options defaults() {
            return new Options(null, false, DEFAULT_MAX_RECORD_BYTES, null);
        }

        public Options compression(Compression c) {
            return new Options(c, skipCorrupt, maxRecordBytes, onCorrupt);
        }

        public Options skipCorrupt(boolean skip) {
            return new Options(compression, skip, maxRecordBytes, onCorrupt);
        }

        public Options maxRecordBytes(int max) {
            return new Options(compression, skipCorrupt, max, onCorrupt);
        }

        /** Called with a one-line description of each skipped stretch (skip mode only). */
        public Options onCorrupt(Consumer<String> callback) {
            return new Options(compression, skipCorrupt, maxRecordBytes, callback);
        }
    }

    /** Supplies the (possibly decompressing) stream lazily, so that a bad gzip header is a read error. */
    private interface StreamOpener {
        InputStream open() throws IOException;
    }

    private final String name;
    private final Compression compression;
    private final Options options;
    private final long knownSize; // bytes in the framed stream when known (uncompressed files), else -1
    private final StreamOpener opener;
    private final InputStream raw;
    private InputStream in;
    private Inflater inflater;

    private byte[] buf = new byte[CHUNK];
    private int pos;
    private int lim;
    private long bufBase; // stream offset of buf[0]
    private boolean eof;
    private boolean streamFailed;
    private boolean closed;

    private long index;
    private long skipped;
    private final List<String> reports = new ArrayList<>();
    private final CRC32C crc = new CRC32C();

    private TfRecordReader(String name, InputStream raw, long rawSize, Options options) {
        this.name = name;
        this.raw = raw;
        this.options = options;
        this.compression = options.compression() == null ? Compression.NONE : options.compression();
        this.knownSize = compression == Compression.NONE ? rawSize : -1;
        this.opener = switch (compression) {
            case NONE -> () -> raw;
            case GZIP -> () -> new GZIPInputStream(new BufferedInputStream(raw, CHUNK), CHUNK);
            case ZLIB -> () -> {
                inflater = new Inflater();
                return new InflaterInputStream(new BufferedInputStream(raw, CHUNK), inflater, CHUNK);
            };
        };
    }

    // ---- opening --------------------------------------------------------------------------

    /** Opens {@code file}, detecting its compression, failing on corrupt data. */
    public static TfRecordReader open(Path file) throws IOException {
        return open(file, Options.defaults());
    }

    public static TfRecordReader open(Path file, Compression compression) throws IOException {
        return open(file, Options.defaults().compression(compression));
    }

    public static TfRecordReader open(Path file, Options options) throws IOException {
        if (options.compression() == null) options = options.compression(Compression.detect(file));
        long size = Files.size(file);
        return new TfRecordReader(file.toString(), Files.newInputStream(file), size, options);
    }

    /** Reads TFRecord data held in memory; {@code name} is used in messages. */
    public static TfRecordReader fromBytes(byte[] data, String name, Options options) {
        if (options.compression() == null) options = options.compression(Compression.detect(data, data.length));
        return new TfRecordReader(name, new ByteArrayInputStream(data), data.length, options);
    }

    /** Reads from a stream of unknown length (closed with this reader); compression must be given. */
    public static TfRecordReader fromStream(InputStream in, String name, Options options) {
        if (options.compression() == null) {
            throw new IllegalArgumentException(name + ": give the compression of a TFRecord stream (it cannot be detected without reading ahead)");
        }
        return new TfRecordReader(name, in, -1, options);
    }

    /** All records of a (small) file, detecting compression, failing on corrupt data. */
    public static List<TfRecord> readAll(Path file) throws IOException {
        try (TfRecordReader r = open(file)) {
            return r.readAll();
        }
    }

    /** Number of records in a file (reads and verifies all of it). */
    public static long count(Path file, Options options) throws IOException {
        try (TfRecordReader r = open(file, options)) {
            long n = 0;
            while (r.next() != null) n++;
            return n;
        }
    }

    // ---- reading --------------------------------------------------------------------------

    /** The next record, or null at the end of the file. */
    public TfRecord next() throws IOException {
        if (closed) throw new IllegalStateException(name + ": reader is closed");
        while (true) {
            long start = bufBase + pos;
            int avail = fill(HEADER);
            if (avail == 0) return null;
            if (avail < HEADER) {
                corrupt(start, "truncated record header (" + avail + " of 12 bytes before the end of the file)", true);
                continue;
            }
            long len = le64(pos);
            int storedLenCrc = le32(pos + 8);
            int lenCrc = maskedCrc(pos, 8);
            if (lenCrc != storedLenCrc) {
                corrupt(start, "length CRC mismatch (stored " + hex(storedLenCrc) + ", computed " + hex(lenCrc) + ")", false);
                continue;
            }
            String badLength = checkLength(len, start);
            if (badLength != null) {
                corrupt(start, badLength, false);
                continue;
            }
            int need = HEADER + (int) len + FOOTER;
            avail = fill(need);
            if (avail < need) {
                corrupt(start, "truncated record: its header announces " + len + " data bytes, but the file ends "
                        + Math.max(0, avail - HEADER) + " bytes into them", true);
                continue;
            }
            int storedDataCrc = le32(pos + HEADER + (int) len);
            int dataCrc = maskedCrc(pos + HEADER, (int) len);
            if (dataCrc != storedDataCrc) {
                // The length was verified, so the next record starts right after this one.
                if (!options.skipCorrupt()) {
                    throw error(start, "data CRC mismatch in a " + len + "-byte record (stored " + hex(storedDataCrc)
                            + ", computed " + hex(dataCrc) + ")", null);
                }
                pos += need;
                report(start, "data CRC mismatch in a " + len + "-byte record; record skipped");
                continue;
            }
            byte[] data = Arrays.copyOfRange(buf, pos + HEADER, pos + HEADER + (int) len);
            pos += need;
            return new TfRecord(index++, start, data);
        }
    }

    /** Reads the remaining records into a list. */
    public List<TfRecord> readAll() throws IOException {
        List<TfRecord> out = new ArrayList<>();
        for (TfRecord r = next(); r != null; r = next()) out.add(r);
        return out;
    }

    /**
     * Iterates over the remaining records; read errors surface as {@link UncheckedIOException}
     * wrapping the {@link TfRecordException}. Closing stays the caller's job.
     */
    @Override
    public Iterator<TfRecord> iterator() {
        return new Iterator<>() {
            private TfRecord ahead;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (ahead == null && !done) {
                    try {
                        ahead = TfRecordReader.this.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    done = ahead == null;
                }
                return ahead != null;
            }

            @Override
            public TfRecord next() {
                if (!hasNext()) throw new NoSuchElementException();
                TfRecord r = ahead;
                ahead = null;
                return r;
            }
        };
    }

    // ---- state ----------------------------------------------------------------------------

    public String name() {
        return name;
    }

    public Compression compression() {
        return compression;
    }

    /** Good records returned so far. */
    public long recordsRead() {
        return index;
    }

    /** Corrupt stretches skipped so far (skip mode), each counted once. */
    public long skippedRecords() {
        return skipped;
    }

    /** Descriptions of the skipped stretches (the first 100). */
    public List<String> corruptionReports() {
        return Collections.unmodifiableList(reports);
    }

    /** Stream offset of the next unread byte (of the decompressed stream for GZIP/ZLIB). */
    public long position() {
        return bufBase + pos;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            if (in != null) in.close();
            raw.close();
        } finally {
            if (inflater != null) inflater.end();
            buf = null;
        }
    }

    // ---- framing helpers ------------------------------------------------------------------

    /** Null when {@code len} is a plausible record length at {@code start}, else what is wrong. */
    private String checkLength(long len, long start) {
        if (len < 0 || len > options.maxRecordBytes()) {
            return "record length " + Long.toUnsignedString(len) + " exceeds the maximum of " + options.maxRecordBytes()
                    + " bytes (corrupt length, or raise maxRecordBytes)";
        }
        if (knownSize >= 0) {
            long left = knownSize - start - HEADER - FOOTER;
            if (len > left) {
                return "record length " + len + " exceeds the " + Math.max(0, left) + " bytes left in the file (truncated file)";
            }
        }
        return null;
    }

    /**
     * Handles a corrupt stretch at {@code start} (buffer position {@code pos}): throws in strict
     * mode; in skip mode reports it and scans forward to the next verifiable record. A truncated
     * tail after a broken compressed stream was already reported with the stream error.
     */
    private void corrupt(long start, String problem, boolean truncation) throws IOException {
        if (!options.skipCorrupt()) throw error(start, problem, null);
        if (truncation && streamFailed) {
            pos = lim;
            return;
        }
        resync();
        long resumed = bufBase + pos;
        report(start, problem + (pos < lim ? "; resumed at byte offset " + resumed : "; nothing readable after it"));
    }

    /** Moves {@code pos} past the bad byte to the next offset where a whole record verifies (or to the end). */
    private void resync() throws IOException {
        pos++;
        while (true) {
            if (fill(HEADER) < HEADER) {
                pos = lim;
                return;
            }
            if (recordVerifiesAt()) return;
            pos++;
        }
    }

    private boolean recordVerifiesAt() throws IOException {
        if (maskedCrc(pos, 8) != le32(pos + 8)) return false;
        long len = le64(pos);
        if (checkLength(len, bufBase + pos) != null) return false;
        int need = HEADER + (int) len + FOOTER;
        if (fill(need) < need) return false;
        return maskedCrc(pos + HEADER, (int) len) == le32(pos + HEADER + (int) len);
    }

    private void report(long start, String problem) {
        skipped++;
        String msg = name + ": skipped corrupt data at byte offset " + start
                + (compression == Compression.NONE ? "" : " of the decompressed stream") + ": " + problem;
        if (reports.size() < MAX_KEPT_REPORTS) reports.add(msg);
        if (options.onCorrupt() != null) options.onCorrupt().accept(msg);
    }

    private TfRecordException error(long offset, String problem, Throwable cause) {
        return new TfRecordException(name, offset, compression != Compression.NONE, problem, cause);
    }

    /**
     * Makes at least {@code n} bytes available from {@code pos}, or as many as the stream still has;
     * returns how many are available. The buffer grows only when it is full of real data, so a
     * bogus length cannot make it allocate more than about twice what the stream holds.
     */
    private int fill(int n) throws IOException {
        if (lim - pos >= n) return lim - pos;
        if (buf.length - pos < n && pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            bufBase += pos;
            lim -= pos;
            pos = 0;
        }
        while (lim - pos < n && !eof) {
            if (lim == buf.length) {
                long grown = Math.max(2L * buf.length, CHUNK);
                buf = Arrays.copyOf(buf, (int) Math.min(grown, (long) pos + n));
            }
            int r = readStream(buf, lim, buf.length - lim);
            if (r < 0) eof = true;
            else lim += r;
        }
        return lim - pos;
    }

    private int readStream(byte[] b, int off, int len) throws IOException {
        String what = compression == Compression.NONE ? "read failed" : compression + " stream";
        try {
            if (in == null) in = opener.open();
            return in.read(b, off, len);
        } catch (EOFException e) {
            return streamError(what + " is truncated (" + e.getMessage() + ")", e);
        } catch (ZipException e) {
            return streamError(what + " is corrupt (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            if (compression == Compression.NONE) throw error(bufBase + lim, what + ": " + e, e);
            return streamError(what + " cannot be read (" + e + ")", e);
        }
    }

    /** A broken compressed stream: fatal in strict mode; in skip mode the rest of the file is lost. */
    private int streamError(String problem, Exception cause) throws IOException {
        long at = bufBase + lim;
        if (!options.skipCorrupt()) throw error(at, problem, cause);
        streamFailed = true;
        report(at, problem + "; the rest of the file is unreadable");
        return -1;
    }

    private long le64(int p) {
        return (le32(p) & 0xffffffffL) | ((long) le32(p + 4) << 32);
    }

    private int le32(int p) {
        return (buf[p] & 0xff) | (buf[p + 1] & 0xff) << 8 | (buf[p + 2] & 0xff) << 16 | (buf[p + 3] & 0xff) << 24;
    }

    private int maskedCrc(int p, int len) {
        crc.reset();
        crc.update(buf, p, len);
        return MaskedCrc32c.mask((int) crc.getValue());
    }

    private static String hex(int v) {
        return String.format("0x%08x", v);
    }
}
