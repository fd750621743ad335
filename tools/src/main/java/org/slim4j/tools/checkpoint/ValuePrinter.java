package org.slim4j.tools.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slim4j.io.checkpoint.TfDataType;

/**
 * Prints checkpoint values the way NumPy prints the arrays TensorFlow's inspect_checkpoint shows:
 * nested brackets, a common width per array, and, for arrays with more than {@code threshold}
 * elements, only the first and last 3 entries of each dimension around "...".
 */
final class ValuePrinter {
    private static final int EDGE = 3;
    private static final int LINE_WIDTH = 75;

    private ValuePrinter() {
    }

    /** Formats fixed-size elements given as little-endian bytes. */
    static String format(TfDataType dtype, long[] dims, byte[] le, int threshold) {
        ByteBuffer b = ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN);
        int n = le.length / dtype.byteSize();
        String[] cells = new String[n];
        boolean summarize = threshold >= 0 && n > threshold;
        boolean[] shown = shownMask(dims, summarize);
        List<Double> floats = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!shown[i]) continue;
            switch (dtype) {
                case FLOAT -> floats.add(widen(b.getFloat(4 * i)));
                case DOUBLE -> floats.add(b.getDouble(8 * i));
                case HALF -> floats.add(widen(halfToFloat(b.getShort(2 * i))));
                case BFLOAT16 -> floats.add(widen(Float.intBitsToFloat(b.getShort(2 * i) << 16)));
                default -> { }
            }
        }
        FloatFormat ff = dtype.dtype() != null && dtype.dtype().isFloating() ? new FloatFormat(floats) : null;
        for (int i = 0; i < n; i++) {
            if (!shown[i]) continue;
            cells[i] = switch (dtype) {
                case FLOAT -> ff.format(widen(b.getFloat(4 * i)));
                case DOUBLE -> ff.format(b.getDouble(8 * i));
                case HALF -> ff.format(widen(halfToFloat(b.getShort(2 * i))));
                case BFLOAT16 -> ff.format(widen(Float.intBitsToFloat(b.getShort(2 * i) << 16)));
                case INT32, QINT32 -> Integer.toString(b.getInt(4 * i));
                case INT64 -> Long.toString(b.getLong(8 * i));
                case UINT8, QUINT8 -> Integer.toString(b.get(i) & 0xff);
                case INT8, QINT8 -> Integer.toString(b.get(i));
                case INT16, QINT16 -> Integer.toString(b.getShort(2 * i));
                case UINT16, QUINT16 -> Integer.toString(b.getShort(2 * i) & 0xffff);
                case UINT32 -> Integer.toUnsignedString(b.getInt(4 * i));
                case UINT64 -> Long.toUnsignedString(b.getLong(8 * i));
                case BOOL -> b.get(i) != 0 ? "True" : "False";
                case COMPLEX64 -> complex(b.getFloat(8 * i), b.getFloat(8 * i + 4));
                case COMPLEX128 -> complex(b.getDouble(16 * i), b.getDouble(16 * i + 8));
                default -> "?";
            };
        }
        if (ff != null) ff.align(cells);
        return layout(dims, cells, summarize, true);
    }

    /** Formats string elements as Python bytes literals. */
    static String formatStrings(long[] dims, List<byte[]> values, int threshold) {
        String[] cells = new String[values.size()];
        boolean summarize = threshold >= 0 && cells.length > threshold;
        boolean[] shown = shownMask(dims, summarize);
        for (int i = 0; i < cells.length; i++) if (shown[i]) cells[i] = bytesLiteral(values.get(i));
        return layout(dims, cells, summarize, false); // NumPy doesn't pad bytes elements
    }

    static String bytesLiteral(byte[] v) {
        StringBuilder sb = new StringBuilder("b'");
        for (byte x : v) {
            int c = x & 0xff;
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\'' -> sb.append("\\'");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7f) sb.append((char) c);
                    else sb.append(String.format("\\x%02x", c));
                }
            }
        }
        return sb.append('\'').toString();
    }

    private static String complex(double re, double im) {
        return "(" + FloatFormat.plain(re) + (im < 0 || (im == 0 && 1 / im < 0) ? "-" : "+") + FloatFormat.plain(Math.abs(im)) + "j)";
    }

    /** The double with the float's shortest decimal spelling (1e-5f prints as 1e-05, not 9.99999975e-06), as NumPy prints float32. */
    static double widen(float f) {
        return Float.isFinite(f) ? Double.parseDouble(Float.toString(f)) : f;
    }

    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = bits >>> 15;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        float v;
        if (exp == 0) v = mant * 0x1p-24f;
        else if (exp == 31) v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        else v = (1 + mant / 1024f) * (float) Math.pow(2, exp - 15);
        return sign == 0 ? v : -v;
    }

    /** Which row-major elements a summarized print shows (all when not summarizing). */
    private static boolean[] shownMask(long[] dims, boolean summarize) {
        long n = 1;
        for (long d : dims) n *= d;
        boolean[] shown = new boolean[(int) n];
        int[] idx = new int[dims.length];
        for (int i = 0; i < n; i++) {
            boolean s = true;
            if (summarize) {
                for (int d = 0; d < dims.length && s; d++) {
                    if (dims[d] > 2 * EDGE && idx[d] >= EDGE && idx[d] < dims[d] - EDGE) s = false;
                }
            }
            shown[i] = s;
            for (int d = dims.length - 1; d >= 0; d--) {
                if (++idx[d] < dims[d]) break;
                idx[d] = 0;
            }
        }
        return shown;
    }

    private static String layout(long[] dims, String[] cells, boolean summarize, boolean pad) {
        if (dims.length == 0) return cells.length == 1 ? cells[0] : "[]";
        int width = 0;
        if (pad) for (String c : cells) if (c != null) width = Math.max(width, c.length());
        StringBuilder sb = new StringBuilder();
        long[] strides = new long[dims.length];
        long s = 1;
        for (int d = dims.length - 1; d >= 0; d--) {
            strides[d] = s;
            s *= dims[d];
        }
        block(sb, dims, strides, 0, 0, cells, width, summarize, 1);
        return sb.toString();
    }

    private static void block(StringBuilder sb, long[] dims, long[] strides, int d, long base, String[] cells, int width, boolean summarize, int indent) {
        sb.append('[');
        long n = dims[d];
        boolean cut = summarize && n > 2 * EDGE;
        if (d == dims.length - 1) {
            int lineStart = sb.length() - indent;
            for (long i = 0; i < n; i++) {
                if (cut && i == EDGE) {
                    sb.append(" ...");
                    i = n - EDGE - 1;
                    continue;
                }
                String c = cells[(int) (base + i)];
                String padded = " ".repeat(Math.max(0, width - c.length())) + c;
                if (i > 0) {
                    if (sb.length() - lineStart + 1 + padded.length() + 1 > LINE_WIDTH) {
                        sb.append('\n').append(" ".repeat(indent));
                        lineStart = sb.length() - indent;
                    } else {
                        sb.append(' ');
                    }
                }
                sb.append(padded);
            }
        } else {
            String sep = "\n".repeat(dims.length - 1 - d) + " ".repeat(indent);
            for (long i = 0; i < n; i++) {
                if (cut && i == EDGE) {
                    sb.append(sep).append("...");
                    i = n - EDGE - 1;
                    sb.append(sep);
                    block(sb, dims, strides, d + 1, base + (i + 1) * strides[d], cells, width, summarize, indent + 1);
                    continue;
                }
                if (i > 0) sb.append(sep);
                block(sb, dims, strides, d + 1, base + i * strides[d], cells, width, summarize, indent + 1);
            }
        }
        sb.append(']');
    }

    /**
     * NumPy's float style, chosen per array: scientific when the nonzero magnitudes reach 1e8, go
     * below 1e-4 or span more than 1000x (all with the same number of mantissa digits); otherwise
     * fixed-point with up to 8 decimals, trailing zeros dropped, aligned on the decimal point.
     */
    private static final class FloatFormat {
        private final boolean scientific;
        private final int digits;

        FloatFormat(List<Double> values) {
            double max = 0;
            double min = Double.MAX_VALUE;
            for (double v : values) {
                double a = Math.abs(v);
                if (!Double.isFinite(v) || a == 0) continue;
                max = Math.max(max, a);
                min = Math.min(min, a);
            }
            scientific = max > 0 && (max >= 1e8 || min < 1e-4 || max / min > 1000);
            int d = 0;
            if (scientific) {
                for (double v : values) {
                    if (!Double.isFinite(v)) continue;
                    String m = String.format(Locale.ROOT, "%.7e", v);
                    m = m.substring(0, m.indexOf('e')).replaceAll("0+$", "");
                    d = Math.max(d, m.length() - m.indexOf('.') - 1);
                }
            }
            digits = d;
        }

        String format(double v) {
            if (!Double.isFinite(v) || !scientific) return plain(v);
            String s = String.format(Locale.ROOT, "%." + digits + "e", v);
            int e = s.indexOf('e');
            String mantissa = s.substring(0, e);
            if (digits == 0) mantissa += ".";
            int exp = Integer.parseInt(s.substring(e + 1));
            return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
        }

        /** Pads fixed-point cells so their decimal points line up (scientific ones already do). */
        void align(String[] cells) {
            if (scientific) return;
            int left = 0;
            int right = 0;
            for (String c : cells) {
                if (c == null || c.indexOf('.') < 0) continue;
                left = Math.max(left, c.indexOf('.'));
                right = Math.max(right, c.length() - c.indexOf('.') - 1);
            }
            for (int i = 0; i < cells.length; i++) {
                String c = cells[i];
                if (c == null || c.indexOf('.') < 0) continue;
                int dot = c.indexOf('.');
                cells[i] = " ".repeat(left - dot) + c + " ".repeat(right - (c.length() - dot - 1));
            }
        }

        static String plain(double v) {
            if (Double.isNaN(v)) return "nan";
            if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
            return String.format(Locale.ROOT, "%.8f", v).replaceAll("0+$", "");
        }
    }
}
