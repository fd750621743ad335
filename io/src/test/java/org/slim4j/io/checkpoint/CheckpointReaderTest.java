package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CheckpointReader#open} accepts a prefix, a file, a V1 pattern or a directory. */
class CheckpointReaderTest {
    @TempDir
    Path tmp;

    private static void assertOpens(Path p, String format, Path expectedPath, int tensors) throws Exception {
        try (CheckpointReader r = CheckpointReader.open(p)) {
            assertEquals(format, r.format(), p.toString());
            assertEquals(expectedPath, r.path(), p.toString());
            assertEquals(tensors, r.entries().size(), p.toString());
        }
    }

    @Test
    void opensWhateverAUserMayPass() throws Exception {
        Path dir = CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_sharded");
        Path prefix = dir.resolve("model.ckpt-2000");
        assertOpens(prefix, "V2", prefix, 12);
        assertOpens(dir.resolve("model.ckpt-2000.index"), "V2", prefix, 12);
        assertOpens(dir.resolve("model.ckpt-2000.data-00001-of-00002"), "V2", prefix, 12);
        assertOpens(dir, "V2", prefix, 12);

        Path v1 = CheckpointTestSupport.tfTestData().resolve("serving/bad_half_plus_two/00000123/export");
        assertOpens(v1, "V1", v1, 2);
        assertOpens(v1.getParent(), "V1", v1, 2); // its state file names an absolute /tmp path: found beside it
        Path tb = CheckpointTestSupport.tfTestData().resolve("tensorboard/functionaltests-2017_08bb2c01/testdata");
        Path shard = tb.resolve("model.ckpt-1-00000-of-00001");
        assertOpens(tb.resolve("model.ckpt-1"), "V1", shard, 10);                 // V1 prefix of a sharded save
        assertOpens(tb.resolve("model.ckpt-1-?????-of-00001"), "V1", shard, 10);  // the pattern the state file uses
        assertOpens(tb, "V1", tb.resolve("model.ckpt-3000-00000-of-00001"), 10);
    }

    @Test
    void missingCheckpointsAreClearErrors() throws Exception {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> CheckpointReader.open(tmp.resolve("model.ckpt-5")));
        assertTrue(e.getMessage().contains("model.ckpt-5"), e.getMessage());
        e = assertThrows(NoSuchFileException.class, () -> CheckpointReader.open(tmp));
        assertTrue(e.getReason().contains("checkpoint"), e.getReason());
        Files.writeString(tmp.resolve("checkpoint"), "model_checkpoint_path: \"gone\"\n");
        e = assertThrows(NoSuchFileException.class, () -> CheckpointReader.open(tmp));
        assertTrue(e.getReason().contains("gone"), e.getReason());
        // A file that is not a checkpoint at all.
        Files.writeString(tmp.resolve("notes.txt"), "hello");
        CheckpointFormatException f = assertThrows(CheckpointFormatException.class, () -> CheckpointReader.open(tmp.resolve("notes.txt")));
        assertTrue(f.getMessage().contains("notes.txt"), f.getMessage());
    }
}
