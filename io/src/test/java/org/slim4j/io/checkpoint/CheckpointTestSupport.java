package org.slim4j.io.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slim4j.tensor.testing.GoldenData;

/** Paths of the TensorFlow-written checkpoints in shared/ and small helpers shared by the tests. */
final class CheckpointTestSupport {
    private CheckpointTestSupport() {
    }

    static Path goldenCheckpoints() {
        return GoldenData.goldenDir().resolve("checkpoints");
    }

    static Path tfTestData() {
        return GoldenData.sharedDir().resolve("testdata").resolve("tf");
    }

    /** The V2 bundles under shared/testdata/tf, as prefixes. */
    static final List<String> TESTDATA_BUNDLES = List.of(
            "serving/history-2016-12_half_plus_two/00000123/export",
            "serving/saved_model_counter/00000123/variables/variables",
            "serving/saved_model_half_plus_three/00000123/variables/variables",
            "serving/saved_model_half_plus_two_cpu/00000123/variables/variables",
            "serving/saved_model_half_plus_two_gpu/00000123/variables/variables",
            "serving/saved_model_half_plus_two_mkl/00000123/variables/variables",
            "serving/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables",
            "serving/tf_text_regression/01/variables/variables",
            "rust/examples/regression_savedmodel/variables/variables",
            "rust/test_resources/regression-model/variables/variables",
            "java/saved_model_using_python/model/variables/variables",
            "tensorflow-onnx/regression/checkpoint/model",
            "tfx/2020-03_bcd3d5bd/trainer/current/serving_model_dir/model.ckpt-10000",
            "tfx/trainer/current/Format-Serving/model.ckpt-1000",
            "tfx/trainer/keras/Format-Serving/variables/variables",
            "tfx/transform/transform_graph/transform_fn/variables/variables",
            "models/research/lfads/synth_data/trained_itb/model-65000");

    /** The V1 checkpoint files under shared/testdata/tf. */
    static final List<String> TESTDATA_V1 = List.of(
            "serving/bad_half_plus_two/00000123/export",
            "serving/session_bundle_half_plus_two/00000123/export-00000-of-00001",
            "tensorboard/functionaltests-2017_08bb2c01/testdata/model.ckpt-1-00000-of-00001",
            "tensorboard/functionaltests-2017_08bb2c01/testdata/model.ckpt-3000-00000-of-00001");

    static Map<String, Object> manifest(String ckpt) throws IOException {
        return MiniJson.obj(MiniJson.parse(Files.readString(goldenCheckpoints().resolve(ckpt).resolve("manifest.json"), StandardCharsets.UTF_8)));
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies every file of {@code from} (one level) into {@code to}. */
    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) Files.copy(p, to.resolve(p.getFileName().toString()));
            }
        }
    }

    static long[] longs(List<Object> l) {
        long[] a = new long[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = ((Double) l.get(i)).longValue();
        return a;
    }
}
