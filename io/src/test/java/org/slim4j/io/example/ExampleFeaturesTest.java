package org.slim4j.io.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slim4j.io.proto.Example;
import org.slim4j.io.proto.Feature;
import org.slim4j.io.proto.Features;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.testing.GoldenData;

class ExampleFeaturesTest {
    static final Path GOLDEN = GoldenData.goldenDir().resolve("tfrecord");

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void goldenRecordsHoldTheManifestsFeatures() throws Exception {
        JsonNode m = new ObjectMapper().readTree(GOLDEN.resolve("manifest.json").toFile());
        Path file = GOLDEN.resolve("examples.tfrecord");
        List<TfRecord> recs = TfRecordReader.readAll(file);
        for (int i = 0; i < recs.size(); i++) {
            JsonNode want = m.get("records").get(i).get("features");
            ExampleFeatures f = ExampleFeatures.parse(recs.get(i), file);
            assertTrue(f.source().contains("record " + i) && f.source().contains(file.toString()), f.source());
            assertEquals(Set.of("image/encoded", "image/format", "image/class/label", "image/class/text", "image/height", "image/width",
                    "image/object/bbox/ymin", "image/object/bbox/xmin", "image/object/bbox/ymax", "image/object/bbox/xmax",
                    "image/extra/float_list"), f.keys());
            assertEquals(want.get("image/format").asText(), f.string("image/format"));
            assertEquals(want.get("image/class/label").asLong(), f.int64("image/class/label"));
            assertEquals(want.get("image/class/text").asText(), f.string("image/class/text"));
            assertEquals(want.get("image/height").asInt(), f.int32("image/height"));
            assertEquals(want.get("image/width").asInt(), f.int32("image/width"));
            byte[] img = f.bytes("image/encoded");
            assertEquals(want.get("image/encoded_bytes").asInt(), img.length);
            assertEquals(want.get("image/encoded_sha256").asText(), sha256(img));
            for (String k : List.of("ymin", "xmin", "ymax", "xmax")) {
                String key = "image/object/bbox/" + k;
                assertEquals(ExampleFeatures.Kind.FLOAT, f.kind(key));
                assertArrayEquals(floats(want.get(key)), f.floatList(key), key);
                assertEquals((float) want.get(key).get(0).asDouble(), f.float32(key));
            }
            assertArrayEquals(floats(want.get("image/extra/float_list")), f.floatList("image/extra/float_list"));
            assertEquals(4, f.count("image/extra/float_list"));
        }
    }

    private static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    @Test
    void builderRoundTripAndTypedGetters() {
        byte[] serialized = new ExampleBuilder()
                .bytes("b", new byte[] {1, 2, 3})
                .bytes("b2", List.of(new byte[] {9}, new byte[0]))
                .string("s", "héllo")
                .int64("i", 1L << 40)
                .int64("labels", 3, 1, 4)
                .floats("f", 0.5f)
                .floats("fl", 1f, -2f)
                .int64("empty_list")
                .feature("no_kind", Feature.getDefaultInstance())
                .toByteArray();
        ExampleFeatures f = ExampleFeatures.parse(serialized, "mem record 0");
        assertArrayEquals(new byte[] {1, 2, 3}, f.bytes("b"));
        assertEquals(2, f.bytesList("b2").size());
        assertEquals(0, f.bytesList("b2").get(1).length);
        assertEquals("héllo", f.string("s"));
        assertEquals(List.of("héllo"), f.stringList("s"));
        assertEquals(1L << 40, f.int64("i"));
        assertArrayEquals(new long[] {3, 1, 4}, f.int64List("labels"));
        assertEquals(0.5f, f.float32("f"));
        assertArrayEquals(new float[] {1f, -2f}, f.floatList("fl"));
        assertEquals(0, f.int64List("empty_list").length);
        // A Feature with no list set reads as an empty list of any type, as TensorFlow parses it.
        assertEquals(ExampleFeatures.Kind.EMPTY, f.kind("no_kind"));
        assertEquals(0, f.floatList("no_kind").length);
        assertEquals(0, f.bytesList("no_kind").size());
        // Defaults only for absent keys.
        assertEquals("jpeg", f.string("image/format", "jpeg"));
        assertEquals(-1, f.int64("image/class/label", -1));
        assertEquals(7f, f.float32("nope", 7f));
        assertEquals("héllo", f.string("s", "default"));
        assertTrue(f.has("b") && !f.has("B"));
    }

    @Test
    void errorsNameTheRecordAndTheKey() {
        ExampleFeatures f = ExampleFeatures.parse(new ExampleBuilder()
                .string("image/format", "png").int64("image/height", 3, 4).int64("big", 1L << 33).toByteArray(),
                "/data/x.tfrecord record 17 (byte offset 99)");
        ExampleException e = assertThrows(ExampleException.class, () -> f.bytes("image/encoded"));
        assertTrue(e.getMessage().startsWith("/data/x.tfrecord record 17 (byte offset 99): feature 'image/encoded' is missing")
                && e.getMessage().contains("image/format") && e.getMessage().contains("image/height"), e.getMessage());
        assertEquals("/data/x.tfrecord record 17 (byte offset 99)", e.source());
        e = assertThrows(ExampleException.class, () -> f.int64("image/format"));
        assertTrue(e.getMessage().contains("'image/format' is a bytes_list, expected a int64_list"), e.getMessage());
        e = assertThrows(ExampleException.class, () -> f.int64("image/height"));
        assertTrue(e.getMessage().contains("'image/height' has 2 values, expected exactly 1"), e.getMessage());
        e = assertThrows(ExampleException.class, () -> f.floatList("image/height"));
        assertTrue(e.getMessage().contains("int64_list, expected a float_list"), e.getMessage());
        e = assertThrows(ExampleException.class, () -> f.int32("big"));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        e = assertThrows(ExampleException.class, () -> ExampleFeatures.parse(new byte[] {(byte) 0xff, 1, 2}, "junk record 3"));
        assertTrue(e.getMessage().startsWith("junk record 3: not a valid tf.Example"), e.getMessage());
    }

    @Test
    void imageExampleHasTfSlimsKeys() throws Exception {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        Example ex = ExampleBuilder.image(png, "png", 28, 28, 7).build();
        Features fs = ex.getFeatures();
        assertEquals(Set.of("image/encoded", "image/format", "image/class/label", "image/height", "image/width"), fs.getFeatureMap().keySet());
        ExampleFeatures f = ExampleFeatures.of(ex, "x");
        assertArrayEquals(png, f.bytes("image/encoded"));
        assertEquals("png", f.string("image/format"));
        assertEquals(7, f.int64("image/class/label"));
        assertEquals(28, f.int64("image/height"));
        // Replacing a key keeps one feature.
        ExampleBuilder b = ExampleBuilder.image(png, "png", 28, 28, 7).int64("image/class/label", 8);
        assertEquals(8, ExampleFeatures.of(b.build(), "x").int64("image/class/label"));
        assertEquals(5, b.build().getFeatures().getFeatureCount());
        assertTrue(b.has("image/width"));
        assertFalse(b.has("image/colorspace"));
        assertEquals("png", new String(fs.getFeatureMap().get("image/format").getBytesList().getValue(0).toByteArray(), StandardCharsets.UTF_8));
    }

    @Test
    void nullsAreRejectedWithTheKey() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> new ExampleBuilder().bytes("k", (byte[]) null));
        assertTrue(e.getMessage().contains("'k'"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new ExampleBuilder().int64(null, 1L));
    }

    @Test
    void parsedExampleIsTheProto() throws IOException {
        Example ex = Example.newBuilder().setFeatures(Features.newBuilder().putFeature("a", Feature.getDefaultInstance())).build();
        ExampleFeatures f = ExampleFeatures.parse(ex.toByteArray(), "s");
        assertEquals(ex, f.example());
        assertEquals(Set.of("a"), f.keys());
    }
}
