package org.slim4j.io.mnist;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Reads MNIST-format IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed (recognised by
 * the gzip magic bytes, not the file name). Layout: a big-endian magic {@code 0x0000TTNN}
 * (TT = element type, 0x08 = unsigned byte; NN = number of dimensions), NN big-endian int32
 * dimension sizes, then the elements in row-major order. Labels are {@code 0x00000801} [N],
 * images {@code 0x00000803} [N, rows, cols]. The file must hold exactly the bytes its header
 * announces: short or overlong files are rejected with the file named in the message.
 */
public final class IdxReader {
    /** Unsigned-byte labels, one dimension. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Unsigned-byte images, three dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;

    private IdxReader() {
    }

    /** All images as a UINT8 tensor [N, rows, cols, 1] (NHWC, one channel). */
    public static Tensor readImages(Path file) throws IOException {
        return readImages(file, Integer.MAX_VALUE);
    }

    /** The first {@code limit} images (all of them when the file holds fewer) as UINT8 [n, rows, cols, 1]. */
    public static Tensor readImages(Path file, int limit) throws IOException {
        checkLimit(limit);
        try (InputStream in = open(file)) {
            return images(in, file, limit);
        } catch (EOFException | ZipException e) {
            throw corrupt(file, e);
        }
    }

    private static Tensor images(InputStream in, Path file, int limit) throws IOException {
        int[] dims = header(in, file, IMAGES_MAGIC, "images");
        int n = Math.min(dims[0], limit);
        long itemBytes = (long) dims[1] * dims[2];
        if ((long) n * itemBytes > Integer.MAX_VALUE) {
            throw new IOException(file + ": " + n + " images of " + dims[1] + "x" + dims[2] + " exceed 2^31-1 elements; pass a limit");
        }
        Tensor images = Tensor.zeros(DType.UINT8, Shape.of(n, dims[1], dims[2], 1));
        try {
            // Read straight into the tensor's backing array: no second copy of a 47 MB file.
            readFully(in, images.byteData(), images.offset(), n * (int) itemBytes, file, (long) dims[0] * itemBytes);
            expectEnd(in, file, (long) (dims[0] - n) * itemBytes, (long) dims[0] * itemBytes);
        } catch (IOException | RuntimeException e) {
            images.close();
            throw e;
        }
        return images;
    }

    /** All labels as an INT32 tensor [N]. */
    public static Tensor readLabels(Path file) throws IOException {
        return readLabels(file, Integer.MAX_VALUE);
    }

    /** The first {@code limit} labels (all of them when the file holds fewer) as INT32 [n]. */
    public static Tensor readLabels(Path file, int limit) throws IOException {
        checkLimit(limit);
        try (InputStream in = open(file)) {
            return labels(in, file, limit);
        } catch (EOFException | ZipException e) {
            throw corrupt(file, e);
        }
    }

    private static Tensor labels(InputStream in, Path file, int limit) throws IOException {
        int[] dims = header(in, file, LABELS_MAGIC, "labels");
        int n = Math.min(dims[0], limit);
        byte[] raw = new byte[n];
        readFully(in, raw, 0, n, file, dims[0]);
        expectEnd(in, file, dims[0] - n, dims[0]);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = raw[i] & 0xff;
        return Tensor.of(labels, n);
    }

    /** gzip's own errors (bad CRC, stream cut short) surface as EOF/Zip exceptions without the file name. */
    private static IOException corrupt(Path file, IOException e) {
        return new IOException(file + ": corrupt or truncated gzip data: " + e.getMessage(), e);
    }

    private static void checkLimit(int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }

    /** Opens the file, decompressing when it starts with the gzip magic 1f 8b. */
    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            } catch (IOException e) {
                in.close();
                throw new IOException(file + ": corrupt gzip header: " + e.getMessage(), e);
            }
        }
        return in;
    }

    /** Reads and checks the magic and dimensions; returns the dimension sizes. */
    private static int[] header(InputStream in, Path file, int expectedMagic, String what) throws IOException {
        byte[] m = new byte[4];
        int got = in.readNBytes(m, 0, 4);
        if (got < 4) throw new IOException(file + ": too short for an IDX header (" + got + " bytes)");
        int magic = bigEndian(m);
        if (magic != expectedMagic) {
            String hint = magic == LABELS_MAGIC ? " (this is an IDX labels file)"
                    : magic == IMAGES_MAGIC ? " (this is an IDX images file)"
                    : (m[0] != 0 || m[1] != 0) ? " (not an IDX file)" : "";
            throw new IOException(String.format("%s: bad magic 0x%08x, expected 0x%08x for IDX %s%s", file, magic, expectedMagic, what, hint));
        }
        int rank = expectedMagic & 0xff;
        int[] dims = new int[rank];
        byte[] d = new byte[4];
        for (int i = 0; i < rank; i++) {
            if (in.readNBytes(d, 0, 4) < 4) throw new IOException(file + ": truncated IDX header (dimension " + i + " of " + rank + " missing)");
            dims[i] = bigEndian(d);
            // The count may be 0; rows and columns must not.
            if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                throw new IOException(file + ": bad IDX dimension " + i + " = " + Integer.toUnsignedString(dims[i]));
            }
        }
        return dims;
    }

    private static void readFully(InputStream in, byte[] dst, int off, int len, Path file, long announced) throws IOException {
        int got = in.readNBytes(dst, off, len);
        if (got < len) {
            throw new IOException(file + ": truncated: the header announces " + announced + " data bytes but the file holds " + got);
        }
    }

    /** Skips the {@code remaining} data bytes beyond the limit, then requires the end of the file. */
    private static void expectEnd(InputStream in, Path file, long remaining, long announced) throws IOException {
        long skipped = 0;
        byte[] buf = new byte[1 << 16];
        while (skipped < remaining) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, remaining - skipped));
            if (r < 0) {
                throw new IOException(file + ": truncated: the header announces " + announced + " data bytes but the file holds "
                        + (announced - remaining + skipped));
            }
            skipped += r;
        }
        if (in.read() >= 0) {
            throw new IOException(file + ": longer than its header announces (" + announced + " data bytes): trailing bytes");
        }
    }

    private static int bigEndian(byte[] b) {
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }
}
