package org.slim4j.io.example;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slim4j.io.proto.Example;
import org.slim4j.io.proto.Feature;
import org.slim4j.io.proto.FloatList;
import org.slim4j.io.proto.Int64List;
import org.slim4j.io.tfrecord.TfRecord;

/**
 * Typed access to the features of one parsed tf.Example, with errors that say which record and
 * which key. Follows TensorFlow's parsing rules: a single-value getter ({@link #int64(String)},
 * like a {@code FixedLenFeature([], ...)}) needs exactly one value; the list getters (like
 * {@code VarLenFeature}) accept any number; a {@code Feature} with no list set counts as an empty
 * list of any type; a missing key is an error unless a default is given.
 *
 * <pre>{@code
 * ExampleFeatures f = ExampleFeatures.parse(record, file);
 * byte[] image = f.bytes("image/encoded");
 * long label = f.int64("image/class/label");
 * String format = f.string("image/format", "jpeg");
 * }</pre>
 */
public final class ExampleFeatures {
    /** Which list a feature holds. EMPTY: a Feature with no list set. */
    public enum Kind {
        BYTES("bytes_list"), FLOAT("float_list"), INT64("int64_list"), EMPTY("no value list");

        private final String protoName;

        Kind(String protoName) {
            this.protoName = protoName;
        }

        public String protoName() {
            return protoName;
        }
    }

    private final Example example;
    private final Map<String, Feature> map;
    private final String source;

    private ExampleFeatures(Example example, String source) {
        this.example = example;
        this.map = example.getFeatures().getFeatureMap();
        this.source = source;
    }

    /**
     * Parses a serialized tf.Example. {@code source} names the record in error messages (e.g.
     * "FILE record 3 (byte offset 1234)").
     *
     * @throws ExampleException when the bytes are not a valid Example
     */
    public static ExampleFeatures parse(byte[] serialized, String source) {
        try {
            return new ExampleFeatures(Example.parseFrom(serialized), source);
        } catch (InvalidProtocolBufferException e) {
            throw new ExampleException(source, "not a valid tf.Example (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            // protobuf-java signals nearly all malformed input with the checked exception above;
            // anything else from bad bytes still deserves the record's name.
            throw new ExampleException(source, "not a valid tf.Example (" + e + ")", e);
        }
    }

    /** Parses a record read from {@code file}; messages name the file, record index and byte offset. */
    public static ExampleFeatures parse(TfRecord record, Object file) {
        return parse(record.data(), record.describe(file));
    }

    /** Wraps an Example already parsed. */
    public static ExampleFeatures of(Example example, String source) {
        return new ExampleFeatures(example, source);
    }

    public Example example() {
        return example;
    }

    public String source() {
        return source;
    }

    /** The feature keys, sorted. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(new TreeSet<>(map.keySet()));
    }

    public boolean has(String key) {
        return map.containsKey(key);
    }

    /** The kind of list {@code key} holds. */
    public Kind kind(String key) {
        return kindOf(feature(key));
    }

    /** Number of values of {@code key}. */
    public int count(String key) {
        Feature f = feature(key);
        return switch (kindOf(f)) {
            case BYTES -> f.getBytesList().getValueCount();
            case FLOAT -> f.getFloatList().getValueCount();
            case INT64 -> f.getInt64List().getValueCount();
            case EMPTY -> 0;
        };
    }

    // ---- bytes ----------------------------------------------------------------------------

    /** The single bytes value of {@code key}. */
    public byte[] bytes(String key) {
        return single(key, bytesValues(key)).toByteArray();
    }

    /** All bytes values of {@code key} (any number). */
    public List<byte[]> bytesList(String key) {
        List<ByteString> v = bytesValues(key);
        List<byte[]> out = new ArrayList<>(v.size());
        for (ByteString b : v) out.add(b.toByteArray());
        return out;
    }

    /** The single bytes value of {@code key}, as a ByteString (no copy). */
    public ByteString byteString(String key) {
        return single(key, bytesValues(key));
    }

    /** The single bytes value of {@code key} decoded as UTF-8. */
    public String string(String key) {
        return byteString(key).toString(StandardCharsets.UTF_8);
    }

    /** {@link #string(String)}, or {@code defaultValue} when the key is absent. */
    public String string(String key, String defaultValue) {
        return has(key) ? string(key) : defaultValue;
    }

    /** All bytes values of {@code key} decoded as UTF-8. */
    public List<String> stringList(String key) {
        List<String> out = new ArrayList<>();
        for (ByteString b : bytesValues(key)) out.add(b.toString(StandardCharsets.UTF_8));
        return out;
    }

    // ---- int64 ----------------------------------------------------------------------------

    /** The single int64 value of {@code key}. */
    public long int64(String key) {
        long[] v = int64List(key);
        if (v.length != 1) throw countError(key, v.length);
        return v[0];
    }

    /** {@link #int64(String)}, or {@code defaultValue} when the key is absent. */
    public long int64(String key, long defaultValue) {
        return has(key) ? int64(key) : defaultValue;
    }

    /** All int64 values of {@code key}. */
    public long[] int64List(String key) {
        Feature f = feature(key);
        Kind k = kindOf(f);
        if (k == Kind.EMPTY) return new long[0];
        if (k != Kind.INT64) throw typeError(key, k, Kind.INT64);
        Int64List l = f.getInt64List();
        long[] out = new long[l.getValueCount()];
        for (int i = 0; i < out.length; i++) out[i] = l.getValue(i);
        return out;
    }

    /** The single int64 value of {@code key}, which must fit an int (labels, sizes). */
    public int int32(String key) {
        long v = int64(key);
        if (v != (int) v) throw new ExampleException(source, "feature '" + key + "' value " + v + " does not fit a 32-bit int");
        return (int) v;
    }

    // ---- float ----------------------------------------------------------------------------

    /** The single float value of {@code key}. */
    public float float32(String key) {
        float[] v = floatList(key);
        if (v.length != 1) throw countError(key, v.length);
        return v[0];
    }

    /** {@link #float32(String)}, or {@code defaultValue} when the key is absent. */
    public float float32(String key, float defaultValue) {
        return has(key) ? float32(key) : defaultValue;
    }

    /** All float values of {@code key}. */
    public float[] floatList(String key) {
        Feature f = feature(key);
        Kind k = kindOf(f);
        if (k == Kind.EMPTY) return new float[0];
        if (k != Kind.FLOAT) throw typeError(key, k, Kind.FLOAT);
        FloatList l = f.getFloatList();
        float[] out = new float[l.getValueCount()];
        for (int i = 0; i < out.length; i++) out[i] = l.getValue(i);
        return out;
    }

    @Override
    public String toString() {
        return "ExampleFeatures[" + source + ", keys=" + keys() + "]";
    }

    // ---- helpers --------------------------------------------------------------------------

    private Feature feature(String key) {
        Feature f = map.get(key);
        if (f == null) {
            throw new ExampleException(source, "feature '" + key + "' is missing (the example has " + describeKeys() + ")");
        }
        return f;
    }

    private List<ByteString> bytesValues(String key) {
        Feature f = feature(key);
        Kind k = kindOf(f);
        if (k == Kind.EMPTY) return List.of();
        if (k != Kind.BYTES) throw typeError(key, k, Kind.BYTES);
        return f.getBytesList().getValueList();
    }

    private ByteString single(String key, List<ByteString> values) {
        if (values.size() != 1) throw countError(key, values.size());
        return values.get(0);
    }

    private static Kind kindOf(Feature f) {
        return switch (f.getKindCase()) {
            case BYTES_LIST -> Kind.BYTES;
            case FLOAT_LIST -> Kind.FLOAT;
            case INT64_LIST -> Kind.INT64;
            case KIND_NOT_SET -> Kind.EMPTY;
        };
    }

    private ExampleException typeError(String key, Kind actual, Kind wanted) {
        return new ExampleException(source, "feature '" + key + "' is a " + actual.protoName() + ", expected a " + wanted.protoName());
    }

    private ExampleException countError(String key, int n) {
        return new ExampleException(source, "feature '" + key + "' has " + n + " values, expected exactly 1");
    }

    private String describeKeys() {
        if (map.isEmpty()) return "no features";
        Set<String> k = new TreeSet<>(map.keySet());
        StringBuilder sb = new StringBuilder("features: ");
        int i = 0;
        for (String s : k) {
            if (i++ == 20) {
                sb.append(", ... (").append(k.size()).append(" in all)");
                break;
            }
            if (i > 1) sb.append(", ");
            sb.append(s);
        }
        return sb.toString();
    }
}
