package org.slim4j.io.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.slim4j.io.MaskedCrc32c;

/**
 * Writes a LevelDB-format table byte for byte as TensorFlow's table builder does for checkpoint
 * indexes (uncompressed blocks): keys added in strictly increasing bytewise order; a restart point
 * every 16 entries in data blocks and at every entry of the index block; a data block is closed
 * as soon as its size estimate (entries + restart array + count) reaches the block size (256 KiB);
 * an empty metaindex block; index keys shortened the LevelDB way (the shortest separator between
 * a block's last key and the next block's first key, the short successor of the very last key);
 * each block followed by compression byte 0 and the masked CRC32C of block+byte; then the 48-byte
 * footer. See {@link SsTableReader} for the layout.
 */
public final class SsTableWriter {
    public static final int DEFAULT_BLOCK_SIZE = 256 * 1024;
    public static final int DEFAULT_RESTART_INTERVAL = 16;

    private final OutputStream out;
    private final int blockSize;
    private final BlockBuilder dataBlock;
    private final BlockBuilder indexBlock = new BlockBuilder(1);
    private long offset;
    private byte[] lastKey;
    private boolean pendingIndexEntry;
    private long pendingOffset;
    private long pendingSize;
    private boolean finished;
    private long numEntries;

    /** A writer with TensorFlow's defaults (256 KiB blocks, restart every 16 entries). */
    public SsTableWriter(OutputStream out) {
        this(out, DEFAULT_BLOCK_SIZE, DEFAULT_RESTART_INTERVAL);
    }

    public SsTableWriter(OutputStream out, int blockSize, int restartInterval) {
        if (blockSize < 1 || restartInterval < 1) throw new IllegalArgumentException("block size and restart interval must be >= 1");
        this.out = out;
        this.blockSize = blockSize;
        this.dataBlock = new BlockBuilder(restartInterval);
    }

    /** Appends an entry; keys must be strictly increasing in unsigned bytewise order. */
    public void add(byte[] key, byte[] value) throws IOException {
        if (finished) throw new IllegalStateException("table already finished");
        if (lastKey != null && Arrays.compareUnsigned(lastKey, key) >= 0) {
            throw new IllegalArgumentException("table keys must be strictly increasing: " + printable(key) + " after " + printable(lastKey));
        }
        if (pendingIndexEntry) {
            indexBlock.add(shortestSeparator(lastKey, key), handle(pendingOffset, pendingSize));
            pendingIndexEntry = false;
        }
        lastKey = key.clone();
        numEntries++;
        dataBlock.add(key, value);
        if (dataBlock.sizeEstimate() >= blockSize) flush();
    }

    public long numEntries() {
        return numEntries;
    }

    /** Bytes written so far. */
    public long offset() {
        return offset;
    }

    private void flush() throws IOException {
        if (dataBlock.isEmpty()) return;
        pendingOffset = offset;
        pendingSize = writeBlock(dataBlock.finish());
        dataBlock.reset();
        pendingIndexEntry = true;
    }

    /** Writes the remaining block, the metaindex and index blocks and the footer; does not close the stream. */
    public void finish() throws IOException {
        if (finished) throw new IllegalStateException("table already finished");
        flush();
        finished = true;
        long metaOffset = offset;
        long metaSize = writeBlock(new BlockBuilder(DEFAULT_RESTART_INTERVAL).finish());
        if (pendingIndexEntry) {
            indexBlock.add(shortSuccessor(lastKey), handle(pendingOffset, pendingSize));
            pendingIndexEntry = false;
        }
        long indexOffset = offset;
        long indexSize = writeBlock(indexBlock.finish());
        ByteArrayOutputStream footer = new ByteArrayOutputStream(SsTableReader.FOOTER_SIZE);
        ByteCursor.putVarint64(footer, metaOffset);
        ByteCursor.putVarint64(footer, metaSize);
        ByteCursor.putVarint64(footer, indexOffset);
        ByteCursor.putVarint64(footer, indexSize);
        while (footer.size() < 40) footer.write(0);
        ByteCursor.putFixed64(footer, SsTableReader.MAGIC);
        write(footer.toByteArray());
        out.flush();
    }

    /** Writes block contents plus trailer; returns the contents' size (what the handle records). */
    private long writeBlock(byte[] contents) throws IOException {
        byte[] trailer = new byte[SsTableReader.TRAILER_SIZE];
        trailer[0] = SsTableReader.NO_COMPRESSION;
        CRC32C crc = new CRC32C();
        crc.update(contents);
        crc.update(trailer, 0, 1);
        int masked = MaskedCrc32c.mask((int) crc.getValue());
        trailer[1] = (byte) masked;
        trailer[2] = (byte) (masked >>> 8);
        trailer[3] = (byte) (masked >>> 16);
        trailer[4] = (byte) (masked >>> 24);
        write(contents);
        write(trailer);
        return contents.length;
    }

    private void write(byte[] b) throws IOException {
        out.write(b);
        offset += b.length;
    }

    private static byte[] handle(long off, long size) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(20);
        ByteCursor.putVarint64(b, off);
        ByteCursor.putVarint64(b, size);
        return b.toByteArray();
    }

    /**
     * LevelDB's bytewise FindShortestSeparator: a short key k with start <= k < limit. At the first
     * differing byte, if start's byte can be incremented and stay below limit's, keep the prefix
     * up to it and increment it; otherwise keep start.
     */
    static byte[] shortestSeparator(byte[] start, byte[] limit) {
        int min = Math.min(start.length, limit.length);
        int i = 0;
        while (i < min && start[i] == limit[i]) i++;
        if (i >= min) return start; // one is a prefix of the other
        int b = start[i] & 0xff;
        if (b < 0xff && b + 1 < (limit[i] & 0xff)) {
            byte[] k = Arrays.copyOf(start, i + 1);
            k[i]++;
            return k;
        }
        return start;
    }

    /** LevelDB's bytewise FindShortSuccessor: increment the first byte that isn't 0xff, drop the rest. */
    static byte[] shortSuccessor(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if ((key[i] & 0xff) != 0xff) {
                byte[] k = Arrays.copyOf(key, i + 1);
                k[i]++;
                return k;
            }
        }
        return key;
    }

    static String printable(byte[] key) {
        StringBuilder sb = new StringBuilder("\"");
        for (byte x : key) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') sb.append((char) c);
            else sb.append(String.format("\\x%02x", c));
        }
        return sb.append('"').toString();
    }

    /** Builds one block: prefix-compressed entries plus the restart array. */
    private static final class BlockBuilder {
        private final int restartInterval;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final List<Integer> restarts = new ArrayList<>();
        private int counter;
        private byte[] last = new byte[0];

        BlockBuilder(int restartInterval) {
            this.restartInterval = restartInterval;
            restarts.add(0);
        }

        void reset() {
            buf.reset();
            restarts.clear();
            restarts.add(0);
            counter = 0;
            last = new byte[0];
        }

        boolean isEmpty() {
            return buf.size() == 0;
        }

        long sizeEstimate() {
            return buf.size() + 4L * restarts.size() + 4;
        }

        void add(byte[] key, byte[] value) {
            int shared = 0;
            if (counter < restartInterval) {
                int min = Math.min(last.length, key.length);
                while (shared < min && last[shared] == key[shared]) shared++;
            } else {
                restarts.add(buf.size());
                counter = 0;
            }
            ByteCursor.putVarint64(buf, shared);
            ByteCursor.putVarint64(buf, key.length - shared);
            ByteCursor.putVarint64(buf, value.length);
            buf.write(key, shared, key.length - shared);
            buf.write(value, 0, value.length);
            last = key.clone();
            counter++;
        }

        byte[] finish() {
            for (int r : restarts) ByteCursor.putFixed32(buf, r);
            ByteCursor.putFixed32(buf, restarts.size());
            return buf.toByteArray();
        }
    }
}
