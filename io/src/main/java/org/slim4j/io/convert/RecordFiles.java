package org.slim4j.io.convert;

import java.io.IOException;
import java.nio.file.Path;
import org.slim4j.io.tfrecord.TfRecordWriter;

/**
 * Writes one TFRecord file all or nothing: when the body fails (a bad image, an interrupted run),
 * the file is abandoned instead of closed, so no truncated shard appears under the final name
 * (where a rerun would take it for a finished one).
 */
final class RecordFiles {
    private RecordFiles() {
    }

    @FunctionalInterface
    interface Body {
        void write(TfRecordWriter writer) throws IOException;
    }

    /** Creates {@code target}, runs {@code body}, and returns the file with its record count. */
    static ConvertedFile write(Path target, String split, Body body) throws IOException {
        TfRecordWriter writer = TfRecordWriter.create(target);
        try {
            body.write(writer);
        } catch (IOException | RuntimeException | Error e) {
            try {
                writer.abort();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        writer.close();
        return new ConvertedFile(writer.path(), split, writer.records());
    }
}
