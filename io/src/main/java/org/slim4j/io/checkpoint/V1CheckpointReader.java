package org.slim4j.io.checkpoint;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import org.slim4j.io.proto.SavedSlice;
import org.slim4j.io.proto.SavedSliceMeta;
import org.slim4j.io.proto.SavedTensorSlices;
import org.slim4j.io.proto.TensorProto;
import org.slim4j.io.proto.TensorSliceProto;
import org.slim4j.tensor.Tensor;

/**
 * Reads a TensorFlow V1 checkpoint (the old Saver's format, e.g. the 2016 TF-Slim model files):
 * one or more SSTable files (shards) of SavedTensorSlices protos. Key "" holds the meta: for each
 * tensor its name, shape, dtype and the slices stored in this file. Every other key is the
 * OrderedCode encoding of (name, slice) and holds a SavedSlice whose TensorProto carries the
 * slice's values, in {@code tensor_content} or in the typed repeated field of its dtype
 * ({@code float_val}, {@code double_val}, {@code int_val} (int32, int16, int8, uint8, uint16),
 * {@code int64_val}, {@code bool_val}, {@code half_val} (half, bfloat16), {@code string_val}, ...).
 * Only the meta is read on open; values are looked up by key when asked for.
 */
public final class V1CheckpointReader implements CheckpointReader {
    private record Part(SsTableReader table, TensorSliceProto slice) {
    }

    private record Info(CheckpointEntry entry, List<Part> parts) {
    }

    private final Path path;
    private final List<SsTableReader> tables;
    private final Map<String, Info> tensors;
    private final List<CheckpointEntry> list;

    private V1CheckpointReader(Path path, List<SsTableReader> tables, Map<String, Info> tensors) {
        this.path = path;
        this.tables = tables;
        this.tensors = tensors;
        List<CheckpointEntry> l = new ArrayList<>();
        for (Info i : tensors.values()) l.add(i.entry);
        this.list = Collections.unmodifiableList(l);
    }

    /** Opens the V1 checkpoint made of {@code files} (one file, or all shards of a sharded save). */
    public static V1CheckpointReader open(List<Path> files) throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no V1 checkpoint files given");
        List<SsTableReader> tables = new ArrayList<>();
        // Sorted bytewise like a V2 index, so both formats list tensors in the same order.
        Map<String, Info> tensors = new TreeMap<>((a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8),
                b.getBytes(StandardCharsets.UTF_8)));
        try {
            for (Path f : files) {
                SsTableReader t = new SsTableReader(f);
                tables.add(t);
                readMeta(f, t, tensors);
            }
        } catch (IOException | RuntimeException e) {
            for (SsTableReader t : tables) t.close();
            throw e;
        }
        return new V1CheckpointReader(files.get(0), tables, tensors);
    }

    private static void readMeta(Path f, SsTableReader t, Map<String, Info> tensors) throws IOException {
        byte[] metaBytes = t.get(new byte[0]);
        if (metaBytes == null) throw new CheckpointFormatException(f + ": not a V1 checkpoint (no SavedTensorSlices meta under key \"\")");
        SavedTensorSlices sts;
        try {
            sts = SavedTensorSlices.parseFrom(metaBytes);
        } catch (InvalidProtocolBufferException e) {
            throw new CheckpointFormatException(f + ": not a V1 checkpoint (key \"\" is not a SavedTensorSlices proto)", e);
        }
        if (!sts.hasMeta()) throw new CheckpointFormatException(f + ": not a V1 checkpoint (key \"\" holds no SavedTensorSliceMeta)");
        for (SavedSliceMeta m : sts.getMeta().getTensorList()) {
            String where = f + ": tensor '" + m.getName() + "'";
            TfDataType dt = TfDataType.fromCode(m.getTypeValue());
            if (dt == null) throw new CheckpointFormatException(where + " has unknown dtype " + m.getTypeValue());
            long[] dims = BundleReader.dims(m.getShape(), where);
            if (CheckpointEntry.numElements(dims) < 0) throw new CheckpointFormatException(where + ": shape " + BundleReader.shapeString(dims) + " is too large");
            for (TensorSliceProto s : m.getSliceList()) TensorSlices.bounds(s, dims, where);
            CheckpointEntry entry = new CheckpointEntry(m.getName(), dt, dims);
            Info info = tensors.get(m.getName());
            if (info == null) {
                info = new Info(entry, new ArrayList<>());
                tensors.put(m.getName(), info);
            } else if (!info.entry.equals(entry)) {
                throw new CheckpointFormatException(where + " is " + entry + " here but " + info.entry + " in another shard");
            }
            for (TensorSliceProto s : m.getSliceList()) info.parts.add(new Part(t, s));
        }
    }

    @Override
    public String format() {
        return "V1";
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<CheckpointEntry> entries() {
        return list;
    }

    @Override
    public Optional<CheckpointEntry> find(String name) {
        Info i = tensors.get(name);
        return i == null ? Optional.empty() : Optional.of(i.entry);
    }

    private Info info(String name) {
        Info i = tensors.get(name);
        if (i == null) throw new NoSuchElementException("tensor '" + name + "' not found in checkpoint " + path);
        return i;
    }

    @Override
    public Tensor read(String name) throws IOException {
        Info i = info(name);
        if (i.entry.dtype() == TfDataType.STRING) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + path + " holds strings; use readStrings");
        }
        TensorBytes.allocate(i.entry, path.toString()).close(); // fails early, before reading, for dtypes slim4j can't hold
        return TensorBytes.toTensor(i.entry, readBytes(name), path.toString());
    }

    @Override
    public byte[] readBytes(String name) throws IOException {
        Info i = info(name);
        CheckpointEntry e = i.entry;
        if (!e.dtype().isFixedSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + path + " has dtype " + e.dtype().tfName() + ", which has no fixed-size elements");
        }
        long total = e.numElements() * e.dtype().byteSize();
        if (total > Integer.MAX_VALUE - 8) throw new CheckpointFormatException(path + ": tensor '" + name + "' of " + total + " bytes is too large to read at once");
        checkFits(i, name);
        byte[] out = new byte[(int) total];
        long[] dims = e.dims();
        long covered = 0;
        List<long[][]> seen = new ArrayList<>();
        for (Part p : i.parts) {
            String where = p.table.file() + ": tensor '" + name + "'";
            long[][] b = TensorSlices.bounds(p.slice, dims, where);
            for (long[][] o : seen) {
                if (overlaps(b, o)) throw new CheckpointFormatException(where + ": stored slices overlap");
            }
            seen.add(b);
            TensorProto tp = slice(p, name, where);
            long n = CheckpointEntry.numElements(TensorSlices.sliceDims(b));
            byte[] part = values(tp, e.dtype(), (int) n, where);
            TensorSlices.copyInto(part, out, dims, b, e.dtype().byteSize());
            covered += n;
        }
        if (covered != e.numElements()) {
            throw new CheckpointFormatException(path + ": tensor '" + name + "': its stored slices cover " + covered + " of " + e.numElements() + " elements");
        }
        return out;
    }

    @Override
    public List<byte[]> readStrings(String name) throws IOException {
        Info i = info(name);
        CheckpointEntry e = i.entry;
        if (e.dtype() != TfDataType.STRING) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + path + " has dtype " + e.dtype().tfName() + ", not DT_STRING");
        }
        long[] dims = e.dims();
        if (e.numElements() > Integer.MAX_VALUE - 8) throw new CheckpointFormatException(path + ": string tensor '" + name + "' is too large");
        checkFits(i, name);
        List<long[][]> seen = new ArrayList<>();
        byte[][] out = new byte[(int) e.numElements()][];
        long covered = 0;
        for (Part p : i.parts) {
            String where = p.table.file() + ": tensor '" + name + "'";
            long[][] b = TensorSlices.bounds(p.slice, dims, where);
            for (long[][] o : seen) {
                if (overlaps(b, o)) throw new CheckpointFormatException(where + ": stored slices overlap");
            }
            seen.add(b);
            TensorProto tp = slice(p, name, where);
            long n = CheckpointEntry.numElements(TensorSlices.sliceDims(b));
            if (tp.getStringValCount() != n) {
                throw new CheckpointFormatException(where + ": slice holds " + tp.getStringValCount() + " strings, expected " + n);
            }
            int[] k = {0};
            TensorSlices.forEachIndex(dims, b, j -> {
                if (out[(int) j] == null) out[(int) j] = tp.getStringVal(k[0]).toByteArray();
                k[0]++;
            });
            covered += n;
        }
        if (covered != out.length) {
            throw new CheckpointFormatException(path + ": tensor '" + name + "': its stored slices cover " + covered + " of " + out.length + " elements");
        }
        return Arrays.asList(out);
    }

    /** Every stored element takes at least one byte, so a shape larger than its files is corrupt (checked before allocating). */
    private void checkFits(Info i, String name) throws CheckpointFormatException {
        long bytes = 0;
        for (Part p : i.parts) bytes += p.table.fileSize();
        if (i.parts.isEmpty() && i.entry.numElements() > 0) {
            throw new CheckpointFormatException(path + ": tensor '" + name + "' has no stored slices");
        }
        if (i.entry.numElements() > bytes) {
            throw new CheckpointFormatException(path + ": tensor '" + name + "' of shape " + i.entry.shapeString()
                    + " claims more elements than its files hold (" + bytes + " bytes)");
        }
    }

    private static boolean overlaps(long[][] a, long[][] b) {
        for (int d = 0; d < a.length; d++) {
            if (a[d][0] + a[d][1] <= b[d][0] || b[d][0] + b[d][1] <= a[d][0]) return false;
        }
        return true;
    }

    /** The stored TensorProto of one slice, found by its OrderedCode key. */
    private TensorProto slice(Part p, String name, String where) throws IOException {
        byte[] v = p.table.get(TensorSlices.key(name, p.slice));
        if (v == null) throw new CheckpointFormatException(where + ": the data of a slice listed in the meta is missing");
        SavedTensorSlices sts;
        try {
            sts = SavedTensorSlices.parseFrom(v);
        } catch (InvalidProtocolBufferException ex) {
            throw new CheckpointFormatException(where + ": slice data is not a valid SavedTensorSlices proto", ex);
        }
        SavedSlice s = sts.getData();
        if (!sts.hasData() || !s.getName().equals(name)) {
            throw new CheckpointFormatException(where + ": the slice key holds data of '" + s.getName() + "'");
        }
        return s.getData();
    }

    /** The slice's n values as little-endian bytes of {@code dt}, from tensor_content or the typed field. */
    static byte[] values(TensorProto tp, TfDataType dt, int n, String where) throws CheckpointFormatException {
        int size = dt.byteSize();
        ByteString content = tp.getTensorContent();
        if (!content.isEmpty()) {
            if (content.size() != (long) n * size) {
                throw new CheckpointFormatException(where + ": tensor_content has " + content.size() + " bytes, expected " + (long) n * size);
            }
            return content.toByteArray();
        }
        ByteBuffer b = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
        int count = switch (dt) {
            case FLOAT -> tp.getFloatValCount();
            case DOUBLE -> tp.getDoubleValCount();
            case INT32, INT16, INT8, UINT8, UINT16, QINT8, QUINT8, QINT16, QUINT16, QINT32 -> tp.getIntValCount();
            case INT64 -> tp.getInt64ValCount();
            case BOOL -> tp.getBoolValCount();
            case HALF, BFLOAT16 -> tp.getHalfValCount() > 0 ? tp.getHalfValCount() : tp.getIntValCount();
            case COMPLEX64 -> tp.getScomplexValCount() / 2;
            case COMPLEX128 -> tp.getDcomplexValCount() / 2;
            case UINT32 -> tp.getUint32ValCount();
            case UINT64 -> tp.getUint64ValCount();
            default -> throw new CheckpointFormatException(where + ": dtype " + dt.tfName() + " cannot be read from a V1 checkpoint");
        };
        if (count != n) throw new CheckpointFormatException(where + ": slice holds " + count + " values, expected " + n);
        for (int k = 0; k < n; k++) {
            switch (dt) {
                case FLOAT -> b.putFloat(tp.getFloatVal(k));
                case DOUBLE -> b.putDouble(tp.getDoubleVal(k));
                case INT32, QINT32 -> b.putInt(tp.getIntVal(k));
                case INT16, UINT16, QINT16, QUINT16 -> b.putShort((short) tp.getIntVal(k));
                case INT8, UINT8, QINT8, QUINT8 -> b.put((byte) tp.getIntVal(k));
                case INT64 -> b.putLong(tp.getInt64Val(k));
                case BOOL -> b.put((byte) (tp.getBoolVal(k) ? 1 : 0));
                case HALF, BFLOAT16 -> b.putShort((short) (tp.getHalfValCount() > 0 ? tp.getHalfVal(k) : tp.getIntVal(k)));
                case COMPLEX64 -> b.putFloat(tp.getScomplexVal(2 * k)).putFloat(tp.getScomplexVal(2 * k + 1));
                case COMPLEX128 -> b.putDouble(tp.getDcomplexVal(2 * k)).putDouble(tp.getDcomplexVal(2 * k + 1));
                case UINT32 -> b.putInt(tp.getUint32Val(k));
                case UINT64 -> b.putLong(tp.getUint64Val(k));
                default -> throw new IllegalStateException();
            }
        }
        return b.array();
    }

    /** The raw SSTable entries of every file (key "" first), for tools and tests. */
    public Map<Path, List<SsTableReader.Entry>> rawEntries() throws IOException {
        Map<Path, List<SsTableReader.Entry>> m = new HashMap<>();
        for (SsTableReader t : tables) m.put(t.file(), t.entries());
        return m;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SsTableReader t : tables) {
            try {
                t.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
