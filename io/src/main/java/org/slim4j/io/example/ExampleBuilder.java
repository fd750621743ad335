package org.slim4j.io.example;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slim4j.io.proto.BytesList;
import org.slim4j.io.proto.Example;
import org.slim4j.io.proto.Feature;
import org.slim4j.io.proto.Features;
import org.slim4j.io.proto.FloatList;
import org.slim4j.io.proto.Int64List;

/**
 * Builds a tf.Example the way TF-Slim's dataset_utils does ({@code bytes_feature},
 * {@code int64_feature}, {@code float_feature}, ...). Setting a key again replaces its feature,
 * as assigning a Python dict entry does. Features are written in the order they were first set.
 *
 * <pre>{@code
 * byte[] record = new ExampleBuilder()
 *     .bytes("image/encoded", png).string("image/format", "png")
 *     .int64("image/class/label", 3).int64("image/height", 28).int64("image/width", 28)
 *     .toByteArray();
 * }</pre>
 */
public final class ExampleBuilder {
    private final Map<String, Feature> features = new LinkedHashMap<>();

    /** A bytes_list feature with the given values (one value per array). */
    public ExampleBuilder bytes(String key, byte[]... values) {
        BytesList.Builder b = BytesList.newBuilder();
        for (byte[] v : values) b.addValue(ByteString.copyFrom(Objects.requireNonNull(v, () -> "null bytes value for feature '" + key + "'")));
        return put(key, Feature.newBuilder().setBytesList(b).build());
    }

    /** A bytes_list feature from a list of values. */
    public ExampleBuilder bytes(String key, List<byte[]> values) {
        return bytes(key, values.toArray(new byte[0][]));
    }

    /** A bytes_list feature holding the UTF-8 encoding of each string. */
    public ExampleBuilder string(String key, String... values) {
        BytesList.Builder b = BytesList.newBuilder();
        for (String v : values) b.addValue(ByteString.copyFrom(Objects.requireNonNull(v, () -> "null string for feature '" + key + "'"), StandardCharsets.UTF_8));
        return put(key, Feature.newBuilder().setBytesList(b).build());
    }

    /** An int64_list feature. */
    public ExampleBuilder int64(String key, long... values) {
        Int64List.Builder b = Int64List.newBuilder();
        for (long v : values) b.addValue(v);
        return put(key, Feature.newBuilder().setInt64List(b).build());
    }

    /** An int64_list feature from ints (labels, sizes). */
    public ExampleBuilder int64(String key, int... values) {
        Int64List.Builder b = Int64List.newBuilder();
        for (int v : values) b.addValue(v);
        return put(key, Feature.newBuilder().setInt64List(b).build());
    }

    /** A float_list feature. */
    public ExampleBuilder floats(String key, float... values) {
        FloatList.Builder b = FloatList.newBuilder();
        for (float v : values) b.addValue(v);
        return put(key, Feature.newBuilder().setFloatList(b).build());
    }

    /** Any prepared feature. */
    public ExampleBuilder feature(String key, Feature feature) {
        return put(key, Objects.requireNonNull(feature, "feature"));
    }

    /** Whether {@code key} has been set. */
    public boolean has(String key) {
        return features.containsKey(key);
    }

    public Example build() {
        return Example.newBuilder().setFeatures(Features.newBuilder().putAllFeature(features)).build();
    }

    /** The serialized Example, ready for {@code TfRecordWriter.write}. */
    public byte[] toByteArray() {
        return build().toByteArray();
    }

    /**
     * TF-Slim's {@code dataset_utils.image_to_tfexample}: {@code image/encoded}, {@code image/format},
     * {@code image/class/label}, {@code image/height}, {@code image/width}.
     */
    public static ExampleBuilder image(byte[] encoded, String format, int height, int width, long classId) {
        return new ExampleBuilder()
                .bytes("image/encoded", encoded)
                .string("image/format", format)
                .int64("image/class/label", classId)
                .int64("image/height", height)
                .int64("image/width", width);
    }

    private ExampleBuilder put(String key, Feature f) {
        Objects.requireNonNull(key, "feature key");
        features.put(key, f);
        return this;
    }
}
