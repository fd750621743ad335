package org.slim4j.io.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.slim4j.io.MaskedCrc32c;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.io.proto.BundleHeaderProto;
import org.slim4j.io.proto.TensorShapeProto;
import org.slim4j.io.proto.TensorSliceProto;
import org.slim4j.io.proto.VersionDef;
import org.slim4j.tensor.Tensor;

/**
 * Reads a TensorFlow V2 checkpoint (a tensor bundle): {@code PREFIX.index}, an SSTable whose key
 * "" holds a BundleHeaderProto (number of data shards, endianness, format version) and whose other
 * keys are tensor names holding BundleEntryProtos (dtype, shape, shard, offset, size, masked
 * CRC32C), and {@code PREFIX.data-SSSSS-of-NNNNN}, the shards holding the raw tensor bytes.
 *
 * <p>Opening reads only the index. A value is read when asked for, straight into the result in
 * 1 MiB chunks, and its CRC32C is checked. Numeric data is the elements in row-major order
 * (little-endian unless the header says BIG). String tensors are {@code varint64 length} per
 * element, a uint32 masked CRC32C of the lengths (each as 4 LE bytes, 8 if >= 2^32), then the bytes;
 * the entry CRC covers the lengths as CRC'd, the 4 CRC bytes and the string bytes.
 * A partitioned variable has an entry with {@code slices} and no data of its own; each slice is a
 * separate entry under the OrderedCode key of (name, slice) and is copied into place on read.
 */
public final class BundleReader implements CheckpointReader {
    /** The bundle format version this reader implements (TensorFlow's kTensorBundleVersion). */
    public static final int VERSION = 1;
    private static final int CHUNK = 1 << 20;

    private final Path prefix;
    private final Path indexFile;
    private final BundleHeaderProto header;
    private final boolean bigEndian;
    private final Map<String, BundleEntryProto> entries;
    private final Map<String, BundleEntryProto> sliceEntries;
    private final List<CheckpointEntry> list;
    private final Map<String, CheckpointEntry> byName;
    private final FileChannel[] shards;

    private BundleReader(Path prefix, Path indexFile, BundleHeaderProto header, Map<String, BundleEntryProto> entries,
                         Map<String, BundleEntryProto> sliceEntries, List<CheckpointEntry> list) {
        this.prefix = prefix;
        this.indexFile = indexFile;
        this.header = header;
        this.bigEndian = header.getEndianness() == BundleHeaderProto.Endianness.BIG;
        this.entries = entries;
        this.sliceEntries = sliceEntries;
        this.list = Collections.unmodifiableList(list);
        this.byName = new HashMap<>();
        for (CheckpointEntry e : list) byName.put(e.name(), e);
        this.shards = new FileChannel[header.getNumShards()];
    }

    /** Opens the bundle with prefix {@code prefix} (reads and checks its whole index, no tensor data). */
    public static BundleReader open(Path prefix) throws IOException {
        Path indexFile = CheckpointReader.indexFile(prefix);
        if (!Files.exists(indexFile)) throw new NoSuchFileException(indexFile.toString(), null, "no V2 checkpoint index");
        BundleHeaderProto[] header = {null};
        Map<String, BundleEntryProto> entries = new LinkedHashMap<>();
        Map<String, BundleEntryProto> slices = new HashMap<>();
        try (SsTableReader table = new SsTableReader(indexFile)) {
            table.scan((key, value) -> {
                if (header[0] == null) {
                    if (key.length != 0) throw new CheckpointFormatException(indexFile + ": the first entry is not the bundle header (key \"\")");
                    header[0] = parseHeader(indexFile, value);
                    return;
                }
                BundleEntryProto e;
                String name = new String(key, StandardCharsets.UTF_8);
                try {
                    e = BundleEntryProto.parseFrom(value);
                } catch (InvalidProtocolBufferException ex) {
                    throw new CheckpointFormatException(indexFile + ": entry of tensor '" + name + "' is not a valid BundleEntryProto", ex);
                }
                if (key[0] == 0) {
                    // OrderedCode key of one slice of a partitioned variable: not a tensor of its own.
                    slices.put(new String(key, StandardCharsets.ISO_8859_1), e);
                } else {
                    entries.put(name, e);
                }
            });
        }
        if (header[0] == null) throw new CheckpointFormatException(indexFile + ": empty index, no bundle header (truncated?)");
        List<CheckpointEntry> list = new ArrayList<>(entries.size());
        for (Map.Entry<String, BundleEntryProto> me : entries.entrySet()) {
            list.add(checkEntry(indexFile, header[0], me.getKey(), me.getValue(), true));
        }
        for (Map.Entry<String, BundleEntryProto> me : slices.entrySet()) {
            String what = TensorSlices.decodeKey(me.getKey().getBytes(StandardCharsets.ISO_8859_1), indexFile + ": slice key").name() + " (a slice)";
            checkEntry(indexFile, header[0], what, me.getValue(), false);
        }
        return new BundleReader(prefix, indexFile, header[0], entries, slices, list);
    }

    private static BundleHeaderProto parseHeader(Path file, byte[] value) throws CheckpointFormatException {
        BundleHeaderProto h;
        try {
            h = BundleHeaderProto.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            throw new CheckpointFormatException(file + ": the bundle header is not a valid BundleHeaderProto", e);
        }
        if (h.getNumShards() < 1) throw new CheckpointFormatException(file + ": bundle header has " + h.getNumShards() + " data shards");
        if (h.getEndiannessValue() != 0 && h.getEndiannessValue() != 1) {
            throw new CheckpointFormatException(file + ": bundle header has unknown endianness " + h.getEndiannessValue());
        }
        VersionDef v = h.getVersion();
        if (v.getMinConsumer() > VERSION || v.getBadConsumersList().contains(VERSION)) {
            throw new CheckpointFormatException(file + ": checkpoint format version " + v.getProducer() + " needs a reader of version >= "
                    + v.getMinConsumer() + " (this reader is " + VERSION + "); written by a newer TensorFlow?");
        }
        return h;
    }

    /** Checks dtype, shape and data location; returns the public entry. */
    private static CheckpointEntry checkEntry(Path file, BundleHeaderProto h, String name, BundleEntryProto e, boolean listed)
            throws CheckpointFormatException {
        String where = file + ": tensor '" + name + "'";
        TfDataType dt = TfDataType.fromCode(e.getDtypeValue());
        if (dt == null) throw new CheckpointFormatException(where + " has unknown dtype " + e.getDtypeValue());
        long[] dims = dims(e.getShape(), where);
        long n = CheckpointEntry.numElements(dims);
        if (n < 0) throw new CheckpointFormatException(where + ": shape " + shapeString(dims) + " has more elements than fit in 64 bits");
        if (e.getSlicesCount() > 0) {
            for (TensorSliceProto s : e.getSlicesList()) TensorSlices.bounds(s, dims, where);
            return new CheckpointEntry(name, dt, dims);
        }
        if (e.getShardId() < 0 || e.getShardId() >= h.getNumShards()) {
            throw new CheckpointFormatException(where + " is in data shard " + e.getShardId() + " but the bundle has " + h.getNumShards());
        }
        if (e.getOffset() < 0 || e.getSize() < 0) {
            throw new CheckpointFormatException(where + " has data offset " + e.getOffset() + " and size " + e.getSize());
        }
        if (dt.isFixedSize()) {
            if (n > Long.MAX_VALUE / dt.byteSize() || n * dt.byteSize() != e.getSize()) {
                throw new CheckpointFormatException(where + " of dtype " + dt.tfName() + " and shape " + shapeString(dims)
                        + " should have " + (n > Long.MAX_VALUE / dt.byteSize() ? "an impossible number of" : String.valueOf(n * dt.byteSize()))
                        + " bytes, but its entry says " + e.getSize());
            }
        } else if (dt == TfDataType.STRING && e.getSize() < n + 4) {
            throw new CheckpointFormatException(where + ": " + n + " strings need at least " + (n + 4) + " bytes, the entry says " + e.getSize());
        }
        return new CheckpointEntry(name, dt, dims);
    }

    static long[] dims(TensorShapeProto shape, String where) throws CheckpointFormatException {
        if (shape.getUnknownRank()) throw new CheckpointFormatException(where + " has a shape of unknown rank");
        long[] dims = new long[shape.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.getDim(i).getSize();
            if (dims[i] < 0) throw new CheckpointFormatException(where + " has dimension " + i + " of size " + dims[i]);
        }
        return dims;
    }

    static String shapeString(long[] dims) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? "," : "").append(dims[i]);
        return sb.append(']').toString();
    }

    @Override
    public String format() {
        return "V2";
    }

    @Override
    public Path path() {
        return prefix;
    }

    public Path indexFile() {
        return indexFile;
    }

    public int numShards() {
        return header.getNumShards();
    }

    public BundleHeaderProto header() {
        return header;
    }

    @Override
    public List<CheckpointEntry> entries() {
        return list;
    }

    @Override
    public Optional<CheckpointEntry> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The index entry proto of {@code name} as stored (for tools and tests). */
    public BundleEntryProto rawEntry(String name) {
        BundleEntryProto e = entries.get(name);
        if (e == null) throw notFound(name);
        return e;
    }

    private NoSuchElementException notFound(String name) {
        return new NoSuchElementException("tensor '" + name + "' not found in checkpoint " + prefix);
    }

    private Path dataFile(int shard) {
        return CheckpointReader.dataFile(prefix, shard, header.getNumShards());
    }

    private synchronized FileChannel shard(int id, String tensor) throws IOException {
        if (shards[id] == null) {
            Path f = dataFile(id);
            if (!Files.isRegularFile(f)) {
                throw new CheckpointFormatException(f + ": missing data shard " + id + " of " + header.getNumShards()
                        + " (needed by tensor '" + tensor + "')");
            }
            shards[id] = FileChannel.open(f, StandardOpenOption.READ);
        }
        return shards[id];
    }

    /** Receives consecutive chunks of a tensor's bytes; {@code byteOffset} is where the chunk starts. */
    private interface ChunkSink {
        void accept(ByteBuffer chunk, long byteOffset) throws IOException;
    }

    /** Checks that an entry's bytes lie inside its data shard (before anything is allocated for them). */
    private FileChannel checkInFile(BundleEntryProto e, String name) throws IOException {
        FileChannel ch = shard(e.getShardId(), name);
        long size = ch.size();
        if (e.getOffset() > size || e.getSize() > size - e.getOffset()) {
            throw new CheckpointFormatException(dataFile(e.getShardId()) + ": tensor '" + name + "' needs bytes [" + e.getOffset() + ", "
                    + (e.getOffset() + e.getSize()) + ") but the file has " + size + " bytes; truncated?");
        }
        return ch;
    }

    /** Streams one stored entry's bytes to {@code sink}, then checks their CRC. */
    private void stream(BundleEntryProto e, String name, ChunkSink sink) throws IOException {
        FileChannel ch = checkInFile(e, name);
        Path f = dataFile(e.getShardId());
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(e.getSize(), 1)));
        long done = 0;
        while (done < e.getSize()) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), e.getSize() - done));
            while (buf.hasRemaining()) {
                if (ch.read(buf, e.getOffset() + done + buf.position()) < 0) {
                    throw new CheckpointFormatException(f + ": unexpected end of file reading tensor '" + name + "'");
                }
            }
            buf.flip();
            crc.update(buf.duplicate());
            sink.accept(buf, done);
            done += buf.limit();
        }
        checkCrc(e, name, (int) crc.getValue());
    }

    private void checkCrc(BundleEntryProto e, String name, int actual) throws CheckpointFormatException {
        int stored = MaskedCrc32c.unmask(e.getCrc32C());
        if (stored != actual) {
            throw new CheckpointFormatException(String.format("%s: CRC mismatch for tensor '%s' (%d bytes at offset %d): stored 0x%08x, computed 0x%08x; the data is corrupt",
                    dataFile(e.getShardId()), name, e.getSize(), e.getOffset(), stored, actual));
        }
    }

    @Override
    public Tensor read(String name) throws IOException {
        CheckpointEntry ce = find(name).orElseThrow(() -> notFound(name));
        BundleEntryProto e = entries.get(name);
        if (ce.dtype() == TfDataType.STRING) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + prefix + " holds strings; use readStrings");
        }
        if (e.getSlicesCount() > 0) {
            byte[] le = readBytes(name);
            return TensorBytes.toTensor(ce, le, indexFile.toString());
        }
        checkInFile(e, name);
        Tensor t = TensorBytes.allocate(ce, indexFile.toString());
        int elemSize = ce.dtype().byteSize();
        try {
            stream(e, name, (chunk, off) -> {
                if (bigEndian) swap(chunk, ce.dtype());
                TensorBytes.put(t, chunk, (int) (off / elemSize));
            });
        } catch (IOException | RuntimeException ex) {
            t.close();
            throw ex;
        }
        return t;
    }

    @Override
    public byte[] readBytes(String name) throws IOException {
        CheckpointEntry ce = find(name).orElseThrow(() -> notFound(name));
        BundleEntryProto e = entries.get(name);
        if (!ce.dtype().isFixedSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + prefix + " has dtype " + ce.dtype().tfName() + ", which has no fixed-size elements");
        }
        long total = ce.numElements() * ce.dtype().byteSize();
        if (total > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(indexFile + ": tensor '" + name + "' of " + total + " bytes is too large to read at once");
        }
        if (e.getSlicesCount() > 0) return assembleSlices(name, ce, e);
        checkInFile(e, name);
        byte[] out = new byte[(int) total];
        stream(e, name, (chunk, off) -> chunk.get(out, (int) off, chunk.remaining()));
        if (bigEndian) swap(ByteBuffer.wrap(out), ce.dtype());
        return out;
    }

    /** Reads every stored slice of a partitioned variable into one row-major byte array. */
    private byte[] assembleSlices(String name, CheckpointEntry ce, BundleEntryProto full) throws IOException {
        long[] dims = ce.dims();
        int elemSize = ce.dtype().byteSize();
        String where = indexFile + ": tensor '" + name + "'";
        long stored = 0;
        for (TensorSliceProto s : full.getSlicesList()) {
            BundleEntryProto se = sliceEntries.get(new String(TensorSlices.key(name, s), StandardCharsets.ISO_8859_1));
            if (se == null) throw new CheckpointFormatException(where + ": the entry of slice " + describe(TensorSlices.bounds(s, dims, where)) + " is missing");
            checkInFile(se, name);
            stored += se.getSize();
        }
        if (stored != ce.numElements() * elemSize) {
            throw new CheckpointFormatException(where + ": its slices hold " + stored + " bytes, the tensor has " + ce.numElements() * elemSize);
        }
        byte[] out = new byte[(int) (ce.numElements() * elemSize)];
        List<long[][]> seen = new ArrayList<>();
        long covered = 0;
        for (TensorSliceProto s : full.getSlicesList()) {
            long[][] b = TensorSlices.bounds(s, dims, where);
            for (long[][] other : seen) {
                if (overlaps(b, other)) throw new CheckpointFormatException(where + ": its stored slices overlap");
            }
            seen.add(b);
            String key = new String(TensorSlices.key(name, s), StandardCharsets.ISO_8859_1);
            BundleEntryProto se = sliceEntries.get(key);
            if (se == null) throw new CheckpointFormatException(where + ": the entry of slice " + describe(b) + " is missing");
            long[] sd = TensorSlices.sliceDims(b);
            long[] storedDims = dims(se.getShape(), where + " slice " + describe(b));
            if (!Arrays.equals(sd, storedDims) || se.getDtypeValue() != full.getDtypeValue()) {
                throw new CheckpointFormatException(where + ": slice " + describe(b) + " is stored with dtype " + se.getDtypeValue()
                        + " and shape " + shapeString(storedDims));
            }
            long n = CheckpointEntry.numElements(sd);
            byte[] part = new byte[(int) (n * elemSize)];
            stream(se, name + " slice " + describe(b), (chunk, off) -> chunk.get(part, (int) off, chunk.remaining()));
            TensorSlices.copyInto(part, out, dims, b, elemSize);
            covered += n;
        }
        if (covered != ce.numElements()) {
            throw new CheckpointFormatException(where + ": its slices cover " + covered + " of " + ce.numElements() + " elements");
        }
        if (bigEndian) swap(ByteBuffer.wrap(out), ce.dtype());
        return out;
    }

    private static boolean overlaps(long[][] a, long[][] b) {
        for (int d = 0; d < a.length; d++) {
            if (a[d][0] + a[d][1] <= b[d][0] || b[d][0] + b[d][1] <= a[d][0]) return false;
        }
        return true;
    }

    private static String describe(long[][] b) {
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < b.length; d++) sb.append(d > 0 ? ":" : "").append(b[d][0]).append(',').append(b[d][1]);
        return sb.toString();
    }

    /** Reverses each element's (each component's, for complex types) bytes in place. */
    private static void swap(ByteBuffer b, TfDataType dt) {
        int unit = switch (dt) {
            case COMPLEX64 -> 4;
            case COMPLEX128 -> 8;
            default -> dt.byteSize();
        };
        if (unit <= 1) return;
        byte[] tmp = new byte[unit];
        for (int p = b.position(); p + unit <= b.limit(); p += unit) {
            for (int i = 0; i < unit; i++) tmp[i] = b.get(p + i);
            for (int i = 0; i < unit; i++) b.put(p + i, tmp[unit - 1 - i]);
        }
    }

    @Override
    public List<byte[]> readStrings(String name) throws IOException {
        CheckpointEntry ce = find(name).orElseThrow(() -> notFound(name));
        BundleEntryProto e = entries.get(name);
        if (ce.dtype() != TfDataType.STRING) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + prefix + " has dtype " + ce.dtype().tfName() + ", not DT_STRING");
        }
        if (e.getSlicesCount() > 0) throw new CheckpointFormatException(indexFile + ": tensor '" + name + "' is a partitioned string tensor (not supported)");
        if (e.getSize() > Integer.MAX_VALUE - 8) throw new CheckpointFormatException(indexFile + ": string tensor '" + name + "' is too large");
        // The entry CRC is not over the raw bytes (see the class comment), so this doesn't use stream().
        FileChannel ch = checkInFile(e, name);
        Path f = dataFile(e.getShardId());
        byte[] raw = new byte[(int) e.getSize()];
        ByteBuffer bb = ByteBuffer.wrap(raw);
        while (bb.hasRemaining()) {
            if (ch.read(bb, e.getOffset() + bb.position()) < 0) throw new CheckpointFormatException(f + ": unexpected end of file reading tensor '" + name + "'");
        }
        return parseStrings(raw, (int) ce.numElements(), e, name, f);
    }

    private List<byte[]> parseStrings(byte[] raw, int n, BundleEntryProto e, String name, Path f) throws CheckpointFormatException {
        String where = f + ": string tensor '" + name + "'";
        ByteCursor c = new ByteCursor(raw, 0, raw.length, where);
        long[] lengths = new long[n];
        CRC32C crc = new CRC32C();
        ByteBuffer le = ByteBuffer.allocate(8).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        long total = 0;
        for (int i = 0; i < n; i++) {
            lengths[i] = c.varint64();
            if (lengths[i] < 0 || lengths[i] > raw.length) throw c.error("element " + i + " claims " + Long.toUnsignedString(lengths[i]) + " bytes");
            total += lengths[i];
            le.clear();
            if (lengths[i] <= 0xffffffffL) le.putInt((int) lengths[i]);
            else le.putLong(lengths[i]);
            crc.update(le.array(), 0, le.position());
        }
        int lengthCrc = (int) crc.getValue();
        int stored = c.fixed32();
        int storedValue = bigEndian ? Integer.reverseBytes(stored) : stored;
        if (storedValue != MaskedCrc32c.mask(lengthCrc)) {
            throw new CheckpointFormatException(String.format("%s: CRC mismatch in its element lengths (stored 0x%08x, computed 0x%08x); the data is corrupt",
                    where, storedValue, MaskedCrc32c.mask(lengthCrc)));
        }
        crc.update(raw, c.pos - 4, 4);
        if (total != c.remaining()) {
            throw c.error("element lengths add up to " + total + " bytes but " + c.remaining() + " follow them");
        }
        List<byte[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = (int) lengths[i];
            out.add(Arrays.copyOfRange(raw, c.pos, c.pos + len));
            c.pos += len;
        }
        crc.update(raw, raw.length - (int) total, (int) total);
        checkCrc(e, name, (int) crc.getValue());
        return out;
    }

    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] != null) {
                try {
                    shards[i].close();
                } catch (IOException ex) {
                    if (first == null) first = ex;
                }
                shards[i] = null;
            }
        }
        if (first != null) throw first;
    }
}
