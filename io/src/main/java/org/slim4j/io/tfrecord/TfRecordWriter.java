package org.slim4j.io.tfrecord;

import com.google.protobuf.MessageLite;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a TFRecord file that TensorFlow reads: each record framed as
 * {@code uint64 length (LE) | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of data},
 * optionally inside one GZIP or ZLIB stream covering the whole file (as TensorFlow's
 * {@code TFRecordWriter} with {@code compression_type} GZIP/ZLIB writes them).
 *
 * <p>Atomic: records go to a hidden temporary file in the target's folder, which {@link #close()}
 * flushes, syncs to disk and renames onto the target. A reader therefore never sees a half-written
 * shard, and a crash leaves at most a stray {@code .NAME.*.tmp} file. {@link #abort()} (or a
 * failed write followed by close) deletes the temporary file and leaves the target untouched.
 *
 * <p>{@code write} is synchronized, so threads may share a writer.
 */
public final class TfRecordWriter implements Closeable {
    private static final int BUFFER = 1 << 16;

    private final Path target;
    private final Path temp;
    private final Compression compression;
    private final FileOutputStream file;
    private final OutputStream out;
    private final Deflater deflater; // ZLIB only; ended on close
    private long records;
    private long bytes;
    private boolean failed;
    private boolean closed;

    private TfRecordWriter(Path target, Compression compression) throws IOException {
        this.target = target.toAbsolutePath();
        this.compression = compression;
        Path dir = this.target.getParent();
        Files.createDirectories(dir);
        this.temp = Files.createTempFile(dir, "." + this.target.getFileName() + ".", ".tmp");
        FileOutputStream f = null;
        Deflater d = null;
        try {
            f = new FileOutputStream(temp.toFile());
            OutputStream o = switch (compression) {
                case NONE -> new BufferedOutputStream(f, BUFFER);
                case GZIP -> new GZIPOutputStream(f, BUFFER);
                case ZLIB -> new DeflaterOutputStream(f, d = new Deflater(Deflater.DEFAULT_COMPRESSION, false), BUFFER);
            };
            this.file = f;
            this.out = o;
            this.deflater = d;
        } catch (IOException | RuntimeException e) {
            if (d != null) d.end();
            if (f != null) f.close();
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** An uncompressed TFRecord file. */
    public static TfRecordWriter create(Path file) throws IOException {
        return new TfRecordWriter(file, Compression.NONE);
    }

    public static TfRecordWriter create(Path file, Compression compression) throws IOException {
        return new TfRecordWriter(file, compression);
    }

    public void write(byte[] data) throws IOException {
        write(data, 0, data.length);
    }

    /** Appends one record holding {@code data[offset, offset + length)}. */
    public synchronized void write(byte[] data, int offset, int length) throws IOException {
        if (closed) throw new IllegalStateException(target + ": writer is closed");
        if (offset < 0 || length < 0 || offset > data.length - length) {
            throw new IndexOutOfBoundsException("record [" + offset + ", " + offset + "+" + length + ") outside a " + data.length + "-byte array");
        }
        try {
            TfRecordFraming.write(out, data, offset, length);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw new IOException(target + ": writing record " + records + " failed: " + e.getMessage(), e);
        }
        records++;
        bytes += TfRecordFraming.framedSize(length);
    }

    /** Appends one record holding a serialized protobuf message (e.g. a tf.Example). */
    public void write(MessageLite message) throws IOException {
        write(message.toByteArray());
    }

    /** Records written so far. */
    public synchronized long records() {
        return records;
    }

    /** Framed bytes written so far, before compression. */
    public synchronized long bytesWritten() {
        return bytes;
    }

    public Path path() {
        return target;
    }

    public Compression compression() {
        return compression;
    }

    /**
     * Finishes the file and atomically puts it in place. If a write had failed, the temporary file
     * is deleted instead and the target is left as it was.
     */
    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        if (failed) {
            abort();
            return;
        }
        closed = true;
        try {
            out.flush();
            if (out instanceof DeflaterOutputStream d) d.finish();
            out.flush();
            file.getFD().sync();
            out.close();
        } catch (IOException | RuntimeException e) {
            discard();
            throw new IOException(target + ": finishing the file failed: " + e.getMessage(), e);
        } finally {
            if (deflater != null) deflater.end();
        }
        try {
            // createTempFile makes the file 0600; a finished shard is readable like any other file (TF's are 0644 under the usual umask).
            if (Files.getFileStore(temp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** Drops everything written: deletes the temporary file; the target is not touched. */
    public synchronized void abort() throws IOException {
        if (closed) return;
        closed = true;
        try {
            discard();
        } finally {
            if (deflater != null) deflater.end();
        }
    }

    private void discard() throws IOException {
        try {
            out.close();
        } catch (IOException | RuntimeException ignored) {
            // The file is being thrown away; a failing close changes nothing.
        } finally {
            try {
                file.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

}
