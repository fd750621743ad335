package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.CpuStorage;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class BundleWriterTest {
    @TempDir
    Path tmp;
    private long live;

    @BeforeEach
    void start() {
        live = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked");
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripsEveryDtype() throws Exception {
        Path prefix = tmp.resolve("rt/model.ckpt-7");
        float[] f = {1.5f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -3.25f};
        double[] d = {Math.PI, -1e300, Double.MIN_VALUE};
        int[] i32 = {Integer.MIN_VALUE, -1, 0, 7, Integer.MAX_VALUE};
        long[] i64 = {Long.MIN_VALUE, 42, Long.MAX_VALUE};
        byte[] u8 = {0, 1, (byte) 200, (byte) 255};
        List<byte[]> strings = List.of(new byte[0], "hello".getBytes(), "héllo ✓".getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xff, 0}, new byte[300], "z".getBytes());
        try (Tensor tf = Tensor.of(f, 2, 3); Tensor td = Tensor.of(d, 3); Tensor ti = Tensor.of(i32, 5); Tensor tl = Tensor.of(i64, 3, 1);
             Tensor tu = Tensor.ofBytes(u8, 2, 2); Tensor tb = Tensor.ofBytes(new byte[] {1, 0, 1}, 3);
             Tensor th = Tensor.zeros(DType.FLOAT16, Shape.of(2)); Tensor tbf = Tensor.zeros(DType.BFLOAT16, Shape.of(1));
             Tensor empty = Tensor.zeros(DType.FLOAT32, Shape.of(0, 3)); Tensor scalar = Tensor.of(new long[] {99}); Tensor big = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(301, 999), -1, 1)) {
            short[] half = (short[]) ((CpuStorage) th.storage()).array();
            half[0] = 0x3c00; // 1.0
            half[1] = (short) 0xc000; // -2.0
            ((short[]) ((CpuStorage) tbf.storage()).array())[0] = 0x3f80; // bfloat16 1.0
            try (BundleWriter w = new BundleWriter(prefix)) {
                w.add("f32", tf);
                w.add("f64", td);
                w.add("i32", ti);
                w.add("i64", tl);
                w.add("u8", tu);
                w.add("bool", TfDataType.BOOL, tb, 0);
                w.add("half", th);
                w.add("bf16", tbf);
                w.add("empty", empty);
                w.add("scalar", scalar); // Tensor.of with one value and no dims is a scalar
                w.add("big", big);
                w.addStrings("strings", new long[] {3, 2}, strings);
                w.addStrings("no_strings", new long[] {0}, List.of());
                w.addBytes("i16", TfDataType.INT16, new long[] {2}, new byte[] {1, 2, 3, 4}, 0);
                w.addBytes("c64", TfDataType.COMPLEX64, new long[] {1}, new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}, 0);
                w.finish();
            }
            assertEquals(List.of("model.ckpt-7.data-00000-of-00001", "model.ckpt-7.index"), files(prefix.getParent()));
            try (BundleReader r = BundleReader.open(prefix)) {
                assertEquals(List.of("bf16", "big", "bool", "c64", "empty", "f32", "f64", "half", "i16", "i32", "i64", "no_strings", "scalar", "strings", "u8"),
                        r.entries().stream().map(CheckpointEntry::name).toList());
                try (Tensor t = r.read("f32")) {
                    assertArrayEquals(new int[] {2, 3}, t.dims());
                    for (int k = 0; k < f.length; k++) assertEquals(Float.floatToRawIntBits(f[k]), Float.floatToRawIntBits(t.floatData()[t.offset() + k]));
                }
                try (Tensor t = r.read("f64")) {
                    assertArrayEquals(d, t.toDoubleArray());
                }
                try (Tensor t = r.read("i32")) {
                    assertArrayEquals(i32, t.toIntArray());
                }
                try (Tensor t = r.read("i64")) {
                    assertArrayEquals(i64, t.toLongArray());
                    assertArrayEquals(new int[] {3, 1}, t.dims());
                }
                try (Tensor t = r.read("u8")) {
                    assertArrayEquals(u8, java.util.Arrays.copyOfRange(t.byteData(), t.offset(), t.offset() + 4));
                }
                assertEquals(TfDataType.BOOL, r.entry("bool").dtype());
                try (Tensor t = r.read("bool")) {
                    assertEquals(DType.UINT8, t.dtype());
                    assertArrayEquals(new double[] {1, 0, 1}, t.toDoubleArray());
                }
                try (Tensor t = r.read("half")) {
                    assertEquals(DType.FLOAT16, t.dtype());
                    short[] h = (short[]) ((CpuStorage) t.storage()).array();
                    assertEquals(0x3c00, h[t.offset()]);
                    assertEquals((short) 0xc000, h[t.offset() + 1]);
                }
                assertArrayEquals(new byte[] {(byte) 0x80, 0x3f}, r.readBytes("bf16"));
                try (Tensor t = r.read("empty")) {
                    assertArrayEquals(new int[] {0, 3}, t.dims());
                }
                try (Tensor t = r.read("scalar")) {
                    assertEquals(0, t.rank());
                    assertEquals(99L, t.longData()[t.offset()]);
                }
                try (Tensor t = r.read("big")) {
                    assertArrayEquals(big.toFloatArray(), t.toFloatArray());
                }
                List<byte[]> s = r.readStrings("strings");
                assertEquals(strings.size(), s.size());
                for (int k = 0; k < s.size(); k++) assertArrayEquals(strings.get(k), s.get(k));
                assertTrue(r.readStrings("no_strings").isEmpty());
                assertArrayEquals(new byte[] {1, 2, 3, 4}, r.readBytes("i16"));
                assertEquals("c64 (DT_COMPLEX64) [1]", r.entry("c64").toString());
                assertThrows(CheckpointFormatException.class, () -> r.read("i16"), "slim4j has no int16 tensors");
            }
        }
    }

    private record Stored(CheckpointEntry entry, BundleEntryProto proto) {
    }

    /**
     * Re-writes TensorFlow's golden checkpoints tensor by tensor (in their data-file order, same
     * shards) and gets byte-identical .index and .data files: same entries, data bytes and CRCs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ckpt_single/model.ckpt-1234", "ckpt_sharded/model.ckpt-2000", "ckpt_many/model.ckpt-99999"})
    void rewritingGoldenCheckpointsIsByteIdentical(String rel) throws Exception {
        Path golden = CheckpointTestSupport.goldenCheckpoints().resolve(rel);
        Path out = tmp.resolve("rewrite").resolve(golden.getFileName().toString());
        int shards;
        try (BundleReader r = BundleReader.open(golden)) {
            shards = r.numShards();
            List<Stored> order = new ArrayList<>();
            for (CheckpointEntry e : r.entries()) order.add(new Stored(e, r.rawEntry(e.name())));
            order.sort(Comparator.comparingInt((Stored s) -> s.proto.getShardId()).thenComparingLong(s -> s.proto.getOffset()));
            try (BundleWriter w = new BundleWriter(out, shards)) {
                for (Stored s : order) {
                    String name = s.entry.name();
                    if (s.entry.dtype() == TfDataType.STRING) {
                        w.addStrings(name, s.entry.dims(), r.readStrings(name), s.proto.getShardId());
                    } else {
                        try (Tensor t = r.read(name)) {
                            w.add(name, s.entry.dtype(), t, s.proto.getShardId());
                        }
                    }
                }
                w.finish();
            }
        }
        assertArrayEquals(Files.readAllBytes(CheckpointReader.indexFile(golden)), Files.readAllBytes(CheckpointReader.indexFile(out)), "index");
        for (int s = 0; s < shards; s++) {
            assertArrayEquals(Files.readAllBytes(CheckpointReader.dataFile(golden, s, shards)), Files.readAllBytes(CheckpointReader.dataFile(out, s, shards)), "data shard " + s);
        }
    }

    @Test
    void largeIndexSpansSeveralBlocks() throws Exception {
        Path prefix = tmp.resolve("many");
        int n = 4000;
        String pad = "/very/long/scope/name/for/a/tf/slim/variable/".repeat(2);
        try (BundleWriter w = new BundleWriter(prefix); Tensor t = Tensor.of(new float[] {1, 2})) {
            for (int i = 0; i < n; i++) w.add(String.format("v%05d%sweights", i, pad), t);
            w.finish();
        }
        assertTrue(Files.size(CheckpointReader.indexFile(prefix)) > 256 * 1024, "index > 256 KiB");
        try (SsTableReader table = new SsTableReader(CheckpointReader.indexFile(prefix))) {
            assertTrue(table.blockCount() >= 2, "several index data blocks, got " + table.blockCount());
        }
        try (BundleReader r = BundleReader.open(prefix)) {
            assertEquals(n, r.entries().size());
            String last = String.format("v%05d%sweights", n - 1, pad);
            assertEquals(last, r.entries().get(n - 1).name());
            assertEquals(8L * (n - 1), r.rawEntry(last).getOffset());
            try (Tensor x = r.read(last)) {
                assertArrayEquals(new float[] {1, 2}, x.toFloatArray());
            }
        }
    }

    @Test
    void partitionedVariablesRoundTrip() throws Exception {
        Path prefix = tmp.resolve("part");
        float[] full = new float[6 * 5];
        for (int i = 0; i < full.length; i++) full[i] = i;
        try (BundleWriter w = new BundleWriter(prefix, 2);
             Tensor top = Tensor.of(java.util.Arrays.copyOfRange(full, 0, 10), 2, 5);
             Tensor mid = Tensor.of(java.util.Arrays.copyOfRange(full, 10, 25), 3, 5);
             Tensor bot = Tensor.of(java.util.Arrays.copyOfRange(full, 25, 30), 1, 5);
             Tensor whole = Tensor.of(new float[] {7, 8})) {
            long[] dims = {6, 5};
            w.addSlice("logits/weights", dims, new long[] {2, 0}, new long[] {3, -1}, mid, 1);
            w.addSlice("logits/weights", dims, new long[] {0, 0}, new long[] {2, 5}, top, 0);
            w.addSlice("logits/weights", dims, new long[] {5, 0}, new long[] {1, 5}, bot, 1);
            w.addSlice("whole", new long[] {2}, new long[] {0}, new long[] {2}, whole, 0); // covers all: a plain tensor
            assertThrows(IllegalArgumentException.class, () -> w.addSlice("logits/weights", dims, new long[] {0, 0}, new long[] {2, 5}, top, 0));
            w.finish();
        }
        try (BundleReader r = BundleReader.open(prefix)) {
            assertEquals(List.of("logits/weights", "whole"), r.entries().stream().map(CheckpointEntry::name).toList());
            assertEquals(3, r.rawEntry("logits/weights").getSlicesCount());
            assertEquals(0, r.rawEntry("whole").getSlicesCount());
            try (Tensor t = r.read("logits/weights")) {
                assertArrayEquals(new int[] {6, 5}, t.dims());
                assertArrayEquals(full, t.toFloatArray());
            }
        }
        // A missing slice is a clear error, not garbage.
        try (SsTableReader table = new SsTableReader(CheckpointReader.indexFile(prefix))) {
            List<SsTableReader.Entry> all = table.entries();
            Path broken = tmp.resolve("broken");
            try (var out = Files.newOutputStream(CheckpointReader.indexFile(broken))) {
                SsTableWriter w = new SsTableWriter(out);
                boolean dropped = false;
                for (SsTableReader.Entry e : all) {
                    if (!dropped && e.key().length > 0 && e.key()[0] == 0) {
                        dropped = true;
                        continue;
                    }
                    w.add(e.key(), e.value());
                }
                w.finish();
            }
            for (int s = 0; s < 2; s++) Files.copy(CheckpointReader.dataFile(prefix, s, 2), CheckpointReader.dataFile(broken, s, 2));
            try (BundleReader r = BundleReader.open(broken)) {
                CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("logits/weights"));
                assertTrue(e.getMessage().contains("logits/weights") && e.getMessage().contains("missing"), e.getMessage());
            }
        }
    }

    @Test
    void nothingAppearsUnderTheFinalNamesUntilFinish() throws Exception {
        Path dir = tmp.resolve("atomic");
        Path prefix = dir.resolve("model.ckpt-1");
        try (Tensor t = Tensor.of(new float[] {1, 2, 3})) {
            try (BundleWriter w = new BundleWriter(prefix)) {
                w.add("a", t);
                for (String f : files(dir)) assertTrue(f.contains(".tempstate"), "only temporary files while writing: " + f);
                // abandoned without finish()
            }
            assertEquals(List.of(), files(dir), "an abandoned writer leaves nothing behind");

            try (BundleWriter w = new BundleWriter(prefix)) {
                w.add("a", t);
                w.finish();
                assertThrows(IllegalStateException.class, () -> w.add("b", t));
            }
            assertEquals(List.of("model.ckpt-1.data-00000-of-00001", "model.ckpt-1.index"), files(dir));

            // Re-saving under the same prefix replaces the checkpoint whole.
            try (BundleWriter w = new BundleWriter(prefix); Tensor u = Tensor.of(new double[] {4})) {
                w.add("b", u);
                w.finish();
            }
            assertEquals(List.of("model.ckpt-1.data-00000-of-00001", "model.ckpt-1.index"), files(dir));
            try (BundleReader r = BundleReader.open(prefix)) {
                assertEquals(List.of("b"), r.entries().stream().map(CheckpointEntry::name).toList());
                try (Tensor x = r.read("b")) {
                    assertArrayEquals(new double[] {4}, x.toDoubleArray());
                }
            }
        }
    }

    @Test
    void badArgumentsAreRejected() throws Exception {
        try (BundleWriter w = new BundleWriter(tmp.resolve("bad"), 2); Tensor t = Tensor.of(new float[] {1})) {
            w.add("x", t);
            assertThrows(IllegalArgumentException.class, () -> w.add("x", t), "duplicate");
            assertThrows(IllegalArgumentException.class, () -> w.add("", t), "header key");
            assertThrows(IllegalArgumentException.class, () -> w.add("\0slice", t), "slice keys");
            assertThrows(IllegalArgumentException.class, () -> w.add("y", t, 2), "shard out of range");
            assertThrows(IllegalArgumentException.class, () -> w.add("y", TfDataType.INT32, t, 0), "dtype mismatch");
            assertThrows(IllegalArgumentException.class, () -> w.addStrings("s", new long[] {2}, List.of(new byte[0])), "count mismatch");
            assertThrows(IllegalArgumentException.class, () -> w.addBytes("b", TfDataType.INT16, new long[] {2}, new byte[3], 0), "byte count");
            assertThrows(IllegalArgumentException.class, () -> w.addSlice("p", new long[] {4}, new long[] {2}, new long[] {3}, t, 0), "slice outside");
        }
        assertFalse(Files.exists(CheckpointReader.indexFile(tmp.resolve("bad"))));
        assertThrows(IllegalArgumentException.class, () -> new BundleWriter(tmp.resolve("zero"), 0));
    }
}
