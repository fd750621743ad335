package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slim4j.io.proto.BundleEntryProto;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/** Reads TensorFlow-written V2 checkpoints and checks them against their manifests / known contents. */
class BundleReaderGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"ckpt_single", "ckpt_sharded", "ckpt_many"})
    void goldenCheckpointsMatchTheirManifests(String ckpt) throws Exception {
        long live = CpuDevice.INSTANCE.liveBytes();
        Map<String, Object> manifest = CheckpointTestSupport.manifest(ckpt);
        List<Object> expected = MiniJson.arr(manifest.get("tensors_sorted_as_in_index"));
        Path prefix = CheckpointTestSupport.goldenCheckpoints().resolve(ckpt).resolve((String) manifest.get("prefix"));
        try (BundleReader r = BundleReader.open(prefix)) {
            assertEquals(((Double) manifest.get("num_shards")).intValue(), r.numShards());
            assertEquals(expected.size(), r.entries().size());
            for (int i = 0; i < expected.size(); i++) {
                Map<String, Object> m = MiniJson.obj(expected.get(i));
                CheckpointEntry e = r.entries().get(i);
                String name = (String) m.get("name");
                assertEquals(name, e.name(), "tensor " + i + " in index order");
                assertEquals(m.get("dtype"), e.dtype().pythonName(), name);
                assertArrayEquals(CheckpointTestSupport.longs(MiniJson.arr(m.get("shape"))), e.dims(), name);
                if (m.containsKey("shard")) assertEquals(((Double) m.get("shard")).intValue(), r.rawEntry(name).getShardId(), name);
                if (e.dtype() == TfDataType.STRING) {
                    List<byte[]> values = r.readStrings(name);
                    List<Object> utf8 = MiniJson.arr(m.get("values_utf8"));
                    List<Object> lengths = MiniJson.arr(m.get("byte_lengths"));
                    assertEquals(utf8.size(), values.size());
                    for (int k = 0; k < values.size(); k++) {
                        assertEquals(utf8.get(k), new String(values.get(k), StandardCharsets.UTF_8), name + "[" + k + "]");
                        assertEquals(((Double) lengths.get(k)).intValue(), values.get(k).length);
                    }
                    continue;
                }
                if (m.containsKey("sha256_le")) assertEquals(m.get("sha256_le"), CheckpointTestSupport.sha256(r.readBytes(name)), name);
                try (Tensor t = r.read(name)) {
                    assertEquals(e.dtype().dtype(), t.dtype());
                    assertEquals(e.shape(), t.shape());
                    double[] v = t.toDoubleArray();
                    double sum = 0;
                    double sumSq = 0;
                    for (double x : v) {
                        sum += x;
                        sumSq += x * x;
                    }
                    // The manifest's sums come from numpy (pairwise summation): equal up to rounding.
                    assertEquals((Double) m.get("sum"), sum, 1e-9 * Math.max(1, sumSq), name + " sum");
                    assertEquals((Double) m.get("sum_sq"), sumSq, 1e-9 * Math.max(1, sumSq), name + " sum_sq");
                    List<Object> first = MiniJson.arr(m.get("first"));
                    for (int k = 0; k < first.size(); k++) assertEquals((Double) first.get(k), v[k], 0.0, name + " value " + k);
                }
            }
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked");
    }

    @Test
    void exactValuesOfTheSingleShardCheckpoint() throws Exception {
        Path prefix = CheckpointTestSupport.goldenCheckpoints().resolve("ckpt_single/model.ckpt-1234");
        try (BundleReader r = BundleReader.open(prefix)) {
            try (Tensor t = r.read("extra/int32_vector")) {
                assertEquals(DType.INT32, t.dtype());
                assertEquals(Integer.MIN_VALUE, t.intData()[t.offset()]);
                assertEquals(Integer.MAX_VALUE, t.intData()[t.offset() + 1]);
            }
            try (Tensor t = r.read("global_step")) {
                assertEquals(DType.INT64, t.dtype());
                assertEquals(0, t.rank());
                assertEquals(1359L, t.longData()[t.offset()]);
            }
            try (Tensor t = r.read("extra/empty_float")) {
                assertArrayEquals(new int[] {0, 3}, t.dims());
            }
            assertEquals("InceptionV3/Conv2d_1a_3x3/weights (DT_FLOAT) [3,3,3,32]", r.entry("InceptionV3/Conv2d_1a_3x3/weights").toString());
            assertThrows(NoSuchElementException.class, () -> r.read("no/such/tensor"));
            assertThrows(IllegalArgumentException.class, () -> r.read("extra/strings"));
            assertThrows(IllegalArgumentException.class, () -> r.readStrings("global_step"));
        }
    }

    /** Every V2 bundle in shared/testdata/tf opens and every tensor reads with a matching CRC. */
    @Test
    void everyTestdataBundleReads() throws Exception {
        long live = CpuDevice.INSTANCE.liveBytes();
        for (String rel : CheckpointTestSupport.TESTDATA_BUNDLES) {
            Path prefix = CheckpointTestSupport.tfTestData().resolve(rel);
            try (BundleReader r = BundleReader.open(prefix)) {
                assertFalse(r.entries().isEmpty(), rel);
                for (CheckpointEntry e : r.entries()) {
                    if (e.dtype() == TfDataType.STRING) {
                        List<byte[]> s = r.readStrings(e.name());
                        assertEquals(e.numElements(), s.size());
                    } else {
                        try (Tensor t = r.read(e.name())) {
                            assertEquals(e.numElements(), t.numel(), rel + " " + e.name());
                        }
                    }
                }
            }
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked");
    }

    private static List<String> listing(String rel) throws Exception {
        List<String> out = new ArrayList<>();
        try (BundleReader r = BundleReader.open(CheckpointTestSupport.tfTestData().resolve(rel))) {
            for (CheckpointEntry e : r.entries()) out.add(e.name() + " " + e.dtype().pythonName() + " " + e.shapeString());
        }
        return out;
    }

    private static float scalar(BundleReader r, String name) throws Exception {
        try (Tensor t = r.read(name)) {
            return t.floatData()[t.offset()];
        }
    }

    @Test
    void testdataContentsMatchTheirDescriptions() throws Exception {
        // Names, dtypes and shapes as SOURCES.md lists them (checked there by an independent parser).
        assertEquals(List.of("a float32 []", "a2 float32 []", "b float32 []", "c float32 []", "c2 float32 []"),
                listing("serving/saved_model_half_plus_two_cpu/00000123/variables/variables"));
        assertEquals(List.of("_CHECKPOINTABLE_OBJECT_GRAPH string []", "a/.ATTRIBUTES/VARIABLE_VALUE float32 []",
                        "b/.ATTRIBUTES/VARIABLE_VALUE float32 []", "c/.ATTRIBUTES/VARIABLE_VALUE float32 []"),
                listing("serving/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables"));
        assertEquals(List.of("Variable float32 [50,50]", "Variable_1 float32 [1,50]", "Variable_2 float32 [1,50]",
                        "Variable_3 float32 [50,1]", "Variable_4 float32 [1]", "global_step int32 []"),
                listing("models/research/lfads/synth_data/trained_itb/model-65000"));
        List<String> tfx = listing("tfx/2020-03_bcd3d5bd/trainer/current/serving_model_dir/model.ckpt-10000");
        assertEquals(51, tfx.size());
        assertEquals("dnn/hiddenlayer_0/kernel float32 [3,100]", tfx.get(2));
        assertEquals(60, listing("tfx/trainer/current/Format-Serving/model.ckpt-1000").size());
        assertEquals(28, listing("tfx/trainer/keras/Format-Serving/variables/variables").size());

        // Values: half_plus_two is y = 0.5 x + 2 (the snappy-compressed index), half_plus_three 0.5 x + 3.
        try (BundleReader r = BundleReader.open(CheckpointTestSupport.tfTestData().resolve("serving/saved_model_half_plus_two_cpu/00000123/variables/variables"))) {
            assertEquals(0.5f, scalar(r, "a"));
            assertEquals(2f, scalar(r, "b"));
            assertEquals(3f, scalar(r, "c"));
        }
        try (BundleReader r = BundleReader.open(CheckpointTestSupport.tfTestData().resolve("serving/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables"))) {
            assertEquals(0.5f, scalar(r, "a/.ATTRIBUTES/VARIABLE_VALUE"));
            assertEquals(2f, scalar(r, "b/.ATTRIBUTES/VARIABLE_VALUE"));
            byte[] graph = r.readStrings("_CHECKPOINTABLE_OBJECT_GRAPH").get(0);
            assertTrue(graph.length > 10, "object graph proto");
        }
        try (BundleReader r = BundleReader.open(CheckpointTestSupport.tfTestData().resolve("serving/saved_model_half_plus_three/00000123/variables/variables"))) {
            assertEquals(0.5f, scalar(r, "a"));
            assertEquals(3f, scalar(r, "b"));
        }
        // The 2-shard Estimator checkpoint: shard 0 holds only global_step (8 bytes).
        try (BundleReader r = BundleReader.open(CheckpointTestSupport.tfTestData().resolve("tfx/2020-03_bcd3d5bd/trainer/current/serving_model_dir/model.ckpt-10000"))) {
            assertEquals(2, r.numShards());
            BundleEntryProto gs = r.rawEntry("global_step");
            assertEquals(0, gs.getShardId());
            try (Tensor t = r.read("global_step")) {
                assertEquals(10000L, t.longData()[t.offset()]);
            }
            assertEquals(1, r.rawEntry("dnn/hiddenlayer_0/kernel").getShardId());
        }
        assertTrue(Files.isRegularFile(CheckpointTestSupport.tfTestData().resolve("serving/saved_model_half_plus_two_cpu/00000123/variables/variables.index")));
    }
}
