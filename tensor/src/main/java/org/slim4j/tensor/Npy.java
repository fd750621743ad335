package org.slim4j.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (version 1.0/2.0, little-endian, C order): a tensor interchange format for
 * golden data and debugging. Reads f4, f8, i4, i8, u1 and b1; writes float32/float64/int32/int64/uint8.
 */
public final class Npy {
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static Tensor read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        try {
            return parse(all);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    static Tensor parse(byte[] all) {
        if (all.length < 10 || (all[0] & 0xff) != 0x93 || !new String(all, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IllegalArgumentException("not a .npy file (bad magic)");
        }
        int major = all[6];
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLen = bb.getInt(8);
            headerStart = 12;
        } else {
            throw new IllegalArgumentException("unsupported .npy version " + major);
        }
        if (headerLen < 0 || headerStart + headerLen > all.length) throw new IllegalArgumentException("truncated header");
        String header = new String(all, headerStart, headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find()) throw new IllegalArgumentException("header without descr/shape: " + header.trim());
        if (f.find() && f.group(1).equals("True")) throw new IllegalArgumentException("fortran_order arrays are not supported");
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.trim();
            if (!p.isEmpty()) dims.add(Integer.parseInt(p));
        }
        int[] shapeDims = dims.stream().mapToInt(Integer::intValue).toArray();
        Shape shape = Shape.of(shapeDims);
        int n = shape.numel();
        String descr = d.group(1);
        bb.position(headerStart + headerLen);
        ByteBuffer data = bb.slice().order(ByteOrder.LITTLE_ENDIAN);
        int elem = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            case "|u1", "|b1", "|i1" -> 1;
            default -> throw new IllegalArgumentException("unsupported dtype '" + descr + "'");
        };
        if ((long) n * elem > data.remaining()) {
            throw new IllegalArgumentException("data holds " + data.remaining() + " bytes, shape " + shape + " of " + descr + " needs " + (long) n * elem);
        }
        return switch (descr) {
            case "<f4" -> {
                float[] a = new float[n];
                data.asFloatBuffer().get(a);
                yield Tensor.of(a, shapeDims);
            }
            case "<f8" -> {
                double[] a = new double[n];
                data.asDoubleBuffer().get(a);
                yield Tensor.of(a, shapeDims);
            }
            case "<i4" -> {
                int[] a = new int[n];
                data.asIntBuffer().get(a);
                yield Tensor.of(a, shapeDims);
            }
            case "<i8" -> {
                long[] a = new long[n];
                data.asLongBuffer().get(a);
                yield Tensor.of(a, shapeDims);
            }
            default -> {
                byte[] a = new byte[n];
                data.get(a);
                yield Tensor.ofBytes(a, shapeDims);
            }
        };
    }

    /** Writes atomically (temporary file, then rename). */
    public static void write(Tensor t, Path file) throws IOException {
        String descr = switch (t.dtype()) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT32 -> "<i4";
            case INT64 -> "<i8";
            case UINT8 -> "|u1";
            default -> throw new IllegalArgumentException("cannot write " + t.dtype() + " to .npy");
        };
        StringBuilder shape = new StringBuilder("(");
        int[] dims = t.dims();
        for (int i = 0; i < dims.length; i++) shape.append(dims[i]).append(dims.length == 1 ? "," : (i + 1 < dims.length ? ", " : ""));
        shape.append(')');
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }");
        while ((10 + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        int n = t.numel();
        ByteBuffer data = ByteBuffer.allocate(n * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32 -> data.asFloatBuffer().put(t.toFloatArray());
            case FLOAT64 -> data.asDoubleBuffer().put(t.toDoubleArray());
            case INT32 -> data.asIntBuffer().put(t.toIntArray());
            case INT64 -> data.asLongBuffer().put(t.toLongArray());
            default -> {
                double[] v = t.toDoubleArray();
                for (double x : v) data.put((byte) (int) x);
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
            int hl = header.length();
            out.write(new byte[] {(byte) hl, (byte) (hl >>> 8)});
            out.write(header.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(data.array());
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static Tensor read(InputStream in) throws IOException {
        return parse(in.readAllBytes());
    }
}
