package org.slim4j.tools.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.checkpoint.BundleReader;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.TfDataType;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tools.Main;

class CheckpointCommandsTest {
    @TempDir
    Path tmp;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static Path golden(String rel) {
        return GoldenData.goldenDir().resolve("checkpoints").resolve(rel);
    }

    private static Path testdata(String rel) {
        return GoldenData.sharedDir().resolve("testdata/tf").resolve(rel);
    }

    @Test
    void listsNamesDtypesAndShapes() {
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", "--file_name=" + golden("ckpt_single/model.ckpt-1234")), err());
        List<String> lines = out().lines().toList();
        assertEquals(12, lines.size());
        assertEquals("InceptionV3/Conv2d_1a_3x3/BatchNorm/beta (DT_FLOAT) [32]", lines.get(0));
        assertTrue(lines.contains("InceptionV3/Conv2d_1a_3x3/weights (DT_FLOAT) [3,3,3,32]"), out());
        assertTrue(lines.contains("extra/strings (DT_STRING) [2,2]"), out());
        assertTrue(lines.contains("global_step (DT_INT64) []"), out());
        assertTrue(lines.contains("extra/float64_matrix (DT_DOUBLE) [4,5]"), out());
        // A training directory works too (its 'checkpoint' file names the latest).
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", "--file_name=" + golden("ckpt_sharded")));
        assertTrue(out().contains("MobilenetV1/Conv2d_1a_3x3/BatchNorm/beta (DT_FLOAT) [32]"), out());
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", "--file_name=" + golden("ckpt_single/model.ckpt-1234"), "--all_tensor_names"));
        assertTrue(out().startsWith("tensor_name:  InceptionV3/Conv2d_1a_3x3/BatchNorm/beta\n"), out());
    }

    @Test
    void printsValuesOnRequest() {
        String f = "--file_name=" + golden("ckpt_single/model.ckpt-1234");
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--tensor_name=global_step"), err());
        assertEquals("tensor_name:  global_step\n1359\n", out());
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--tensor_name=extra/int32_vector"));
        assertTrue(out().startsWith("tensor_name:  extra/int32_vector\n[-2147483648  2147483647"), out());
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--tensor_name=extra/strings"));
        assertTrue(out().contains("[[b'' b'hello']"), out());
        assertTrue(out().contains("b'h\\xc3\\xa9llo w\\xc3\\xb6rld \\xe2\\x9c\\x93'"), out());
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--tensor_name=extra/empty_float"));
        assertEquals("tensor_name:  extra/empty_float\n[]\n", out());
        // 393216 values: summarized around "..." like NumPy.
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--tensor_name=InceptionV3/Mixed_7c/Branch_3/Conv2d_0b_1x1/weights"));
        assertTrue(out().contains("...") && out().lines().count() < 40, out());
        assertTrue(out().contains("0.01914214"), out()); // the first value, 0.019142141565680504
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", f, "--all_tensors"));
        assertEquals(12, out().lines().filter(l -> l.startsWith("tensor_name:  ")).count());
    }

    @Test
    void unknownTensorIsAnErrorWithASuggestion() {
        assertEquals(Main.EXIT_FAILURE, run("inspect_checkpoint", "--file_name=" + golden("ckpt_single/model.ckpt-1234"), "--tensor_name=global_stpe"));
        assertTrue(err().contains("not found") && err().contains("did you mean 'global_step'"), err());
        assertEquals(Main.EXIT_FAILURE, run("inspect_checkpoint", "--file_name=" + tmp.resolve("nothing")));
        assertTrue(err().contains("nothing"), err());
        assertEquals(Main.EXIT_USAGE, run("inspect_checkpoint"));
        assertTrue(err().contains("--file_name"), err());
    }

    @Test
    void convertsV1ToV2() throws Exception {
        Path v1 = testdata("tensorboard/functionaltests-2017_08bb2c01/testdata/model.ckpt-3000-00000-of-00001");
        Path v2 = tmp.resolve("out/model.ckpt-3000");
        assertEquals(Main.EXIT_OK, run("convert_checkpoint", "--input=" + v1, "--output=" + v2), err());
        assertTrue(out().startsWith("converted 10 tensors"), out());
        try (CheckpointReader a = CheckpointReader.open(v1); BundleReader b = BundleReader.open(v2)) {
            assertEquals(a.entries(), b.entries());
            for (CheckpointEntry e : a.entries()) assertArrayEquals(a.readBytes(e.name()), b.readBytes(e.name()), e.name());
            assertEquals(TfDataType.INT64, b.entry("global_step").dtype());
        }
        // The converted checkpoint inspects like any other.
        assertEquals(Main.EXIT_OK, run("inspect_checkpoint", "--file_name=" + v2, "--tensor_name=global_step"));
        assertEquals("tensor_name:  global_step\n3000\n", out());
        // Refuses to overwrite unless asked.
        assertEquals(Main.EXIT_USAGE, run("convert_checkpoint", "--input=" + v1, "--output=" + v2));
        assertTrue(err().contains("--overwrite"), err());
        assertEquals(Main.EXIT_OK, run("convert_checkpoint", "--input=" + testdata("serving/bad_half_plus_two/00000123/export"), "--output=" + v2, "--overwrite"));
        try (BundleReader b = BundleReader.open(v2)) {
            assertEquals(List.of("Variable", "Variable_1"), b.entries().stream().map(CheckpointEntry::name).toList());
        }
        // A bad input leaves nothing behind.
        Path junk = tmp.resolve("junk.ckpt");
        Files.writeString(junk, "not a checkpoint at all, but long enough to have a footer of 48 bytes...");
        assertEquals(Main.EXIT_FAILURE, run("convert_checkpoint", "--input=" + junk, "--output=" + tmp.resolve("o2/x")));
        assertTrue(err().contains("junk.ckpt"), err());
        assertFalse(Files.exists(tmp.resolve("o2/x.index")));
    }

    @Test
    void printerFormatsLikeNumpy() {
        assertEquals("[1. 2. 3.]", ValuePrinter.format(TfDataType.FLOAT, new long[] {3}, le(1f, 2f, 3f), 1000));
        assertEquals("[[ 0.5  -1.25]\n [ 2.    3.  ]]", ValuePrinter.format(TfDataType.FLOAT, new long[] {2, 2}, le(0.5f, -1.25f, 2f, 3f), 1000));
        assertEquals("[1.0e-05 1.5e+00]", ValuePrinter.format(TfDataType.FLOAT, new long[] {2}, le(1e-5f, 1.5f), 1000));
        assertEquals("[  1 100]", ValuePrinter.format(TfDataType.INT32, new long[] {2}, new byte[] {1, 0, 0, 0, 100, 0, 0, 0}, 1000));
        assertEquals("[1.e-05 1.e+00]", ValuePrinter.format(TfDataType.FLOAT, new long[] {2}, le(1e-5f, 1f), 1000));
        assertEquals("[ True False]", ValuePrinter.format(TfDataType.BOOL, new long[] {2}, new byte[] {1, 0}, 1000));
        assertEquals("[0 1 2 ... 7 8 9]", ValuePrinter.format(TfDataType.UINT8, new long[] {10}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 5));
        assertEquals("1.5", ValuePrinter.format(TfDataType.HALF, new long[0], new byte[] {0x00, 0x3e}, 1000));
    }

    private static byte[] le(float... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }
}
