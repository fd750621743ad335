package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/**
 * Random damage to real checkpoints (truncation, bit flips, absurd varints): reading must either
 * succeed or fail with an IOException, never another exception, an out-of-memory or a hang; and a
 * single flipped bit in a CRC-protected byte must always be detected. Bounded: a fixed number of
 * mutations per file, a fixed seed, a time limit.
 */
class CheckpointFuzzTest {
    private static final int ITERATIONS = 120;
    @TempDir
    Path tmp;

    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private record Target(String label, Path source, String fileName, boolean everyByteProtected) {
    }

    /** Opens the checkpoint and reads every tensor; returns normally only if everything read. */
    private static void readAll(Path path) throws IOException {
        try (CheckpointReader r = CheckpointReader.open(path)) {
            for (CheckpointEntry e : r.entries()) {
                if (e.dtype() == TfDataType.STRING) {
                    r.readStrings(e.name());
                } else if (e.dtype().dtype() != null) {
                    r.read(e.name()).close();
                } else {
                    r.readBytes(e.name());
                }
            }
        }
    }

    private static byte[] mutate(byte[] orig, Random rnd, int kind, List<Integer> flipped) {
        byte[] b = orig.clone();
        switch (kind) {
            case 0 -> {
                return java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 1 -> {
                int p = rnd.nextInt(b.length);
                b[p] ^= (byte) (1 << rnd.nextInt(8));
                flipped.add(p);
            }
            case 2 -> {
                for (int k = 0, n = 2 + rnd.nextInt(6); k < n; k++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            default -> {
                // An absurd varint (up to 2^35 or 2^63) written over random bytes.
                byte[] v = rnd.nextBoolean() ? new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}
                        : new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f};
                int p = rnd.nextInt(b.length);
                for (int k = 0; k < v.length && p + k < b.length; k++) b[p + k] = v[k];
            }
        }
        return b;
    }

    /** Byte ranges of the data file covered by tensors (every byte there is under some CRC). */
    private static boolean[] covered(Path prefix, int shard, int size) throws IOException {
        boolean[] c = new boolean[size];
        try (BundleReader r = BundleReader.open(prefix)) {
            for (CheckpointEntry e : r.entries()) {
                BundleEntryProto p = r.rawEntry(e.name());
                if (p.getShardId() != shard) continue;
                for (long k = p.getOffset(); k < p.getOffset() + p.getSize(); k++) c[(int) k] = true;
            }
        }
        return c;
    }

    private void fuzz(Path dir, Path prefix, Path victim, boolean[] protectedBytes, long seed) throws Exception {
        byte[] orig = Files.readAllBytes(victim);
        Random rnd = new Random(seed);
        int detectedFlips = 0;
        long live = CpuDevice.INSTANCE.liveBytes();
        for (int it = 0; it < ITERATIONS; it++) {
            int kind = it % 4;
            List<Integer> flipped = new ArrayList<>();
            byte[] damaged = mutate(orig, rnd, kind, flipped);
            Files.write(victim, damaged);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            boolean ok;
            try {
                readAll(prefix);
                ok = true;
            } catch (IOException expected) {
                ok = false;
                assertTrue(expected.getMessage() != null && !expected.getMessage().isBlank(), "error without a message");
            } catch (Throwable t) {
                throw new AssertionError(victim.getFileName() + ": mutation " + kind + " (iteration " + it + ") threw " + t, t);
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            // Nothing is sized from a damaged length: allocation stays within a few times the data read.
            assertTrue(allocated < 64L * 1024 * 1024, victim.getFileName() + ": mutation " + kind + " allocated " + allocated + " bytes");
            if (kind == 1 && protectedBytes[flipped.get(0)]) {
                if (ok) fail(victim.getFileName() + ": a flipped bit at byte " + flipped.get(0) + " went unnoticed");
                detectedFlips++;
            }
        }
        Files.write(victim, orig);
        readAll(prefix);
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked on error paths");
        assertTrue(detectedFlips > 0, "some single-bit flips hit protected bytes");
        assertTrue(Files.list(dir).noneMatch(p -> p.toString().contains("tempstate")));
    }

    @Test
    void fuzzV2IndexAndData() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Path dir = tmp.resolve("single");
            CheckpointTestSupport.copyDir(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single"), dir);
            Path prefix = dir.resolve("model.ckpt-1234");
            Path index = CheckpointReader.indexFile(prefix);
            Path data = CheckpointReader.dataFile(prefix, 0, 1);
            long indexSize = Files.size(index);
            boolean[] indexProtected = new boolean[(int) indexSize];
            // Every byte before the footer is in a CRC-checked block or trailer; so are the magic's 8 bytes.
            for (int i = 0; i < indexSize; i++) indexProtected[i] = i < indexSize - SsTableReader.FOOTER_SIZE || i >= indexSize - 8;
            fuzz(dir, prefix, index, indexProtected, 1);
            fuzz(dir, prefix, data, covered(prefix, 0, (int) Files.size(data)), 2);
        });
    }

    @Test
    void fuzzShardedAndSnappyAndV1() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Path dir = tmp.resolve("sharded");
            CheckpointTestSupport.copyDir(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_sharded"), dir);
            Path prefix = dir.resolve("model.ckpt-2000");
            Path shard0 = CheckpointReader.dataFile(prefix, 0, 2);
            fuzz(dir, prefix, shard0, covered(prefix, 0, (int) Files.size(shard0)), 3);

            Path snappyDir = tmp.resolve("snappy");
            CheckpointTestSupport.copyDir(CheckpointTestSupport.tfTestData().resolve("serving/saved_model_half_plus_two_tf2_cpu/00000123/variables"), snappyDir);
            Path sp = snappyDir.resolve("variables");
            long n = Files.size(CheckpointReader.indexFile(sp));
            boolean[] prot = new boolean[(int) n];
            for (int i = 0; i < n; i++) prot[i] = i < n - SsTableReader.FOOTER_SIZE;
            fuzz(snappyDir, sp, CheckpointReader.indexFile(sp), prot, 4);

            Path v1Dir = tmp.resolve("v1");
            Files.createDirectories(v1Dir);
            Path v1 = v1Dir.resolve("model.ckpt-3000-00000-of-00001");
            Files.copy(CheckpointTestSupport.tfTestData().resolve("tensorboard/functionaltests-2017_08bb2c01/testdata/model.ckpt-3000-00000-of-00001"), v1);
            long m = Files.size(v1);
            boolean[] p1 = new boolean[(int) m];
            for (int i = 0; i < m; i++) p1[i] = i < m - SsTableReader.FOOTER_SIZE;
            fuzz(v1Dir, v1, v1, p1, 5);
        });
    }

    @Test
    void untouchedTensorsStillReadNextToDamagedOnes() throws Exception {
        Path dir = tmp.resolve("partial");
        CheckpointTestSupport.copyDir(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single"), dir);
        Path prefix = dir.resolve("model.ckpt-1234");
        Path data = CheckpointReader.dataFile(prefix, 0, 1);
        byte[] b = Files.readAllBytes(data);
        b[10] ^= 1; // inside the first tensor written (the 3x3 weights)
        Files.write(data, b);
        try (BundleReader r = BundleReader.open(prefix)) {
            try (Tensor t = r.read("global_step")) {
                assertEquals(1359L, t.longData()[t.offset()]);
            }
            CheckpointFormatException e = org.junit.jupiter.api.Assertions.assertThrows(CheckpointFormatException.class,
                    () -> r.read("InceptionV3/Conv2d_1a_3x3/weights"));
            assertTrue(e.getMessage().contains("InceptionV3/Conv2d_1a_3x3/weights"));
        }
    }
}
