package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.CheckpointState;

/**
 * Real training processes stopped from outside: SIGTERM finishes the step, writes a checkpoint and
 * exits 143; SIGKILL at an arbitrary moment leaves the newest complete checkpoint readable, and a
 * restart resumes from it.
 */
@Tag("slow")
class KillAndResumeTest {
    @TempDir
    Path dir;

    private Process start(Path data, Path trainDir, Path log, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", System.getProperty("java.class.path"), "org.slim4j.tools.Main"));
        cmd.addAll(List.of(TrainImageClassifierTest.train(data, "fmnist_small", trainDir, "--batch_size=16", "--log_every_n_steps=1",
            "--save_summaries_secs=0", "--optimizer=momentum", "--seed=4")));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void waitFor(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) return;
            if (!p.isAlive()) throw new AssertionError("process ended before '" + text + "':\n" + Files.readString(log));
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new AssertionError("timed out waiting for '" + text + "':\n" + Files.readString(log));
    }

    @Test
    void sigtermCheckpointsAndSigkillLeavesAResumableTrainDir() throws Exception {
        Path data = SmallFashionMnist.create(dir.resolve("d"), "fmnist_small", 600, 100, 10);
        Path train = dir.resolve("train");

        Path log1 = dir.resolve("run1.log");
        Process p1 = start(data, train, log1, "--max_number_of_steps=100000");
        waitFor(log1, "global step 5:", p1);
        p1.destroy(); // SIGTERM
        assertTrue(p1.waitFor(60, TimeUnit.SECONDS));
        String out1 = Files.readString(log1);
        assertEquals(143, p1.exitValue(), out1);
        assertTrue(out1.contains("SIGTERM: finishing this step"), out1);
        Path saved = CheckpointState.latestCheckpoint(train);
        long step = Long.parseLong(saved.getFileName().toString().substring("model.ckpt-".length()));
        assertTrue(step >= 5, out1);
        assertTrue(out1.contains("stopped by SIGTERM at global step " + step), out1);

        // Checkpoint every second, then kill without warning at some moment.
        Path log2 = dir.resolve("run2.log");
        Process p2 = start(data, train, log2, "--max_number_of_steps=100000", "--save_interval_secs=1");
        waitFor(log2, "resuming from " + saved + " at global step " + step, p2);
        waitFor(log2, "saved checkpoint", p2);
        waitFor(log2, "global step " + (step + 12) + ":", p2);
        p2.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
        Path last = CheckpointState.latestCheckpoint(train);
        try (CheckpointReader r = CheckpointReader.open(last)) {
            for (CheckpointEntry e : r.entries()) r.readBytes(e.name()); // every tensor complete, CRCs verified
        }
        try (Stream<Path> s = Files.list(train)) {
            // Leftover temporary files never carry a checkpoint's real name.
            s.map(p -> p.getFileName().toString()).filter(n -> n.contains("tempstate"))
                .forEach(n -> assertTrue(!n.endsWith(".index"), n));
        }

        long lastStep = Long.parseLong(last.getFileName().toString().substring("model.ckpt-".length()));
        Path log3 = dir.resolve("run3.log");
        Process p3 = start(data, train, log3, "--max_number_of_steps=" + (lastStep + 3));
        assertTrue(p3.waitFor(120, TimeUnit.SECONDS));
        String out3 = Files.readString(log3);
        assertEquals(0, p3.exitValue(), out3);
        assertTrue(out3.contains("resuming from " + last + " at global step " + lastStep), out3);
        assertTrue(out3.contains("finished at global step " + (lastStep + 3)), out3);
    }
}
