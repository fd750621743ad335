package org.slim4j.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.EmulatedCuda;
import org.slim4j.kernels.FrozenWeights;
import org.slim4j.tools.Main;
import org.slim4j.tools.train.SyntheticIdx;
import org.slim4j.tools.train.TinyFcNet;

/** slim4j benchmark: the JSON fields and their sanity on the CPU, flag checks, and the device path on the CUDA emulator. */
class BenchmarkCommandTest {
    @TempDir
    Path tmp;

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int s = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(s, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static final List<String> FIELDS = List.of("model", "mode", "batch", "image_size", "device", "kernels", "precision", "steps",
        "images_per_sec", "ms_per_step_median", "ms_per_step_p10", "ms_per_step_p90", "peak_bytes", "gc_percent", "gflops_per_step");

    static void assertSane(JsonNode j, String mode, int batch, int steps) {
        for (String f : FIELDS) assertTrue(j.has(f), "missing " + f + " in " + j);
        assertEquals(mode, j.get("mode").asText());
        assertEquals(batch, j.get("batch").asInt());
        assertEquals(steps, j.get("steps").asInt());
        assertTrue(j.get("images_per_sec").asDouble() > 0, j.toString());
        double p10 = j.get("ms_per_step_p10").asDouble();
        double med = j.get("ms_per_step_median").asDouble();
        double p90 = j.get("ms_per_step_p90").asDouble();
        assertTrue(p10 > 0 && p10 <= med && med <= p90, j.toString());
        assertEquals(batch / (med / 1e3), j.get("images_per_sec").asDouble(), 1e-6 * j.get("images_per_sec").asDouble());
        assertTrue(j.get("peak_bytes").asLong() > 0, j.toString());
        double gc = j.get("gc_percent").asDouble();
        assertTrue(gc >= 0 && gc <= 100, j.toString());
        assertTrue(j.get("gflops_per_step").asDouble() > 0, j.toString());
    }

    @Test
    void trainAndInferenceOnTheCpuWriteSaneJson() throws IOException {
        Path json = tmp.resolve("out/lenet.json");
        Run r = run("benchmark", "--model_name=lenet", "--batch_size=4", "--steps=5", "--warmup=1", "--warmup_seconds=0", "--output_json=" + json);
        assertEquals(Main.EXIT_OK, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertSane(j, "train", 4, 5);
        assertEquals(1, j.get("warmup_steps").asInt(), "--warmup_seconds=0: exactly --warmup steps");
        assertEquals("lenet", j.get("model").asText());
        assertEquals(28, j.get("image_size").asInt());
        assertEquals("cpu", j.get("device").asText());
        assertEquals("fp32", j.get("precision").asText());
        // LeNet at 28x28: conv1 5x5x1x32 over 28x28, conv2 5x5x32x64 over 14x14, fc 3136x1024, fc 1024x10 multiply-adds
        long macs = 28L * 28 * 25 * 32 + 14L * 14 * 25 * 32 * 64 + 7L * 7 * 64 * 1024 + 1024L * 10;
        assertEquals(2.0 * macs * 4 * 3 / 1e9, j.get("gflops_per_step").asDouble(), 1e-9);
        assertTrue(r.out().contains("images/s") && r.out().contains("ms/step median") && r.out().contains("GC"), r.out());

        Path inf = tmp.resolve("inf.json");
        Run i = run("benchmark", "--model_name=lenet", "--batch_size=3", "--steps=4", "--warmup=0", "--warmup_seconds=0.5", "--mode=inference",
            "--image_size=32", "--num_classes=5", "--profile_steps=1", "--profile_by_shape", "--output_json=" + inf);
        assertEquals(Main.EXIT_OK, i.status(), i.err());
        JsonNode k = new ObjectMapper().readTree(inf.toFile());
        assertSane(k, "inference", 3, 4);
        // Half a second of warm-up is many LeNet steps at batch 3, however slow the machine.
        assertTrue(k.get("warmup_steps").asInt() > 1, "warm-up goes on for --warmup_seconds: " + k);
        assertEquals(32, k.get("image_size").asInt());
        // --profile_by_shape: conv1 (on the 32x32x1 images) and conv2 (on conv1's pooled output) get rows of their own
        assertTrue(i.out().contains("| FusedConvKernels.conv2dScaleShift [3, 32, 32, 1] [5, 5, 1, 32]")
            && i.out().contains("| FusedConvKernels.conv2dScaleShift [3, 16, 16, 32] [5, 5, 32, 64]"), i.out());
        // Inference freezes the weights for the run (each layer's packed or transformed form is made once),
        // and lets them go at the end.
        assertTrue(i.out().contains("weights frozen: packed / transformed once"), i.out());
        assertEquals(0, FrozenWeights.preparedFloats(), "forms kept after the benchmark");
        Run plain = run("benchmark", "--model_name=lenet", "--batch_size=3", "--steps=2", "--warmup=1", "--warmup_seconds=0", "--mode=inference",
            "--noprepack_weights");
        assertEquals(Main.EXIT_OK, plain.status(), plain.err());
        assertFalse(plain.out().contains("weights frozen"), plain.out());
    }

    @Test
    void withInputPipelineReadsADataset() throws IOException {
        Path src = tmp.resolve("src");
        SyntheticIdx.write(src, "train", 24);
        SyntheticIdx.write(src, "t10k", 4);
        Path data = tmp.resolve("fm");
        Run c = run("download_and_convert_data", "--dataset_name=fashion_mnist", "--dataset_dir=" + data, "--source=" + src);
        assertEquals(Main.EXIT_OK, c.status(), c.err());
        Path json = tmp.resolve("p.json");
        Run r = run("benchmark", "--model_name=lenet", "--batch_size=4", "--steps=3", "--warmup=1", "--warmup_seconds=0", "--with_input_pipeline",
            "--dataset_name=fashion_mnist", "--dataset_dir=" + data, "--num_preprocessing_threads=1", "--output_json=" + json);
        assertEquals(Main.EXIT_OK, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertSane(j, "train", 4, 3);
        assertTrue(j.get("with_input_pipeline").asBoolean());
        assertTrue(r.out().contains("input pipeline fashion_mnist/train"), r.out());
    }

    @Test
    void badFlagsAreUsageErrorsNamingTheFlag() {
        Run a = run("benchmark", "--model_name=lenet", "--precision=tf32");
        assertEquals(Main.EXIT_USAGE, a.status());
        assertTrue(a.err().contains("--precision=tf32") && a.err().contains("--device=cuda"), a.err());
        Run b = run("benchmark", "--model_name=lenet", "--device=cuda", "--precision=bf16", "--kernels=vendor");
        assertEquals(Main.EXIT_USAGE, b.status());
        assertTrue(b.err().contains("--precision=bf16") && b.err().contains("--kernels=builtin or auto"), b.err());
        Run c = run("benchmark", "--model_name=lenet", "--kernels=vendor");
        assertEquals(Main.EXIT_USAGE, c.status());
        assertTrue(c.err().contains("--kernels=vendor"), c.err());
        Run d = run("benchmark", "--model_name=lenet", "--steps=0");
        assertEquals(Main.EXIT_USAGE, d.status());
        assertTrue(d.err().contains("--steps"), d.err());
        Run w = run("benchmark", "--model_name=lenet", "--warmup_seconds=-1");
        assertEquals(Main.EXIT_USAGE, w.status());
        assertTrue(w.err().contains("--warmup_seconds"), w.err());
        Run p = run("benchmark", "--model_name=lenet", "--profile_by_shape");
        assertEquals(Main.EXIT_USAGE, p.status());
        assertTrue(p.err().contains("--profile_by_shape") && p.err().contains("--profile_steps"), p.err());
        Run e = run("benchmark", "--model_name=lenet", "--with_input_pipeline");
        assertEquals(Main.EXIT_USAGE, e.status());
        assertTrue(e.err().contains("--dataset_dir"), e.err());
        Run f = run("benchmark", "--model_name=resnet_v9");
        assertEquals(Main.EXIT_USAGE, f.status());
        assertTrue(f.err().contains("--model_name"), f.err());
        Run h = run("benchmark", "--help");
        assertEquals(Main.EXIT_OK, h.status());
        for (String flag : new String[] {"--model_name", "--batch_size", "--image_size", "--mode", "--device", "--kernels", "--precision",
            "--steps", "--warmup", "--warmup_seconds", "--num_classes", "--output_json", "--with_input_pipeline"}) {
            assertTrue(h.out().contains(flag), flag + " missing from --help:\n" + h.out());
        }
    }

    @Test
    void percentilesInterpolateLikeNumpy() {
        double[] v = {1, 2, 3, 4, 10};
        assertEquals(3, BenchmarkCommand.percentile(v, 50), 1e-12);
        assertEquals(1.4, BenchmarkCommand.percentile(v, 10), 1e-12);
        assertEquals(7.6, BenchmarkCommand.percentile(v, 90), 1e-12);
        assertEquals(5, BenchmarkCommand.percentile(new double[] {5}, 90), 1e-12);
    }

    @Test
    void trainModeOnTheEmulatedGpuReportsDeviceMemory() throws Exception {
        CudaDevice emu = EmulatedCuda.device();
        try {
            BenchmarkCommand c = new BenchmarkCommand();
            c.flags().parse("--model_name=tiny_fc_bn", "--batch_size=4", "--steps=2", "--warmup=1", "--warmup_seconds=0");
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            BenchmarkCommand.Result r = c.measure(TinyFcNet.NET, emu, new PrintStream(o, true, StandardCharsets.UTF_8));
            assertEquals("cuda-emu", r.device());
            assertEquals("builtin", r.kernels());
            assertEquals("fp32", r.precision());
            assertTrue(r.imagesPerSec() > 0 && r.msPerStepP10() <= r.msPerStepMedian() && r.msPerStepMedian() <= r.msPerStepP90(), r.toString());
            // The variables (3x3x2 -> 8 -> 4, batch norm), their momentum slots and the step's activations at least.
            long variables = 4L * (18 * 8 + 8 * 4 + 4 + 4 * 8);
            assertTrue(r.peakBytes() > 2 * variables, r.toString());
            assertTrue(r.peakMemory().endsWith("(device)"), r.peakMemory());
            // Every step queues the same kernels: a whole number, and at least a forward, backward and update's worth.
            assertTrue(r.launchesPerStep() != null && r.launchesPerStep() >= 10 && r.launchesPerStep() == Math.rint(r.launchesPerStep()),
                r.toString());
            assertTrue(BenchmarkCommand.format(r).contains(String.format(java.util.Locale.ROOT, "%.0f kernel launches/step", r.launchesPerStep())), BenchmarkCommand.format(r));
            assertEquals(r.launchesPerStep(), r.toMap().get("launches_per_step"));
            assertEquals(null, r.skippedUpdates(), "fp32 has no loss scaler");
            // fp16: the training step goes through the loss scaler, and the result says how many updates it skipped.
            emu.configure(emu.options().withPrecision(org.slim4j.cuda.CudaOptions.Precision.FP16));
            BenchmarkCommand.Result h = c.measure(TinyFcNet.NET, emu, new PrintStream(o, true, StandardCharsets.UTF_8));
            assertEquals("fp16", h.precision());
            assertEquals(0L, h.skippedUpdates(), h.toString());
            assertEquals(0L, h.toMap().get("fp16_skipped_updates"));
            assertTrue(BenchmarkCommand.format(h).contains("fp16 loss scaling: 0 updates skipped"), BenchmarkCommand.format(h));
            emu.sync();
            assertEquals(0, emu.liveBytes(), "device memory left after the benchmark");
        } finally {
            emu.shutdown();
        }
    }
}
