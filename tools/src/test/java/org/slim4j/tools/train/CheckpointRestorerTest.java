package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.autograd.Var;
import org.slim4j.io.checkpoint.BundleWriter;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/** TF-Slim's restore rules on a real network's variables and hand-written checkpoints. */
class CheckpointRestorerTest {
    @TempDir
    Path dir;
    private long liveBefore;

    @BeforeEach
    void mark() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    /** LeNet's variables (float32) with {@code classes} logits, initial values from {@code seed}. */
    private static VariableStore lenet(int classes, long seed) {
        VariableStore s = new VariableStore(seed);
        NetRunner.createVariables(Nets.get("lenet"), s, classes, 0.0, 28, 28, 1, true);
        return s;
    }

    private static Map<String, Tensor> values(VariableStore s) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Variable v : s.variables()) m.put(v.name(), v.value());
        return m;
    }

    /** Saves every variable of {@code s}, names mapped by {@code rename}. */
    private Path save(VariableStore s, String name, UnaryOperator<String> rename) throws IOException {
        Path prefix = dir.resolve(name);
        try (BundleWriter w = new BundleWriter(prefix)) {
            for (Variable v : s.variables()) w.add(rename.apply(v.name()), v.value());
            w.finish();
        }
        return prefix;
    }

    @Test
    void roundTripRestoresEveryVariableByName() throws IOException {
        try (VariableStore a = lenet(10, 1); VariableStore b = lenet(10, 2)) {
            assertFalse(java.util.Arrays.equals(a.get("LeNet/fc3/weights").value().toFloatArray(), b.get("LeNet/fc3/weights").value().toFloatArray()));
            Path p = save(a, "model.ckpt-1", UnaryOperator.identity());
            try (CheckpointReader r = CheckpointReader.open(p)) {
                CheckpointRestorer.Report rep = CheckpointRestorer.restore(r, values(b), List.of(), false, UnaryOperator.identity());
                assertEquals(8, rep.restored().size());
                assertTrue(rep.excluded().isEmpty() && rep.missing().isEmpty() && rep.mismatched().isEmpty());
            }
            for (Variable v : a.variables()) assertArrayEquals(v.value().toFloatArray(), b.get(v.name()).value().toFloatArray(), v.name());
        }
    }

    @Test
    void exclusionsArePlainPrefixesOfTheVariableName() throws IOException {
        try (VariableStore a = lenet(10, 1); VariableStore b = lenet(10, 2)) {
            Path p = save(a, "m", UnaryOperator.identity());
            float[] fc3Before = b.get("LeNet/fc3/weights").value().toFloatArray();
            try (CheckpointReader r = CheckpointReader.open(p)) {
                // "LeNet/fc" is a string prefix: it excludes fc3 and fc4 (TF-Slim's startswith), not a scope match.
                CheckpointRestorer.Report rep = CheckpointRestorer.restore(r, values(b), CheckpointRestorer.scopes(" LeNet/fc , ,LeNet/conv2/b"),
                    false, UnaryOperator.identity());
                assertEquals(List.of("LeNet/conv2/biases", "LeNet/fc3/weights", "LeNet/fc3/biases", "LeNet/fc4/weights", "LeNet/fc4/biases"),
                    rep.excluded());
                assertEquals(List.of("LeNet/conv1/weights", "LeNet/conv1/biases", "LeNet/conv2/weights"), rep.restored());
            }
            assertArrayEquals(fc3Before, b.get("LeNet/fc3/weights").value().toFloatArray(), "excluded variables keep their values");
            assertArrayEquals(a.get("LeNet/conv2/weights").value().toFloatArray(), b.get("LeNet/conv2/weights").value().toFloatArray());
        }
    }

    @Test
    void missingVariablesFailUnlessIgnoredAndNothingIsAssignedOnFailure() throws IOException {
        try (VariableStore a = lenet(10, 1); VariableStore b = lenet(10, 2)) {
            Path prefix = dir.resolve("partial");
            try (BundleWriter w = new BundleWriter(prefix)) {
                w.add("LeNet/conv1/weights", a.get("LeNet/conv1/weights").value());
                w.add("LeNet/conv1/biases", a.get("LeNet/conv1/biases").value());
                w.finish();
            }
            float[] conv1 = b.get("LeNet/conv1/weights").value().toFloatArray();
            try (CheckpointReader r = CheckpointReader.open(prefix)) {
                CheckpointRestorer.RestoreException e = assertThrows(CheckpointRestorer.RestoreException.class,
                    () -> CheckpointRestorer.restore(r, values(b), List.of(), false, UnaryOperator.identity()));
                assertTrue(e.getMessage().contains("6 variables are missing in checkpoint " + prefix), e.getMessage());
                assertTrue(e.getMessage().contains("LeNet/fc4/biases") && e.getMessage().contains("--ignore_missing_vars"), e.getMessage());
                assertArrayEquals(conv1, b.get("LeNet/conv1/weights").value().toFloatArray(), "a failed restore assigns nothing");

                CheckpointRestorer.Report rep = CheckpointRestorer.restore(r, values(b), List.of(), true, UnaryOperator.identity());
                assertEquals(List.of("LeNet/conv1/weights", "LeNet/conv1/biases"), rep.restored());
                assertEquals(6, rep.missing().size());
            }
            assertArrayEquals(a.get("LeNet/conv1/weights").value().toFloatArray(), b.get("LeNet/conv1/weights").value().toFloatArray());
        }
    }

    @Test
    void vggStyle1000ClassCheckpointInA1001ClassNetworkSuggestsLabelsOffset() throws IOException {
        try (VariableStore caffe = lenet(1000, 1); VariableStore net = lenet(1001, 2)) {
            Path p = save(caffe, "vgg_like.ckpt", UnaryOperator.identity());
            try (CheckpointReader r = CheckpointReader.open(p)) {
                CheckpointRestorer.RestoreException e = assertThrows(CheckpointRestorer.RestoreException.class,
                    () -> CheckpointRestorer.restore(r, values(net), List.of(), false, UnaryOperator.identity()));
                String m = e.getMessage();
                assertTrue(m.contains("shape mismatch for LeNet/fc4/weights: the checkpoint has shape [1024, 1000], the network has [1024, 1001]"), m);
                assertTrue(m.contains("shape mismatch for LeNet/fc4/biases: the checkpoint has shape [1000], the network has [1001]"), m);
                assertTrue(m.contains("--labels_offset=1"), m);
                assertTrue(m.contains("--checkpoint_exclude_scopes=LeNet/fc4"), m);
                assertEquals(2, e.report().mismatched().size());
                // Excluding the logits scope makes the same restore work.
                CheckpointRestorer.Report ok = CheckpointRestorer.restore(r, values(net), List.of("LeNet/fc4"), false, UnaryOperator.identity());
                assertEquals(6, ok.restored().size());
            }
        }
    }

    @Test
    void googleStyle1001ClassCheckpointInA1000ClassNetworkSuggestsDroppingTheOffset() throws IOException {
        try (VariableStore google = lenet(1001, 1); VariableStore net = lenet(1000, 2)) {
            Path p = save(google, "inception_like.ckpt", UnaryOperator.identity());
            try (CheckpointReader r = CheckpointReader.open(p)) {
                String m = assertThrows(CheckpointRestorer.RestoreException.class,
                    () -> CheckpointRestorer.restore(r, values(net), List.of(), false, UnaryOperator.identity())).getMessage();
                assertTrue(m.contains("[1024, 1001]") && m.contains("[1024, 1000]"), m);
                assertTrue(m.contains("--labels_offset=0") && m.contains("--checkpoint_exclude_scopes=LeNet/fc4"), m);
            }
        }
    }

    @Test
    void otherShapeMismatchesNameTheVariableWithoutAClassHint() throws IOException {
        try (VariableStore a = lenet(10, 1)) {
            Path prefix = dir.resolve("odd");
            try (BundleWriter w = new BundleWriter(prefix); Tensor wrong = Tensor.zeros(3, 3, 1, 32)) {
                w.add("LeNet/conv1/weights", wrong);
                w.finish();
            }
            try (CheckpointReader r = CheckpointReader.open(prefix)) {
                String m = assertThrows(CheckpointRestorer.RestoreException.class,
                    () -> CheckpointRestorer.restore(r, values(a), List.of(), true, UnaryOperator.identity())).getMessage();
                assertTrue(m.contains("shape mismatch for LeNet/conv1/weights: the checkpoint has shape [3, 3, 1, 32], the network has [5, 5, 1, 32]"), m);
                assertFalse(m.contains("labels_offset"), m);
            }
        }
    }

    @Test
    void movingAverageRestoreReadsTheShadows() throws IOException {
        try (VariableStore a = lenet(10, 1); VariableStore b = lenet(10, 2)) {
            assertEquals("LeNet/fc4/weights/ExponentialMovingAverage", CheckpointRestorer.movingAverageName("LeNet/fc4/weights"));
            Path p = save(a, "ema", CheckpointRestorer::movingAverageName);
            try (CheckpointReader r = CheckpointReader.open(p)) {
                CheckpointRestorer.Report rep = CheckpointRestorer.restore(r, values(b), List.of(), false, CheckpointRestorer::movingAverageName);
                assertEquals(8, rep.restored().size());
                String m = assertThrows(CheckpointRestorer.RestoreException.class,
                    () -> CheckpointRestorer.restore(r, values(b), List.of(), false, UnaryOperator.identity())).getMessage();
                assertTrue(m.contains("8 variables are missing"), m);
            }
            assertArrayEquals(a.get("LeNet/fc3/weights").value().toFloatArray(), b.get("LeNet/fc3/weights").value().toFloatArray());
        }
    }

    @Test
    void logitsScopeIsTheFirstTwoNameComponents() {
        assertEquals("InceptionV3/AuxLogits", CheckpointRestorer.logitsScope("InceptionV3/AuxLogits/Conv2d_2b_1x1/weights"));
        assertEquals("vgg_16/fc8", CheckpointRestorer.logitsScope("vgg_16/fc8/biases"));
        assertEquals("final_layer/FC", CheckpointRestorer.logitsScope("final_layer/FC/weights"));
        assertEquals("logits", CheckpointRestorer.logitsScope("logits/weights"));
    }

    @Test
    void varsOfDifferentDtypeAreCast() throws IOException {
        try (VariableStore f64 = new VariableStore(org.slim4j.tensor.DType.FLOAT64, 3); VariableStore f32 = lenet(10, 1)) {
            NetRunner.createVariables(Nets.get("lenet"), f64, 10, 0.0, 28, 28, 1, true);
            Path p = save(f32, "f32", UnaryOperator.identity());
            try (CheckpointReader r = CheckpointReader.open(p)) {
                CheckpointRestorer.restore(r, values(f64), List.of(), false, UnaryOperator.identity());
            }
            Var w = f64.get("LeNet/conv1/weights").var();
            float[] expected = f32.get("LeNet/conv1/weights").value().toFloatArray();
            double[] got = w.value().toDoubleArray();
            for (int i = 0; i < expected.length; i++) assertEquals(expected[i], got[i], 0);
        }
    }
}
