package org.slim4j.io.example;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.testing.GoldenData;

/**
 * Feeds the tf.Example parser and its getters damaged records (truncations, bit flips, random
 * bytes, varint lengths set to absurd values): every outcome must be a parsed example or an
 * {@link ExampleException} naming the record, never another exception, an OutOfMemoryError or a hang.
 */
class ExampleFuzzTest {
    private static final String[] KEYS = {"image/encoded", "image/format", "image/class/label", "image/height",
        "image/object/bbox/xmin", "image/extra/float_list", "missing", ""};

    @Test
    void damagedExamplesParseOrFailClearly() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Path file = GoldenData.goldenDir().resolve("tfrecord/examples.tfrecord");
            List<byte[]> seeds = new ArrayList<>();
            for (TfRecord r : TfRecordReader.readAll(file)) seeds.add(r.data());
            seeds.add(new ExampleBuilder().int64("a", 1, 2, 3).floats("b", 1f).bytes("c", new byte[300]).toByteArray());
            Random rnd = new Random(99);
            int parsed = 0, rejected = 0;
            for (int it = 0; it < 6000; it++) {
                byte[] b = seeds.get(rnd.nextInt(seeds.size())).clone();
                switch (rnd.nextInt(5)) {
                    case 0 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                    case 1 -> {
                        for (int k = 1 + rnd.nextInt(6); k > 0; k--) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    case 2 -> {
                        b = new byte[rnd.nextInt(200)];
                        rnd.nextBytes(b);
                    }
                    case 3 -> { // a varint run that claims a huge length
                        int at = rnd.nextInt(Math.max(1, b.length - 6));
                        for (int k = 0; k < 4 && at + k < b.length; k++) b[at + k] = (byte) 0xff;
                        if (at + 4 < b.length) b[at + 4] = 0x07;
                    }
                    default -> {
                        int at = rnd.nextInt(b.length);
                        b[at] = (byte) rnd.nextInt(256);
                    }
                }
                String src = "fuzz record " + it;
                ExampleFeatures f;
                try {
                    f = ExampleFeatures.parse(b, src);
                    parsed++;
                } catch (ExampleException e) {
                    rejected++;
                    assertTrue(e.getMessage().startsWith(src + ": not a valid tf.Example"), e.getMessage());
                    continue;
                }
                for (String k : KEYS) {
                    for (int g = 0; g < 6; g++) {
                        try {
                            switch (g) {
                                case 0 -> f.bytes(k);
                                case 1 -> f.int64List(k);
                                case 2 -> f.floatList(k);
                                case 3 -> f.string(k, "");
                                case 4 -> f.int64(k, 0);
                                default -> f.float32(k);
                            }
                        } catch (ExampleException e) {
                            assertTrue(e.getMessage().startsWith(src + ": feature '" + k + "'"), e.getMessage());
                        }
                    }
                }
                f.keys();
            }
            assertTrue(parsed > 500 && rejected > 500, "parsed " + parsed + ", rejected " + rejected);
        });
    }
}
