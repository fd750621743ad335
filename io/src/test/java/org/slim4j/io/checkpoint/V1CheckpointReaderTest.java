package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.io.proto.SavedTensorSlices;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/** Reads the TensorFlow-written V1 checkpoints (SSTables of SavedTensorSlices) in shared/testdata/tf. */
class V1CheckpointReaderTest {
    private static Path file(String rel) {
        return CheckpointTestSupport.tfTestData().resolve(rel);
    }

    private static List<String> listing(CheckpointReader r) {
        List<String> out = new ArrayList<>();
        for (CheckpointEntry e : r.entries()) out.add(e.name() + " " + e.dtype().pythonName() + " " + e.shapeString());
        return out;
    }

    private static double scalar(CheckpointReader r, String name) throws Exception {
        try (Tensor t = r.read(name)) {
            return t.toDoubleArray()[0];
        }
    }

    @Test
    void halfPlusTwoExports() throws Exception {
        try (V1CheckpointReader r = V1CheckpointReader.open(List.of(file("serving/bad_half_plus_two/00000123/export")))) {
            assertEquals("V1", r.format());
            assertEquals(List.of("Variable float32 []", "Variable_1 float32 []"), listing(r));
            assertEquals(0.5, scalar(r, "Variable"));
            assertEquals(2.0, scalar(r, "Variable_1"));
        }
        try (V1CheckpointReader r = V1CheckpointReader.open(List.of(file("serving/session_bundle_half_plus_two/00000123/export-00000-of-00001")))) {
            assertEquals(List.of("a float32 []", "b float32 []"), listing(r));
            assertEquals(0.5, scalar(r, "a"));
            assertEquals(2.0, scalar(r, "b"));
        }
    }

    @Test
    void linearClassifierCheckpoints() throws Exception {
        long live = CpuDevice.INSTANCE.liveBytes();
        for (String step : List.of("1", "3000")) {
            Path f = file("tensorboard/functionaltests-2017_08bb2c01/testdata/model.ckpt-" + step + "-00000-of-00001");
            try (V1CheckpointReader r = V1CheckpointReader.open(List.of(f))) {
                assertEquals(List.of("global_step int64 []", "linear/age/weight float32 [1,1]", "linear/age/weight/Ftrl float32 [1,1]",
                        "linear/age/weight/Ftrl_1 float32 [1,1]", "linear/bias_weight float32 [1]", "linear/bias_weight/Ftrl float32 [1]",
                        "linear/bias_weight/Ftrl_1 float32 [1]", "linear/language/weights float32 [100,1]",
                        "linear/language/weights/Ftrl float32 [100,1]", "linear/language/weights/Ftrl_1 float32 [100,1]"), listing(r));
                try (Tensor gs = r.read("global_step")) {
                    assertEquals(DType.INT64, gs.dtype());
                    assertEquals(Long.parseLong(step), gs.longData()[gs.offset()]);
                }
                try (Tensor w = r.read("linear/language/weights")) {
                    assertArrayEquals(new int[] {100, 1}, w.dims());
                    for (float v : w.toFloatArray()) assertTrue(Float.isFinite(v));
                }
                // Ftrl accumulators start at 0.1 and only grow.
                try (Tensor acc = r.read("linear/language/weights/Ftrl")) {
                    for (float v : acc.toFloatArray()) assertTrue(v >= 0.1f - 1e-6f, "Ftrl accumulator " + v);
                }
            }
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "tensors leaked");
    }

    /** Every data key is the OrderedCode of the SavedSlice's own (name, slice): our encoder reproduces TF's keys. */
    @Test
    void keysAreTensorFlowsOrderedCode() throws Exception {
        int checked = 0;
        for (String rel : CheckpointTestSupport.TESTDATA_V1) {
            try (V1CheckpointReader r = V1CheckpointReader.open(List.of(file(rel)))) {
                for (Map.Entry<Path, List<SsTableReader.Entry>> f : r.rawEntries().entrySet()) {
                    for (SsTableReader.Entry e : f.getValue()) {
                        if (e.key().length == 0) continue;
                        SavedTensorSlices s = SavedTensorSlices.parseFrom(e.value());
                        assertArrayEquals(e.key(), TensorSlices.key(s.getData().getName(), s.getData().getSlice()), rel);
                        TensorSlices.SliceKey k = TensorSlices.decodeKey(e.key(), rel);
                        assertEquals(s.getData().getName(), k.name());
                        assertEquals(s.getData().getSlice(), k.slice());
                        checked++;
                    }
                }
            }
        }
        assertEquals(2 + 2 + 10 + 10, checked);
    }
}
