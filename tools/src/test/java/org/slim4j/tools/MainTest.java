package org.slim4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpListsCommandsWithDescriptions() {
        assertEquals(Main.EXIT_OK, run("help"));
        assertTrue(out().contains("usage: slim4j <command>"), out());
        assertTrue(out().contains("selftest") && out().contains("check slim4j's kernels against TensorFlow's golden op outputs"), out());
        out.reset();
        assertEquals(Main.EXIT_OK, run("--help"));
        assertTrue(out().contains("selftest"), out());
        for (Command c : Main.commands()) assertTrue(out().contains(c.name()), c.name());
    }

    @Test
    void noArgumentsIsAUsageError() {
        assertEquals(Main.EXIT_USAGE, run());
        assertTrue(err().contains("commands:"), err());
    }

    @Test
    void commandHelpListsFlagsWithDefaults() {
        assertEquals(Main.EXIT_OK, run("selftest", "--help"));
        String o = out();
        assertTrue(o.contains("usage: slim4j selftest"), o);
        assertTrue(o.contains("--golden_dir=<path>") && o.contains("(required)"), o);
        assertTrue(o.contains("--device=<string>") && o.contains("(default: cpu)"), o);
        assertTrue(o.contains("--cases=<regex>"), o);
        assertTrue(o.contains("--tolerance=<float>") && o.contains("(default: 1e-4)"), o);
        out.reset();
        assertEquals(Main.EXIT_OK, run("help", "selftest"));
        assertEquals(o, out());
    }

    @Test
    void unknownCommandSuggestsTheClosest() {
        assertEquals(Main.EXIT_USAGE, run("seltest"));
        assertTrue(err().contains("unknown command 'seltest' (did you mean 'selftest'?)"), err());
        err.reset();
        assertEquals(Main.EXIT_USAGE, run("help", "nope"));
        assertTrue(err().contains("unknown command 'nope'"), err());
    }

    @Test
    void flagErrorsExitWithUsageStatus() {
        assertEquals(Main.EXIT_USAGE, run("selftest", "--golden_dri=/x"));
        assertTrue(err().contains("unknown flag --golden_dri (did you mean --golden_dir?)"), err());
        err.reset();
        assertEquals(Main.EXIT_USAGE, run("selftest"));
        assertTrue(err().contains("--golden_dir is required"), err());
        err.reset();
        assertEquals(Main.EXIT_USAGE, run("selftest", "--golden_dir=/nonexistent/golden"));
        assertTrue(err().contains("--golden_dir") && err().contains("no ops/ folder"), err());
    }

    @Test
    void badDeviceIsAUsageError(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("ops"));
        assertEquals(Main.EXIT_USAGE, run("selftest", "--golden_dir=" + dir, "--device=tpu"));
        assertTrue(err().contains("--device") && err().contains("unknown device"), err());
    }

    @Test
    void selftestFailureExitsWithOneAndEndsWithTheSummary(@TempDir Path dir) throws Exception {
        Path c = Files.createDirectories(dir.resolve("ops").resolve("made_up_op"));
        Files.writeString(c.resolve("case.json"), "{\"name\": \"made_up_op\", \"op\": \"Frobnicate\", \"attrs\": {}, \"inputs\": [], \"outputs\": []}");
        assertEquals(Main.EXIT_FAILURE, run("selftest", "--golden_dir", dir.toString()));
        String[] lines = out().split("\n");
        assertEquals(2, lines.length, out());
        assertTrue(lines[0].startsWith("made_up_op  max_abs_err=NaN  FAIL"), lines[0]);
        assertTrue(lines[0].contains("missing op") && lines[0].contains("Frobnicate"), lines[0]);
        assertEquals("0 passed, 1 failed", lines[1]);
    }

    @Test
    void selftestWithNoMatchingCaseFails(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("ops"));
        assertEquals(Main.EXIT_FAILURE, run("selftest", "--golden_dir=" + dir, "--cases=zzz"));
        assertEquals("0 passed, 0 failed\n", out().replace("\r", ""));
        assertTrue(err().contains("no case name matches"), err());
    }
}
