package org.slim4j.io.tfrecord;

/**
 * One record read from a TFRecord file: its payload and where it came from.
 *
 * @param index  0-based number of this record among the good records the reader returned
 *               (records skipped as corrupt are not counted)
 * @param offset byte offset of the record's 12-byte header in the file; for a compressed file,
 *               in the decompressed stream
 * @param data   the payload (for slim's datasets a serialized tf.Example); owned by the caller
 */
public record TfRecord(long index, long offset, byte[] data) {
    public int length() {
        return data.length;
    }

    /** "FILE record N (byte offset X)", the form error messages use to point at this record. */
    public String describe(Object file) {
        return file + " record " + index + " (byte offset " + offset + ")";
    }

    @Override
    public String toString() {
        return "TfRecord[index=" + index + ", offset=" + offset + ", length=" + data.length + "]";
    }
}
