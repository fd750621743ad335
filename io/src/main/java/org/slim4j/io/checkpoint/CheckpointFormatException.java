package org.slim4j.io.checkpoint;

import java.io.IOException;

/**
 * A checkpoint file that is not what its format says it must be: truncated, bad magic, CRC
 * mismatch, a missing shard, an unknown dtype, a length larger than the file. The message names
 * the file and, where one is involved, the tensor.
 */
public class CheckpointFormatException extends IOException {
    public CheckpointFormatException(String message) {
        super(message);
    }

    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
