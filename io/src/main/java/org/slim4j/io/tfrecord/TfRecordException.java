package org.slim4j.io.tfrecord;

import java.io.IOException;

/**
 * A TFRecord file that cannot be read as such: a CRC mismatch, a truncated record, an absurd
 * length, a broken compressed stream. The message names the file and the byte offset.
 */
public class TfRecordException extends IOException {
    private final String file;
    private final long offset;

    public TfRecordException(String file, long offset, String problem) {
        this(file, offset, false, problem, null);
    }

    /**
     * @param decompressedOffset whether {@code offset} counts bytes of a decompressed GZIP/ZLIB
     *                           stream rather than of the file itself (said in the message)
     */
    public TfRecordException(String file, long offset, boolean decompressedOffset, String problem, Throwable cause) {
        super(file + ": " + problem + " at byte offset " + offset + (decompressedOffset ? " of the decompressed stream" : ""), cause);
        this.file = file;
        this.offset = offset;
    }

    /** The file (or stream name) that was being read. */
    public String file() {
        return file;
    }

    /** Byte offset of the problem (of the decompressed stream for GZIP/ZLIB files). */
    public long offset() {
        return offset;
    }
}
