package org.slim4j.io.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Temp-file-and-rename helpers: a file appears under its final name only once it is complete, so a
 * crash never leaves a half-written checkpoint or state file behind under a name readers use.
 */
final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /** {@code final.tempstate<random>}, TensorFlow's naming for files being written. */
    static Path tempFor(Path target) {
        return target.resolveSibling(target.getFileName() + ".tempstate" + Long.toUnsignedString(RANDOM.nextLong()));
    }

    static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = tempFor(target);
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                out.write(content);
            }
            sync(tmp);
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Flushes a written file to the disk, so the rename never exposes unwritten data after a crash. */
    static void sync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Renames atomically where the file system can, replacing the target. */
    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
