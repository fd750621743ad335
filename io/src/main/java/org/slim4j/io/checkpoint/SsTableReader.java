package org.slim4j.io.checkpoint;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slim4j.io.MaskedCrc32c;

/**
 * Reads a LevelDB-format table as TensorFlow writes it (checkpoint {@code .index} files and V1
 * checkpoints). Layout: data blocks, a metaindex block, an index block, then a 48-byte footer
 * (metaindex and index block handles as varint64 offset/size pairs, zero padding to 40 bytes,
 * the magic {@code 0xdb4775248b80fb57} little-endian). Each block is followed by a compression
 * byte (0 none, 1 snappy) and the masked CRC32C of block+byte, verified on every read. A block is
 * entries {@code varint32 shared, varint32 non_shared, varint32 value_len, key suffix, value}
 * (keys prefix-compressed against the previous key), then uint32 restart offsets and their count.
 * The index block maps a separator key (>= the last key of a block) to that block's handle.
 *
 * <p>Only the footer and the index block are read when the table is opened; data blocks are read
 * (and checked) when a key in them is asked for. Every length is checked against the file size
 * before anything is allocated.
 */
public final class SsTableReader implements Closeable {
    public static final long MAGIC = 0xdb4775248b80fb57L;
    static final int FOOTER_SIZE = 48;
    static final int TRAILER_SIZE = 5;
    static final int NO_COMPRESSION = 0;
    static final int SNAPPY_COMPRESSION = 1;

    /** One key/value pair; the arrays belong to the caller. */
    public record Entry(byte[] key, byte[] value) {
    }

    /** Receives entries in key order; may throw to stop. */
    @FunctionalInterface
    public interface Visitor {
        void accept(byte[] key, byte[] value) throws IOException;
    }

    private record Handle(long offset, long size) {
    }

    private record IndexEntry(byte[] key, Handle handle) {
    }

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final List<IndexEntry> index;
    // The last data block read: V1 lookups and scans tend to hit the same block repeatedly.
    private int cachedBlock = -1;
    private List<Entry> cachedEntries;

    public SsTableReader(Path file) throws IOException {
        this.file = file;
        try {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file + ": no such file");
        }
        try {
            this.fileSize = channel.size();
            this.index = readIndex();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The number of data blocks. */
    public int blockCount() {
        return index.size();
    }

    private List<IndexEntry> readIndex() throws IOException {
        if (fileSize < FOOTER_SIZE) {
            throw new CheckpointFormatException(file + ": not a table (" + fileSize + " bytes, shorter than the 48-byte footer); truncated?");
        }
        byte[] footer = readAt(fileSize - FOOTER_SIZE, FOOTER_SIZE);
        long magic = ByteCursor.getLong(footer, 40);
        if (magic != MAGIC) {
            throw new CheckpointFormatException(file + ": bad table magic 0x" + Long.toHexString(magic)
                    + " (expected 0x" + Long.toHexString(MAGIC) + "); not a checkpoint index, or truncated");
        }
        ByteCursor c = new ByteCursor(footer, 0, 40, file + ": footer");
        Handle meta = handle(c, "metaindex handle");
        Handle idx = handle(c, "index handle");
        // The metaindex block lists no filters in TensorFlow's tables; it is read only to verify its CRC.
        parseBlock(readBlock(meta, "metaindex block"), "metaindex block");
        List<Entry> entries = parseBlock(readBlock(idx, "index block"), "index block");
        List<IndexEntry> out = new ArrayList<>(entries.size());
        byte[] prev = null;
        for (Entry e : entries) {
            ByteCursor v = new ByteCursor(e.value, 0, e.value.length, file + ": index block entry");
            Handle h = handle(v, "block handle");
            checkHandle(h, "data block");
            if (prev != null && Arrays.compareUnsigned(prev, e.key) >= 0) {
                throw new CheckpointFormatException(file + ": index block keys out of order");
            }
            prev = e.key;
            out.add(new IndexEntry(e.key, h));
        }
        return out;
    }

    private static Handle handle(ByteCursor c, String what) throws CheckpointFormatException {
        long off = c.varint64();
        long size = c.varint64();
        if (off < 0 || size < 0) throw c.error(what + " out of range");
        return new Handle(off, size);
    }

    private void checkHandle(Handle h, String what) throws CheckpointFormatException {
        long end = fileSize - FOOTER_SIZE;
        if (h.offset > end || h.size > end - h.offset || h.size + TRAILER_SIZE > end - h.offset) {
            throw new CheckpointFormatException(file + ": " + what + " at offset " + h.offset + " of " + h.size
                    + " bytes runs past the end of the table (" + fileSize + " bytes); truncated?");
        }
        if (h.size > Integer.MAX_VALUE - 64) {
            throw new CheckpointFormatException(file + ": " + what + " of " + h.size + " bytes is too large");
        }
    }

    private byte[] readAt(long offset, int n) throws IOException {
        byte[] b = new byte[n];
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
            int r = channel.read(bb, offset + bb.position());
            if (r < 0) throw new CheckpointFormatException(file + ": unexpected end of file at offset " + (offset + bb.position()) + "; truncated?");
        }
        return b;
    }

    /** Reads a block with its trailer, checks the CRC and decompresses it. */
    private byte[] readBlock(Handle h, String what) throws IOException {
        checkHandle(h, what);
        int n = (int) h.size;
        byte[] raw = readAt(h.offset, n + TRAILER_SIZE);
        int type = raw[n] & 0xff;
        int stored = ByteCursor.getInt(raw, n + 1);
        int actual = MaskedCrc32c.maskedCrc(raw, 0, n + 1);
        if (stored != actual) {
            throw new CheckpointFormatException(String.format("%s: CRC mismatch in the %s at offset %d (stored 0x%08x, computed 0x%08x); the file is corrupt",
                    file, what, h.offset, stored, actual));
        }
        return switch (type) {
            case NO_COMPRESSION -> Arrays.copyOf(raw, n);
            case SNAPPY_COMPRESSION -> Snappy.decompress(raw, 0, n, file + ": " + what + " at offset " + h.offset);
            default -> throw new CheckpointFormatException(file + ": unknown block compression type " + type + " in the " + what + " at offset " + h.offset);
        };
    }

    /** Decodes every entry of a block, checking the restart array and each entry's lengths. */
    private List<Entry> parseBlock(byte[] block, String what) throws CheckpointFormatException {
        String where = file + ": " + what;
        if (block.length < 4) throw new CheckpointFormatException(where + ": block of " + block.length + " bytes is too short");
        long numRestarts = ByteCursor.getInt(block, block.length - 4) & 0xffffffffL;
        long maxRestarts = (block.length - 4) / 4;
        if (numRestarts > maxRestarts) {
            throw new CheckpointFormatException(where + ": " + numRestarts + " restart points do not fit in a block of " + block.length + " bytes");
        }
        int dataEnd = block.length - 4 - 4 * (int) numRestarts;
        if (numRestarts == 0 && dataEnd > 0) throw new CheckpointFormatException(where + ": entries but no restart points");
        for (int i = 0; i < numRestarts; i++) {
            long r = ByteCursor.getInt(block, dataEnd + 4 * i) & 0xffffffffL;
            if (dataEnd == 0 ? r != 0 : r >= dataEnd) {
                throw new CheckpointFormatException(where + ": restart offset " + r + " outside the block's " + dataEnd + " bytes of entries");
            }
        }
        ByteCursor c = new ByteCursor(block, 0, dataEnd, where);
        List<Entry> out = new ArrayList<>();
        byte[] prev = new byte[0];
        while (c.remaining() > 0) {
            long shared = c.varint32();
            long nonShared = c.varint32();
            long valueLen = c.varint32();
            if (shared > prev.length) {
                throw c.error("entry shares " + shared + " key bytes with a previous key of " + prev.length);
            }
            int ns = c.length(nonShared, "key suffix");
            byte[] key = new byte[(int) shared + ns];
            System.arraycopy(prev, 0, key, 0, (int) shared);
            System.arraycopy(block, c.pos, key, (int) shared, ns);
            c.pos += ns;
            int vl = c.length(valueLen, "value");
            byte[] value = Arrays.copyOfRange(block, c.pos, c.pos + vl);
            c.pos += vl;
            out.add(new Entry(key, value));
            prev = key;
        }
        return out;
    }

    /** Blocks up to this size stay cached; a V1 block holding one huge tensor is not kept alive. */
    private static final long MAX_CACHED_BLOCK = 4L << 20;

    private List<Entry> dataBlock(int i) throws IOException {
        if (i == cachedBlock) return cachedEntries;
        List<Entry> entries = parseBlock(readBlock(index.get(i).handle, "data block " + i), "data block " + i);
        if (index.get(i).handle.size <= MAX_CACHED_BLOCK) {
            cachedBlock = i;
            cachedEntries = entries;
        }
        return entries;
    }

    /** The value stored under {@code key}, or null when there is none. */
    public byte[] get(byte[] key) throws IOException {
        // The first block whose separator key is >= key is the only one that can hold it.
        int lo = 0;
        int hi = index.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Arrays.compareUnsigned(index.get(mid).key, key) < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo == index.size()) return null;
        for (Entry e : dataBlock(lo)) {
            int cmp = Arrays.compareUnsigned(e.key, key);
            // A cached block's arrays must not leak out; an uncached one's are ours to hand over.
            if (cmp == 0) return lo == cachedBlock ? e.value.clone() : e.value;
            if (cmp > 0) break;
        }
        return null;
    }

    /** Visits every entry in key order, reading one block at a time; keys must be strictly increasing. */
    public void scan(Visitor visitor) throws IOException {
        byte[] prev = null;
        for (int i = 0; i < index.size(); i++) {
            for (Entry e : dataBlock(i)) {
                if (prev != null && Arrays.compareUnsigned(prev, e.key) >= 0) {
                    throw new CheckpointFormatException(file + ": keys out of order in data block " + i);
                }
                if (Arrays.compareUnsigned(e.key, index.get(i).key) > 0) {
                    throw new CheckpointFormatException(file + ": data block " + i + " holds a key beyond its index entry");
                }
                prev = e.key;
                visitor.accept(e.key.clone(), e.value.clone());
            }
        }
    }

    /** Every entry, in key order (for small tables and tests). */
    public List<Entry> entries() throws IOException {
        List<Entry> all = new ArrayList<>();
        scan((k, v) -> all.add(new Entry(k, v)));
        return all;
    }

    @Override
    public void close() throws IOException {
        cachedEntries = null;
        channel.close();
    }
}
