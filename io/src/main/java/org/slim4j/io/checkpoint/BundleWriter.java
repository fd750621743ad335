package org.slim4j.io.checkpoint;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slim4j.io.MaskedCrc32c;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.io.proto.BundleHeaderProto;
import org.slim4j.io.proto.TensorShapeProto;
import org.slim4j.io.proto.TensorSliceProto;
import org.slim4j.io.proto.VersionDef;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/**
 * Writes a TensorFlow V2 checkpoint (tensor bundle) that TensorFlow's RestoreV2 reads, byte for
 * byte as TensorFlow's own BundleWriter (plus MergeV2Checkpoints, for several shards) lays it out:
 * <ul>
 * <li>each data shard holds its tensors' bytes back to back in the order they were added
 *     (little-endian, row-major, no padding); strings as {@link BundleReader} describes;</li>
 * <li>the index is an uncompressed SSTable ({@link SsTableWriter}): key "" with the header
 *     (num_shards, little-endian, version {producer 1}), then one BundleEntryProto per tensor in
 *     bytewise key order, with dtype, shape, shard_id, offset, size and the masked CRC32C;</li>
 * <li>files are written under {@code .tempstate<random>} names and renamed into place by
 *     {@link #finish}: data shards first, the index last (an existing index is removed before the
 *     data is replaced), so no reader ever sees a half-written checkpoint under its real name.</li>
 * </ul>
 * {@link #close} without {@link #finish} deletes the temporary files.
 */
public final class BundleWriter implements Closeable {
    private static final int CHUNK = 1 << 20;

    private final Path prefix;
    private final int numShards;
    private final Path[] tmpData;
    private final OutputStream[] data;
    private final long[] sizes;
    private final Map<byte[], BundleEntryProto.Builder> entries = new TreeMap<>(Arrays::compareUnsigned);
    private boolean finished;
    private boolean closed;

    /** A single-shard bundle at {@code prefix} ({@code prefix.index}, {@code prefix.data-00000-of-00001}). */
    public BundleWriter(Path prefix) throws IOException {
        this(prefix, 1);
    }

    /** A bundle with {@code numShards} data shards; {@code add(..., shard)} picks each tensor's shard. */
    public BundleWriter(Path prefix, int numShards) throws IOException {
        if (numShards < 1) throw new IllegalArgumentException("a bundle needs at least one data shard, got " + numShards);
        if (prefix.getFileName() == null) throw new IllegalArgumentException("bad checkpoint prefix " + prefix);
        this.prefix = prefix;
        this.numShards = numShards;
        this.tmpData = new Path[numShards];
        this.data = new OutputStream[numShards];
        this.sizes = new long[numShards];
        Path parent = prefix.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try {
            for (int s = 0; s < numShards; s++) {
                tmpData[s] = AtomicFiles.tempFor(CheckpointReader.dataFile(prefix, s, numShards));
                data[s] = new BufferedOutputStream(Files.newOutputStream(tmpData[s], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16);
            }
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        }
    }

    public Path prefix() {
        return prefix;
    }

    private void checkOpen() {
        if (finished || closed) throw new IllegalStateException("bundle writer for " + prefix + " is already " + (finished ? "finished" : "closed"));
    }

    private byte[] newKey(String name) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty (\"\" is the bundle header's key)");
        if (name.charAt(0) == '\0') throw new IllegalArgumentException("tensor name must not start with \\0 (reserved for slice keys)");
        byte[] key = name.getBytes(StandardCharsets.UTF_8);
        if (entries.containsKey(key)) throw new IllegalArgumentException("tensor '" + name + "' added twice to " + prefix);
        return key;
    }

    private void checkShard(int shard) {
        if (shard < 0 || shard >= numShards) throw new IllegalArgumentException("shard " + shard + " out of range [0, " + numShards + ")");
    }

    private static TensorShapeProto shape(long[] dims) {
        TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        return b.build();
    }

    private static long[] dimsOf(Tensor t) {
        int[] d = t.dims();
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) out[i] = d[i];
        return out;
    }

    /** Adds {@code t} to shard 0, saved with its own dtype (UINT8 as uint8). */
    public void add(String name, Tensor t) throws IOException {
        add(name, t, 0);
    }

    public void add(String name, Tensor t, int shard) throws IOException {
        add(name, TfDataType.of(t.dtype()), t, shard);
    }

    /** Adds {@code t} saved as {@code dtype}, which must load back as t's dtype (e.g. BOOL for a UINT8 tensor of 0/1). */
    public void add(String name, TfDataType dtype, Tensor t, int shard) throws IOException {
        checkOpen();
        checkShard(shard);
        if (dtype.dtype() != t.dtype()) {
            throw new IllegalArgumentException("tensor '" + name + "': a " + t.dtype() + " tensor cannot be saved as " + dtype.tfName());
        }
        addTensor(newKey(name), dtype, t, shard);
    }

    private void addTensor(byte[] key, TfDataType dtype, Tensor t, int shard) throws IOException {
        Tensor host = t.device() instanceof CpuDevice ? t : t.toDevice(CpuDevice.INSTANCE);
        try {
            long offset = sizes[shard];
            CRC32C crc = new CRC32C();
            int elem = dtype.byteSize();
            int per = CHUNK / elem;
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(1L, (long) host.numel() * elem)));
            for (int start = 0; start < host.numel(); start += per) {
                int count = Math.min(per, host.numel() - start);
                buf.clear();
                TensorBytes.get(host, start, count, buf);
                crc.update(buf.array(), 0, buf.position());
                data[shard].write(buf.array(), 0, buf.position());
            }
            long size = (long) host.numel() * elem;
            sizes[shard] += size;
            entries.put(key, entry(dtype, dimsOf(host), shard, offset, size, (int) crc.getValue()));
        } finally {
            if (host != t) host.close();
        }
    }

    private static BundleEntryProto.Builder entry(TfDataType dtype, long[] dims, int shard, long offset, long size, int crc) {
        return BundleEntryProto.newBuilder()
                .setDtypeValue(dtype.code())
                .setShape(shape(dims))
                .setShardId(shard)
                .setOffset(offset)
                .setSize(size)
                .setCrc32C(MaskedCrc32c.mask(crc));
    }

    /**
     * Adds raw little-endian element bytes of any fixed-size dtype (how a converter copies tensors
     * slim4j can't hold, e.g. int16 or complex64).
     */
    public void addBytes(String name, TfDataType dtype, long[] dims, byte[] littleEndian, int shard) throws IOException {
        checkOpen();
        checkShard(shard);
        if (!dtype.isFixedSize()) throw new IllegalArgumentException("addBytes needs a fixed-size dtype, got " + dtype.tfName());
        long n = CheckpointEntry.numElements(dims);
        if (n < 0 || n * dtype.byteSize() != littleEndian.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + littleEndian.length + " bytes for " + dtype.tfName() + " of shape " + Arrays.toString(dims));
        }
        byte[] key = newKey(name);
        long offset = sizes[shard];
        data[shard].write(littleEndian);
        sizes[shard] += littleEndian.length;
        entries.put(key, entry(dtype, dims, shard, offset, littleEndian.length, MaskedCrc32c.crc(littleEndian, 0, littleEndian.length)));
    }

    public void addStrings(String name, long[] dims, List<byte[]> values) throws IOException {
        addStrings(name, dims, values, 0);
    }

    /**
     * Adds a string tensor: varint64 lengths, the masked CRC32C of the lengths (each as a 4-byte
     * LE uint32, 8 bytes if >= 2^32), then the bytes; the entry CRC covers the lengths as CRC'd,
     * the 4 checksum bytes and the string bytes.
     */
    public void addStrings(String name, long[] dims, List<byte[]> values, int shard) throws IOException {
        checkOpen();
        checkShard(shard);
        long n = CheckpointEntry.numElements(dims);
        if (n != values.size()) throw new IllegalArgumentException("tensor '" + name + "': " + values.size() + " strings for shape " + Arrays.toString(dims));
        byte[] key = newKey(name);
        CRC32C crc = new CRC32C();
        ByteArrayOutputStream lengths = new ByteArrayOutputStream();
        ByteBuffer le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] v : values) {
            ByteCursor.putVarint64(lengths, v.length);
            le.clear();
            le.putInt(v.length);
            crc.update(le.array(), 0, 4);
        }
        int lengthsCrc = MaskedCrc32c.mask((int) crc.getValue());
        byte[] crcBytes = {(byte) lengthsCrc, (byte) (lengthsCrc >>> 8), (byte) (lengthsCrc >>> 16), (byte) (lengthsCrc >>> 24)};
        crc.update(crcBytes);
        long offset = sizes[shard];
        OutputStream out = data[shard];
        lengths.writeTo(out);
        out.write(crcBytes);
        long size = lengths.size() + 4L;
        for (byte[] v : values) {
            out.write(v);
            crc.update(v);
            size += v.length;
        }
        sizes[shard] += size;
        entries.put(key, entry(TfDataType.STRING, dims, shard, offset, size, (int) crc.getValue()));
    }

    /**
     * Adds one slice of a partitioned tensor {@code fullName} of shape {@code fullDims}, the way
     * TensorFlow saves partitioned variables: the full tensor's entry lists the slices (dtype and
     * shape, no data), and the slice is stored as its own entry under the OrderedCode key of
     * (name, slice). {@code starts[d]}/{@code lengths[d]} give the slice; length -1 means the
     * whole dimension. A slice covering the whole tensor is saved as a plain tensor.
     */
    public void addSlice(String fullName, long[] fullDims, long[] starts, long[] lengths, Tensor slice, int shard) throws IOException {
        checkOpen();
        checkShard(shard);
        if (starts.length != fullDims.length || lengths.length != fullDims.length) {
            throw new IllegalArgumentException("slice of '" + fullName + "' needs " + fullDims.length + " starts and lengths");
        }
        boolean explicit = false;
        TensorSliceProto.Builder sp = TensorSliceProto.newBuilder();
        long[] sliceDims = new long[fullDims.length];
        for (int d = 0; d < fullDims.length; d++) {
            TensorSliceProto.Extent.Builder e = TensorSliceProto.Extent.newBuilder();
            if (lengths[d] >= 0) {
                if (starts[d] < 0 || starts[d] + lengths[d] > fullDims[d]) {
                    throw new IllegalArgumentException("slice of '" + fullName + "': extent [" + starts[d] + ", +" + lengths[d] + ") outside dimension " + d + " of " + fullDims[d]);
                }
                e.setStart(starts[d]).setLength(lengths[d]);
                sliceDims[d] = lengths[d];
                if (starts[d] != 0 || lengths[d] != fullDims[d]) explicit = true;
            } else {
                sliceDims[d] = fullDims[d];
            }
            sp.addExtent(e);
        }
        if (!Arrays.equals(sliceDims, dimsOf(slice))) {
            throw new IllegalArgumentException("slice of '" + fullName + "': tensor shape " + slice.shape() + " != slice shape " + Arrays.toString(sliceDims));
        }
        if (!explicit) {
            add(fullName, slice, shard);
            return;
        }
        TfDataType dtype = TfDataType.of(slice.dtype());
        byte[] key = fullName.getBytes(StandardCharsets.UTF_8);
        BundleEntryProto.Builder full = entries.get(key);
        if (full == null) {
            if (fullName.isEmpty() || fullName.charAt(0) == '\0') throw new IllegalArgumentException("bad tensor name '" + fullName + "'");
            full = BundleEntryProto.newBuilder().setDtypeValue(dtype.code()).setShape(shape(fullDims));
            entries.put(key, full);
        } else if (full.getSlicesCount() == 0 || full.getDtypeValue() != dtype.code() || !full.getShape().equals(shape(fullDims))) {
            throw new IllegalArgumentException("slice of '" + fullName + "' does not match the tensor already added under that name");
        }
        TensorSliceProto sliceProto = sp.build();
        byte[] sliceKey = TensorSlices.key(fullName, sliceProto);
        if (entries.containsKey(sliceKey)) throw new IllegalArgumentException("slice " + sliceProto + " of '" + fullName + "' added twice");
        full.addSlices(sliceProto);
        addTensor(sliceKey, dtype, slice, shard);
    }

    /** Completes the checkpoint: syncs the data shards, writes the index, renames everything into place. */
    public Path finish() throws IOException {
        checkOpen();
        Path tmpIndex = AtomicFiles.tempFor(CheckpointReader.indexFile(prefix));
        try {
            for (int s = 0; s < numShards; s++) {
                data[s].close();
                data[s] = null;
                AtomicFiles.sync(tmpData[s]);
            }
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmpIndex, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16)) {
                SsTableWriter table = new SsTableWriter(out);
                BundleHeaderProto header = BundleHeaderProto.newBuilder()
                        .setNumShards(numShards)
                        .setEndianness(BundleHeaderProto.Endianness.LITTLE)
                        .setVersion(VersionDef.newBuilder().setProducer(BundleReader.VERSION).setMinConsumer(0))
                        .build();
                table.add(new byte[0], header.toByteArray());
                for (Map.Entry<byte[], BundleEntryProto.Builder> e : entries.entrySet()) {
                    table.add(e.getKey(), e.getValue().build().toByteArray());
                }
                table.finish();
            }
            AtomicFiles.sync(tmpIndex);
            // Remove the old index first: it must never describe data files that are being replaced.
            Files.deleteIfExists(CheckpointReader.indexFile(prefix));
            for (int s = 0; s < numShards; s++) AtomicFiles.move(tmpData[s], CheckpointReader.dataFile(prefix, s, numShards));
            AtomicFiles.move(tmpIndex, CheckpointReader.indexFile(prefix));
            finished = true;
            return prefix;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmpIndex);
            abort();
            throw e;
        }
    }

    private void abort() {
        closed = true;
        for (int s = 0; s < numShards; s++) {
            try {
                if (data[s] != null) data[s].close();
            } catch (IOException ignored) {
                // the file is deleted below anyway
            }
            data[s] = null;
            try {
                if (tmpData[s] != null) Files.deleteIfExists(tmpData[s]);
            } catch (IOException ignored) {
                // best effort: a leftover .tempstate file is never mistaken for a checkpoint
            }
        }
    }

    /** Without a successful {@link #finish}, deletes everything written: nothing appears under the prefix. */
    @Override
    public void close() {
        if (!finished && !closed) abort();
        closed = true;
    }
}
