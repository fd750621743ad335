package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SsTableTest {
    @TempDir
    Path tmp;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void separatorsAndSuccessorsAreLevelDbs() {
        assertArrayEquals(b("abd"), SsTableWriter.shortestSeparator(b("abcdef"), b("abzz")));
        assertArrayEquals(b("abcdef"), SsTableWriter.shortestSeparator(b("abcdef"), b("abcdefg"))); // prefix: unchanged
        assertArrayEquals(b("abc"), SsTableWriter.shortestSeparator(b("abc"), b("abd")));  // c+1 == d: unchanged
        assertArrayEquals(new byte[] {'a', (byte) 0xff, 'x'}, SsTableWriter.shortestSeparator(new byte[] {'a', (byte) 0xff, 'x'}, b("b")));
        assertArrayEquals(b("h"), SsTableWriter.shortSuccessor(b("global_step")));
        assertArrayEquals(new byte[] {(byte) 0xff, 1}, SsTableWriter.shortSuccessor(new byte[] {(byte) 0xff, 0, 5}));
        assertArrayEquals(new byte[] {(byte) 0xff}, SsTableWriter.shortSuccessor(new byte[] {(byte) 0xff}));
    }

    private Path write(List<byte[]> keys, int blockSize, int restart) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SsTableWriter w = new SsTableWriter(out, blockSize, restart);
        for (byte[] k : keys) w.add(k, value(k));
        w.finish();
        Path f = tmp.resolve("t" + blockSize + "_" + restart + "_" + keys.size());
        Files.write(f, out.toByteArray());
        return f;
    }

    private static byte[] value(byte[] k) {
        byte[] v = new byte[k.length % 37];
        for (int i = 0; i < v.length; i++) v[i] = (byte) (k[i % Math.max(1, k.length)] * 31 + i);
        return v;
    }

    @Test
    void roundTripWithManyBlocks() throws Exception {
        Random rnd = new Random(3);
        TreeSet<byte[]> set = new TreeSet<>(Arrays::compareUnsigned);
        set.add(new byte[0]);
        while (set.size() < 3000) {
            byte[] k = new byte[1 + rnd.nextInt(30)];
            for (int i = 0; i < k.length; i++) k[i] = (byte) (rnd.nextBoolean() ? 'a' + rnd.nextInt(4) : rnd.nextInt(256));
            set.add(k);
        }
        List<byte[]> keys = new ArrayList<>(set);
        for (int[] opt : new int[][] {{1, 1}, {200, 3}, {4096, 16}, {SsTableWriter.DEFAULT_BLOCK_SIZE, 16}}) {
            Path f = write(keys, opt[0], opt[1]);
            try (SsTableReader r = new SsTableReader(f)) {
                if (opt[0] == 1) assertEquals(keys.size(), r.blockCount());
                if (opt[0] == 4096) assertTrue(r.blockCount() > 10);
                List<SsTableReader.Entry> all = r.entries();
                assertEquals(keys.size(), all.size());
                for (int i = 0; i < keys.size(); i++) {
                    assertArrayEquals(keys.get(i), all.get(i).key());
                    assertArrayEquals(value(keys.get(i)), all.get(i).value());
                }
                for (int i = 0; i < keys.size(); i += 7) assertArrayEquals(value(keys.get(i)), r.get(keys.get(i)));
                for (int i = 0; i < 300; i++) {
                    byte[] k = new byte[1 + rnd.nextInt(30)];
                    rnd.nextBytes(k);
                    if (!set.contains(k)) assertNull(r.get(k));
                }
                assertNull(r.get(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
            }
        }
    }

    @Test
    void emptyTable() throws Exception {
        Path f = write(List.of(), 4096, 16);
        try (SsTableReader r = new SsTableReader(f)) {
            assertEquals(0, r.blockCount());
            assertTrue(r.entries().isEmpty());
            assertNull(r.get(b("x")));
        }
    }

    @Test
    void keysMustIncrease() throws Exception {
        SsTableWriter w = new SsTableWriter(new ByteArrayOutputStream());
        w.add(b("b"), new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> w.add(b("a"), new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> w.add(b("b"), new byte[0]));
    }

    /**
     * Re-writing the entries of every uncompressed TensorFlow-written table (V2 indexes, including
     * the 3-block ckpt_many one, and V1 checkpoints) gives back the identical file: block splitting,
     * restarts, index separators, CRCs and footer match TensorFlow's table builder byte for byte.
     */
    @Test
    void rewritingTensorFlowTablesIsByteIdentical() throws Exception {
        List<Path> tables = new ArrayList<>();
        for (String c : List.of("ckpt_single/model.ckpt-1234", "ckpt_sharded/model.ckpt-2000", "ckpt_many/model.ckpt-99999")) {
            tables.add(CheckpointTestSupport.goldenCheckpoints().resolve(c + ".index"));
        }
        for (String rel : CheckpointTestSupport.TESTDATA_BUNDLES) {
            if (rel.contains("half_plus_two_cpu") || rel.contains("half_plus_two_tf2_cpu")) continue; // snappy-compressed, see below
            tables.add(CheckpointTestSupport.tfTestData().resolve(rel + ".index"));
        }
        for (String rel : CheckpointTestSupport.TESTDATA_V1) tables.add(CheckpointTestSupport.tfTestData().resolve(rel));
        int blocks = 0;
        for (Path t : tables) {
            byte[] original = Files.readAllBytes(t);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (SsTableReader r = new SsTableReader(t)) {
                SsTableWriter w = new SsTableWriter(out);
                r.scan(w::add);
                w.finish();
                blocks = Math.max(blocks, r.blockCount());
            }
            assertArrayEquals(original, out.toByteArray(), t.toString());
        }
        assertEquals(3, blocks, "ckpt_many's index has 3 data blocks");
    }

    @Test
    void snappyCompressedIndexesDecode() throws Exception {
        for (String rel : List.of("serving/saved_model_half_plus_two_cpu/00000123/variables/variables.index",
                "serving/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables.index")) {
            try (SsTableReader r = new SsTableReader(CheckpointTestSupport.tfTestData().resolve(rel))) {
                List<SsTableReader.Entry> all = r.entries();
                assertEquals(0, all.get(0).key().length, "header first");
                assertTrue(all.size() >= 5);
            }
        }
    }
}
