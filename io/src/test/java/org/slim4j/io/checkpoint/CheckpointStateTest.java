package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.tensor.Tensor;

class CheckpointStateTest {
    @TempDir
    Path tmp;

    @Test
    void readsTensorFlowsStateFiles() throws Exception {
        CheckpointState s = CheckpointState.read(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single"));
        assertEquals("model.ckpt-1234", s.modelCheckpointPath());
        assertEquals(List.of("model.ckpt-1234"), s.allModelCheckpointPaths());
        Path tfx = CheckpointTestSupport.tfTestData().resolve("tfx/trainer/current/Format-Serving");
        assertEquals(List.of("model.ckpt-0", "model.ckpt-999", "model.ckpt-1000"), CheckpointState.read(tfx).allModelCheckpointPaths());
        assertEquals(tfx.resolve("model.ckpt-1000"), CheckpointState.latestCheckpoint(tfx));
        // Absolute paths of a moved V1 checkpoint are found beside the state file.
        Path tb = CheckpointTestSupport.tfTestData().resolve("tensorboard/functionaltests-2017_08bb2c01/testdata");
        assertEquals(tb.resolve("model.ckpt-3000-?????-of-00001"), CheckpointState.latestCheckpoint(tb));
        assertNull(CheckpointState.read(tmp));
        assertNull(CheckpointState.latestCheckpoint(tmp));
    }

    @Test
    void writesTensorFlowsTextFormat() throws Exception {
        CheckpointState s = new CheckpointState("model.ckpt-1234", List.of("model.ckpt-1234"));
        // The exact bytes of the golden state file (written by TensorFlow).
        assertEquals(Files.readString(CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single/checkpoint")), s.toText());
        CheckpointState odd = new CheckpointState("dir/we\"ird\\näme", List.of("a", "dir/we\"ird\\näme"), List.of(1.5e9, 1.7e9), 1.5e9);
        odd.write(tmp);
        CheckpointState back = CheckpointState.read(tmp);
        assertEquals(odd, back);
        assertTrue(Files.readString(tmp.resolve("checkpoint")).contains("all_model_checkpoint_timestamps: 1.7E9"));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("checkpoint"), files.map(p -> p.getFileName().toString()).toList(), "no temp file left");
        }
        Files.writeString(tmp.resolve("checkpoint"), "model_checkpoint_path: unquoted", StandardCharsets.UTF_8);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CheckpointState.read(tmp));
        assertTrue(e.getMessage().contains(tmp.resolve("checkpoint").toString()));
    }

    @Test
    void saverKeepsTheNewestAndDeletesTheRest() throws Exception {
        Path dir = tmp.resolve("train");
        try (Tensor t = Tensor.of(new float[] {1, 2})) {
            CheckpointSaver saver = new CheckpointSaver(dir, "model.ckpt", 2);
            for (long step = 0; step <= 300; step += 100) saver.save(step, Map.of("w", t));
            assertEquals(List.of(dir.resolve("model.ckpt-200"), dir.resolve("model.ckpt-300")), saver.checkpoints());
            CheckpointState s = CheckpointState.read(dir);
            assertEquals("model.ckpt-300", s.modelCheckpointPath());
            assertEquals(List.of("model.ckpt-200", "model.ckpt-300"), s.allModelCheckpointPaths());
            assertEquals(2, s.allModelCheckpointTimestamps().size());
            assertFalse(CheckpointReader.exists(dir.resolve("model.ckpt-0")));
            assertFalse(CheckpointReader.exists(dir.resolve("model.ckpt-100")));
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("checkpoint", "model.ckpt-200.data-00000-of-00001", "model.ckpt-200.index",
                        "model.ckpt-300.data-00000-of-00001", "model.ckpt-300.index"), files.map(p -> p.getFileName().toString()).sorted().toList());
            }
            // A new saver (a restarted run) picks the kept checkpoints up and keeps pruning.
            CheckpointSaver again = new CheckpointSaver(dir, "model.ckpt", 2);
            again.save(400, Map.of("w", t));
            assertEquals(List.of("model.ckpt-300", "model.ckpt-400"), CheckpointState.read(dir).allModelCheckpointPaths());
            assertFalse(CheckpointReader.exists(dir.resolve("model.ckpt-200")));
            try (CheckpointReader r = CheckpointReader.open(dir)) {
                assertEquals(dir.resolve("model.ckpt-400"), r.path());
            }
            // maxToKeep <= 0 keeps everything.
            CheckpointSaver all = new CheckpointSaver(dir, "model.ckpt", 0);
            for (long step = 500; step <= 900; step += 100) all.save(step, Map.of("w", t));
            assertEquals(7, all.checkpoints().size());
        }
    }
}
