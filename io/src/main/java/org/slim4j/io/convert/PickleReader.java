package org.slim4j.io.convert;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safe reader for the Python pickles that hold data sets (CIFAR-10's {@code cifar-10-batches-py}):
 * it interprets the pickle opcodes of protocols 0-5 that plain data uses, but never runs code: a
 * global (class or function) becomes a {@link Global} marker and applying it a {@link Call} record,
 * so the caller decides what a numpy array looks like. The one call it evaluates is
 * {@code _codecs.encode(text, 'latin1')}, which is how Python 3 pickles bytes at protocol 2.
 *
 * <p>Values: None → null, bool → Boolean, int → Long (or BigInteger), float → Double, str →
 * String, bytes (and Python 2 str) → byte[], tuple → Object[], list → List, dict → Map
 * (LinkedHashMap). Malformed input fails with an IOException naming the byte offset.
 */
public final class PickleReader {
    /** A module-level name such as {@code numpy.core.multiarray._reconstruct}. */
    public record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** {@code callable(*args)} (REDUCE / NEWOBJ), plus the state a later BUILD gave it. */
    public static final class Call {
        public final Object callable;
        public final Object[] args;
        public Object state;

        Call(Object callable, Object[] args) {
            this.callable = callable;
            this.args = args;
        }

        @Override
        public String toString() {
            return callable + Arrays.deepToString(args) + (state == null ? "" : " state=" + state);
        }
    }

    private static final Object MARK = new Object();

    private final byte[] data;
    private final String source;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleReader(byte[] data, String source) {
        this.data = data;
        this.source = source;
    }

    /** Unpickles one object from {@code data}; {@code source} names it in error messages. */
    public static Object load(byte[] data, String source) throws IOException {
        try {
            return new PickleReader(data, source).run();
        } catch (RuntimeException e) {
            // Bad numbers in text opcodes, out-of-range indexes and the like: all malformed input.
            throw new IOException(source + ": malformed pickle (" + e + ")", e);
        }
    }

    private Object run() throws IOException {
        while (true) {
            if (pos >= data.length) throw error("ends without a STOP opcode");
            int at = pos;
            int op = data[pos++] & 0xff;
            switch (op) {
                case 0x80 -> pos++; // PROTO n
                case 0x95 -> pos += 8; // FRAME: framing is transparent
                case '.' -> { // STOP
                    if (stack.size() != 1) throw error("STOP with " + stack.size() + " values on the stack");
                    return stack.get(0);
                }
                case '(' -> marks.add(stack.size()); // MARK
                case 'N' -> stack.add(null);
                case 0x88 -> stack.add(Boolean.TRUE);
                case 0x89 -> stack.add(Boolean.FALSE);
                case 'J' -> stack.add((long) i32());
                case 'K' -> stack.add((long) u8());
                case 'M' -> stack.add((long) u16());
                case 0x8a -> stack.add(longBytes(u8())); // LONG1
                case 0x8b -> stack.add(longBytes(len(i32()))); // LONG4
                case 'G' -> stack.add(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'I' -> stack.add(intLine(line()));
                case 'L' -> stack.add(intLine(line().replaceAll("L$", "")));
                case 'F' -> stack.add(Double.parseDouble(line()));
                case 'U' -> stack.add(bytes(u8())); // SHORT_BINSTRING (Python 2 str)
                case 'T' -> stack.add(bytes(len(i32()))); // BINSTRING
                case 'C' -> stack.add(bytes(u8())); // SHORT_BINBYTES
                case 'B' -> stack.add(bytes(len(i32()))); // BINBYTES
                case 0x8e -> stack.add(bytes(len(i64()))); // BINBYTES8
                case 0x96 -> stack.add(bytes(len(i64()))); // BYTEARRAY8
                case 0x8c -> stack.add(utf8(u8())); // SHORT_BINUNICODE
                case 'X' -> stack.add(utf8(len(i32()))); // BINUNICODE
                case 0x8d -> stack.add(utf8(len(i64()))); // BINUNICODE8
                case 'S' -> stack.add(stringLiteral(line()));
                case 'V' -> stack.add(line()); // UNICODE (raw-unicode-escape; plain ASCII in practice)
                case ')' -> stack.add(new Object[0]);
                case 0x85 -> stack.add(new Object[] {pop()});
                case 0x86 -> {
                    Object b = pop();
                    stack.add(new Object[] {pop(), b});
                }
                case 0x87 -> {
                    Object c = pop();
                    Object b = pop();
                    stack.add(new Object[] {pop(), b, c});
                }
                case 't' -> stack.add(popMark().toArray());
                case ']' -> stack.add(new ArrayList<>());
                case 'l' -> stack.add(new ArrayList<>(popMark()));
                case '}' -> stack.add(new LinkedHashMap<>());
                case 'd' -> {
                    List<Object> items = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i + 1 < items.size(); i += 2) m.put(key(items.get(i)), items.get(i + 1));
                    stack.add(m);
                }
                case 0x8f -> stack.add(new ArrayList<>()); // EMPTY_SET (as a list)
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    list(top(), at).addAll(items);
                }
                case 0x91 -> stack.add(popMark()); // FROZENSET
                case 'a' -> {
                    Object v = pop();
                    list(top(), at).add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(top(), at).addAll(items);
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    map(top(), at).put(key(k), v);
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    Map<Object, Object> m = map(top(), at);
                    for (int i = 0; i + 1 < items.size(); i += 2) m.put(key(items.get(i)), items.get(i + 1));
                }
                case 'q' -> memo.put((long) u8(), top());
                case 'r' -> memo.put(i32() & 0xffffffffL, top());
                case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
                case 'p' -> memo.put(Long.parseLong(line().trim()), top());
                case 'h' -> stack.add(memoGet(u8()));
                case 'j' -> stack.add(memoGet(i32() & 0xffffffffL));
                case 'g' -> stack.add(memoGet(Long.parseLong(line().trim())));
                case '0' -> pop();
                case '2' -> stack.add(top()); // DUP
                case '1' -> popMark(); // POP_MARK
                case 'c' -> {
                    String module = line();
                    stack.add(new Global(module, line()));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    stack.add(new Global(String.valueOf(pop()), String.valueOf(name)));
                }
                case 'R' -> {
                    Object[] args = tuple(pop(), at);
                    stack.add(call(pop(), args));
                }
                case 0x81 -> { // NEWOBJ
                    Object[] args = tuple(pop(), at);
                    stack.add(new Call(pop(), args));
                }
                case 0x92 -> { // NEWOBJ_EX
                    pop(); // kwargs
                    Object[] args = tuple(pop(), at);
                    stack.add(new Call(pop(), args));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object obj = top();
                    if (obj instanceof Call c) {
                        c.state = state;
                    } else {
                        throw error(at, "BUILD on a " + typeName(obj));
                    }
                }
                default -> throw error(at, String.format("unsupported opcode 0x%02x", op));
            }
        }
    }

    /** REDUCE: evaluates only {@code _codecs.encode(str, 'latin1')} (Python 3's protocol-2 bytes). */
    private static Object call(Object callable, Object[] args) {
        if (callable instanceof Global g && g.module().equals("_codecs") && g.name().equals("encode")
                && args.length == 2 && args[0] instanceof String s && "latin1".equals(args[1])) {
            return s.getBytes(StandardCharsets.ISO_8859_1);
        }
        return new Call(callable, args);
    }

    /** Dict keys: byte strings become Java strings so that {@code b'data'} and {@code 'data'} look alike. */
    private static Object key(Object k) {
        if (k instanceof byte[] b) return new String(b, StandardCharsets.ISO_8859_1);
        if (k instanceof Object[] t) return Arrays.asList(t);
        return k;
    }

    private Object[] tuple(Object o, int at) throws IOException {
        if (o instanceof Object[] t) return t;
        throw error(at, "expected a tuple of arguments, got " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) throws IOException {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw error(at, "append to a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o, int at) throws IOException {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw error(at, "setitem on a " + typeName(o));
    }

    private Object memoGet(long index) throws IOException {
        if (!memo.containsKey(index)) throw error("memo entry " + index + " read before it was written");
        return memo.get(index);
    }

    private Object pop() throws IOException {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
            throw error("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top() throws IOException {
        if (stack.isEmpty()) throw error("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws IOException {
        if (marks.isEmpty()) throw error("no MARK on the stack");
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private int u8() throws IOException {
        need(1);
        return data[pos++] & 0xff;
    }

    private int u16() throws IOException {
        need(2);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private int i32() throws IOException {
        need(4);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | (data[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long i64() throws IOException {
        need(8);
        long v = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    /** A length that must fit in what is left of the input: absurd lengths fail here, before any allocation. */
    private int len(long n) throws IOException {
        if (n < 0 || n > data.length - pos) throw error("length " + n + " runs past the end of the data (" + (data.length - pos) + " bytes left)");
        return (int) n;
    }

    private byte[] bytes(int n) throws IOException {
        need(n);
        byte[] b = Arrays.copyOfRange(data, pos, pos + n);
        pos += n;
        return b;
    }

    private String utf8(int n) throws IOException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    /** LONG1/LONG4: little-endian two's complement. */
    private Object longBytes(int n) throws IOException {
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String line() throws IOException {
        int start = pos;
        while (pos < data.length && data[pos] != '\n') pos++;
        if (pos >= data.length) throw error(start, "unterminated text line");
        String s = new String(data, start, pos - start, StandardCharsets.ISO_8859_1);
        pos++;
        return s;
    }

    private static Object intLine(String s) {
        String t = s.trim();
        if (t.equals("00")) return Boolean.FALSE; // protocol 0 booleans
        if (t.equals("01")) return Boolean.TRUE;
        BigInteger v = new BigInteger(t);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** Protocol 0 {@code S'...'}: a quoted Python 2 str with backslash escapes. */
    private byte[] stringLiteral(String s) throws IOException {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw error("bad STRING literal");
        }
        String body = s.substring(1, s.length() - 1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < body.length(); i++) {
            char ch = body.charAt(i);
            if (ch != '\\' || i + 1 >= body.length()) {
                out.write(ch);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case 'r' -> out.write('\r');
                case 'x' -> {
                    out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> out.write(e);
            }
        }
        return out.toByteArray();
    }

    private void need(int n) throws IOException {
        if (n < 0 || pos + n > data.length) throw error("truncated: needs " + n + " more bytes at offset " + pos + " of " + data.length);
    }

    private IOException error(String what) {
        return error(pos, what);
    }

    private IOException error(int at, String what) {
        return new IOException(source + ": malformed pickle at byte " + at + ": " + what);
    }

    static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
