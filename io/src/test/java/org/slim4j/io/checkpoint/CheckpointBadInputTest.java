package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.io.proto.TensorShapeProto;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/** Each kind of damage gives a CheckpointFormatException that names the file (and tensor). */
class CheckpointBadInputTest {
    @TempDir
    Path tmp;
    private Path prefix;
    private Path index;
    private Path data;
    private long live;

    @BeforeEach
    void copyGolden() throws Exception {
        live = CpuDevice.INSTANCE.liveBytes();
        CheckpointTestSupport.copyDir(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single"), tmp);
        prefix = tmp.resolve("model.ckpt-1234");
        index = CheckpointReader.indexFile(prefix);
        data = CheckpointReader.dataFile(prefix, 0, 1);
    }

    @AfterEach
    void noLeaks() {
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked");
    }

    private static CheckpointFormatException fails(Executable e, String... mustMention) {
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, e);
        for (String m : mustMention) assertTrue(ex.getMessage().contains(m), "message should mention " + m + ": " + ex.getMessage());
        return ex;
    }

    private void readAll() throws Exception {
        try (CheckpointReader r = CheckpointReader.open(prefix)) {
            for (CheckpointEntry e : r.entries()) {
                if (e.dtype() == TfDataType.STRING) {
                    r.readStrings(e.name());
                } else {
                    try (Tensor t = r.read(e.name())) {
                        assertEquals(e.numElements(), t.numel());
                    }
                }
            }
        }
    }

    private void mutate(Path f, UnaryOperator<byte[]> op) throws Exception {
        Files.write(f, op.apply(Files.readAllBytes(f)));
    }

    /** Rewrites the index (with valid block CRCs) after changing one tensor's entry. */
    private void rewriteEntry(String name, UnaryOperator<BundleEntryProto> op) throws Exception {
        List<SsTableReader.Entry> all;
        try (SsTableReader t = new SsTableReader(index)) {
            all = t.entries();
        }
        try (OutputStream out = Files.newOutputStream(index)) {
            SsTableWriter w = new SsTableWriter(out);
            for (SsTableReader.Entry e : all) {
                byte[] v = e.value();
                if (new String(e.key(), java.nio.charset.StandardCharsets.UTF_8).equals(name)) v = op.apply(BundleEntryProto.parseFrom(v)).toByteArray();
                w.add(e.key(), v);
            }
            w.finish();
        }
    }

    private static BundleEntryProto parse(byte[] b) {
        try {
            return BundleEntryProto.parseFrom(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void intactCopyReads() throws Exception {
        readAll();
    }

    @Test
    void truncatedIndex() throws Exception {
        mutate(index, b -> Arrays.copyOf(b, b.length - 10));
        fails(this::readAll, index.toString(), "magic");
        mutate(index, b -> Arrays.copyOf(b, 30));
        fails(this::readAll, index.toString(), "truncated");
    }

    @Test
    void badMagic() throws Exception {
        mutate(index, b -> {
            b[b.length - 1] ^= 0x40;
            return b;
        });
        fails(this::readAll, index.toString(), "bad table magic");
    }

    @Test
    void indexBlockCrcMismatch() throws Exception {
        mutate(index, b -> {
            b[20] ^= 1; // inside the first data block (a tensor name)
            return b;
        });
        fails(this::readAll, index.toString(), "CRC mismatch");
    }

    @Test
    void dataCrcMismatchNamesTheTensor() throws Exception {
        long off;
        try (BundleReader r = BundleReader.open(prefix)) {
            off = r.rawEntry("InceptionV3/Logits/Conv2d_1c_1x1/biases").getOffset();
        }
        mutate(data, b -> {
            b[(int) off + 100] ^= 0x10;
            return b;
        });
        fails(this::readAll, data.toString(), "InceptionV3/Logits/Conv2d_1c_1x1/biases", "CRC mismatch");
    }

    @Test
    void stringTensorDamage() throws Exception {
        long off;
        try (BundleReader r = BundleReader.open(prefix)) {
            off = r.rawEntry("extra/strings").getOffset();
        }
        mutate(data, b -> {
            b[(int) off + 1] = (byte) 0x7f; // second length: 127 instead of 5
            return b;
        });
        fails(this::readAll, data.toString(), "extra/strings");
    }

    @Test
    void truncatedData() throws Exception {
        mutate(data, b -> Arrays.copyOf(b, b.length / 2));
        fails(this::readAll, data.toString(), "truncated");
    }

    @Test
    void missingShardNamesFileAndTensor() throws Exception {
        Path dir = tmp.resolve("sharded");
        CheckpointTestSupport.copyDir(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_sharded"), dir);
        Path p = dir.resolve("model.ckpt-2000");
        Files.delete(CheckpointReader.dataFile(p, 1, 2));
        try (BundleReader r = BundleReader.open(p)) {
            String inShard1 = null;
            for (CheckpointEntry e : r.entries()) {
                if (r.rawEntry(e.name()).getShardId() == 1) {
                    if (e.dtype() != TfDataType.STRING) inShard1 = e.name();
                }
                else if (e.dtype() != TfDataType.STRING) r.read(e.name()).close(); // shard 0 still reads
            }
            String name = inShard1;
            fails(() -> r.read(name), "data-00001-of-00002", "missing data shard", name);
        }
    }

    @Test
    void unknownDtype() throws Exception {
        rewriteEntry("global_step", e -> e.toBuilder().setDtypeValue(99).build());
        fails(() -> BundleReader.open(prefix), index.toString(), "global_step", "unknown dtype 99");
    }

    @Test
    void absurdLengthsAreCaughtBeforeAllocating() throws Exception {
        // Size and shape agree (2^38 floats = 1 TiB) but the data file is 1.5 MB.
        rewriteEntry("InceptionV3/Conv2d_1a_3x3/weights", e -> e.toBuilder().setSize(1L << 40)
                .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 38))).build());
        try (BundleReader r = BundleReader.open(prefix)) {
            fails(() -> r.readBytes("InceptionV3/Conv2d_1a_3x3/weights"), "InceptionV3/Conv2d_1a_3x3/weights", "too large");
        }
        rewriteEntry("InceptionV3/Conv2d_1a_3x3/weights", e -> e.toBuilder().setSize(1L << 30)
                .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 28))).build());
        try (BundleReader r = BundleReader.open(prefix)) {
            fails(() -> r.read("InceptionV3/Conv2d_1a_3x3/weights"), data.toString(), "InceptionV3/Conv2d_1a_3x3/weights", "truncated");
        }
        // Element count overflowing 64 bits, and a size disagreeing with the shape.
        rewriteEntry("global_step", e -> e.toBuilder().setShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 40)).addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 40))).build());
        fails(() -> BundleReader.open(prefix), "global_step");
        rewriteEntry("global_step", e -> e.toBuilder().setShape(TensorShapeProto.getDefaultInstance()).setSize(12).build());
        fails(() -> BundleReader.open(prefix), "global_step", "should have 8 bytes");
        rewriteEntry("global_step", e -> e.toBuilder().setShardId(3).setSize(8).build());
        fails(() -> BundleReader.open(prefix), "global_step", "shard 3");
        // A string tensor claiming a billion elements in 200 bytes.
        rewriteEntry("extra/strings", e -> e.toBuilder().setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 30))).build());
        fails(() -> BundleReader.open(prefix), "extra/strings");
    }

    /** A table whose single data block has the given contents (trailer CRCs, index and footer valid). */
    private static byte[] tableWithBlock(byte[] block) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        writeBlock(out, block);
        long metaOff = out.size();
        byte[] meta = {0, 0, 0, 0, 1, 0, 0, 0};
        writeBlock(out, meta);
        long idxOff = out.size();
        java.io.ByteArrayOutputStream handle = new java.io.ByteArrayOutputStream();
        ByteCursor.putVarint64(handle, 0);
        ByteCursor.putVarint64(handle, block.length);
        java.io.ByteArrayOutputStream idx = new java.io.ByteArrayOutputStream();
        idx.write(0);
        idx.write(1);
        idx.write(handle.size());
        idx.write('z');
        idx.writeBytes(handle.toByteArray());
        ByteCursor.putFixed32(idx, 0);
        ByteCursor.putFixed32(idx, 1);
        byte[] ib = idx.toByteArray();
        writeBlock(out, ib);
        java.io.ByteArrayOutputStream footer = new java.io.ByteArrayOutputStream();
        ByteCursor.putVarint64(footer, metaOff);
        ByteCursor.putVarint64(footer, meta.length);
        ByteCursor.putVarint64(footer, idxOff);
        ByteCursor.putVarint64(footer, ib.length);
        while (footer.size() < 40) footer.write(0);
        ByteCursor.putFixed64(footer, SsTableReader.MAGIC);
        out.writeBytes(footer.toByteArray());
        return out.toByteArray();
    }

    private static void writeBlock(java.io.ByteArrayOutputStream out, byte[] block) {
        out.writeBytes(block);
        byte[] withType = Arrays.copyOf(block, block.length + 1);
        out.write(0);
        ByteCursor.putFixed32(out, org.slim4j.io.MaskedCrc32c.maskedCrc(withType));
    }

    @Test
    void absurdVarintInABlock() throws Exception {
        // One entry: shared 0, non_shared 2^31-1 (a varint), value_len 0, then 3 key bytes; restarts [0], count 1.
        byte[] block = {0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0, 'a', 'b', 'c', 0, 0, 0, 0, 1, 0, 0, 0};
        Files.write(index, tableWithBlock(block));
        fails(() -> BundleReader.open(prefix), index.toString(), "runs past the end");
        // A varint longer than 5 bytes, and a restart count larger than the block.
        block[5] = (byte) 0xff;
        Files.write(index, tableWithBlock(block));
        fails(() -> BundleReader.open(prefix), index.toString(), "varint32");
        byte[] restarts = {0, 1, 0, 'a', 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0};
        Files.write(index, tableWithBlock(restarts));
        fails(() -> BundleReader.open(prefix), index.toString(), "restart points");
    }

    @Test
    void damagedV1Files() throws Exception {
        Path v1 = tmp.resolve("export");
        Files.copy(CheckpointTestSupport.tfTestData().resolve("serving/bad_half_plus_two/00000123/export"), v1);
        mutate(v1, b -> Arrays.copyOf(b, b.length - 1));
        fails(() -> CheckpointReader.open(v1), v1.toString(), "magic");
        Files.copy(CheckpointTestSupport.tfTestData().resolve("serving/bad_half_plus_two/00000123/export"), v1, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        mutate(v1, b -> {
            b[0x50] ^= 0x04; // inside Variable's float value
            return b;
        });
        fails(() -> {
            try (CheckpointReader r = CheckpointReader.open(v1)) {
                r.read("Variable").close();
            }
        }, v1.toString(), "CRC mismatch");
    }
}
