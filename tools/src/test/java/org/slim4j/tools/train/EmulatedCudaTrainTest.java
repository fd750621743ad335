package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.EmulatedCuda;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.layers.Graph;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Main;

/**
 * The GPU training path without a GPU: a small fully-connected network with batch norm (only
 * families the CUDA backend has: matmul, bias add, batch norm, relu, softmax cross-entropy, L2
 * regularisation, momentum) trained by {@link TrainStep} on the CUDA emulator and on the CPU from
 * the same seed. The variables start identical (initialised on the host, then uploaded), the
 * losses and final variables (weights, batch-norm moving statistics, momentum slots) agree, and
 * the emulated device has no memory left once the store and optimizer are closed.
 */
class EmulatedCudaTrainTest {
    static final int BATCH = 6;
    static final int SIZE = 3;
    static final int CHANNELS = 2;
    static final int CLASSES = 4;
    static final long SEED = 20261126L;
    static final int STEPS = 4;

    static final NetworkFn TINY = TinyFcNet.NET;

    /** lossScale: the fp16 loss scaler's scale after training, 0 without one. */
    record Run(List<Double> losses, Map<String, float[]> variables, Map<String, float[]> slots, double lossScale) {
    }

    /** Trains STEPS steps of TINY on {@code device}; batches are made on the host from the seed and uploaded. */
    static Run train(Device device) {
        List<Double> losses = new ArrayList<>();
        Map<String, float[]> vars = new LinkedHashMap<>();
        Map<String, float[]> slots = new LinkedHashMap<>();
        double[] lossScale = {0};
        try (VariableStore store = new VariableStore(SEED, device); Momentum opt = new Momentum(0.9)) {
            NetRunner.createVariables(TINY, store, CLASSES, 1e-3, SIZE, SIZE, CHANNELS, true);
            for (Variable v : store.variables()) assertEquals(device, v.value().device(), v.name() + " lives on the training device");
            opt.createSlots(store.trainableVars());
            TrainStep step = new TrainStep(TINY, store, CLASSES, 1e-3, 0.1, 1, opt, store.trainableVars(), TrainStep.lossScalerFor(device));
            SplittableRandom r = new SplittableRandom(SEED);
            for (int s = 0; s < STEPS; s++) {
                try (TensorScope scope = TensorScope.open()) {
                    Tensor images = Tensor.randomUniform(SEED + s, -1, 1, BATCH, SIZE, SIZE, CHANNELS);
                    int[] labels = new int[BATCH];
                    for (int i = 0; i < BATCH; i++) labels[i] = r.nextInt(CLASSES);
                    Tensor oneHot = NetRunner.oneHot(Tensor.of(labels, BATCH), CLASSES, 0);
                    losses.add(step.run(TrainStep.onDevice(images, device), TrainStep.onDevice(oneHot, device), 0.1, NetRunner.mix(SEED, s)));
                }
            }
            for (Variable v : store.variables()) vars.put(v.name(), v.value().toFloatArray());
            opt.variables(v -> v.name()).forEach((k, t) -> slots.put(k, t.toFloatArray()));
            // Inference with the moving statistics, no gradient recording.
            try (TensorScope scope = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
                Tensor x = TrainStep.onDevice(Tensor.randomUniform(SEED, -1, 1, 2, SIZE, SIZE, CHANNELS), device);
                vars.put("inference_logits", NetRunner.forward(TINY, store, CLASSES, 0, Var.constant(x), false, 0).logits().value().toFloatArray());
            }
            lossScale[0] = step.lossScaler() == null ? 0 : step.lossScaler().scale();
        }
        return new Run(losses, vars, slots, lossScale[0]);
    }

    @Test
    void emulatedGpuTrainingMatchesTheCpuFromTheSameSeed() {
        Run cpu = train(CpuDevice.INSTANCE);
        CudaDevice emu = EmulatedCuda.device();
        try {
            Run gpu = train(emu);
            for (int s = 0; s < STEPS; s++) {
                double a = cpu.losses().get(s);
                double b = gpu.losses().get(s);
                assertTrue(Double.isFinite(b), "step " + s + " loss " + b);
                assertEquals(a, b, 1e-4 * Math.max(1, Math.abs(a)), "loss of step " + s + ": cpu " + cpu.losses() + " emulated " + gpu.losses());
            }
            assertTrue(cpu.losses().get(STEPS - 1) < cpu.losses().get(0), "the loss goes down: " + cpu.losses());
            assertEquals(cpu.variables().keySet(), gpu.variables().keySet());
            for (String name : cpu.variables().keySet()) assertClose(name, cpu.variables().get(name), gpu.variables().get(name));
            assertEquals(cpu.slots().keySet(), gpu.slots().keySet());
            for (String name : cpu.slots().keySet()) assertClose(name, cpu.slots().get(name), gpu.slots().get(name));
            assertTrue(cpu.slots().keySet().stream().anyMatch(n -> n.endsWith("/Momentum")), cpu.slots().keySet().toString());
            assertTrue(cpu.variables().keySet().stream().anyMatch(n -> n.endsWith("moving_variance")), cpu.variables().keySet().toString());
            emu.sync();
            assertEquals(0, emu.liveBytes(), "device memory left after closing the store and the optimizer");
            assertEquals(0, emu.liveAllocations());
        } finally {
            emu.shutdown();
        }
    }

    /**
     * bf16 and fp16 training on the emulated GPU: the products take rounded operands (the second
     * layer's on conv_tc.cu's half-precision kernels; 18 inputs are not a multiple of 4, so the
     * first layer's run on the TF32 WMMA kernels), the losses follow the CPU's within that rounding
     * and fall, and fp16 trains through the loss scaler (2^16, no overflow here) while bf16 has none.
     */
    @Test
    void bf16AndFp16TrainingOnTheEmulatedGpuFollowTheCpu() {
        Run cpu = train(CpuDevice.INSTANCE);
        CudaDevice emu = EmulatedCuda.device();
        try {
            for (org.slim4j.cuda.CudaOptions.Precision p : new org.slim4j.cuda.CudaOptions.Precision[] {
                    org.slim4j.cuda.CudaOptions.Precision.BF16, org.slim4j.cuda.CudaOptions.Precision.FP16}) {
                emu.configure(emu.options().withPrecision(p));
                Run gpu = train(emu);
                double tol = p == org.slim4j.cuda.CudaOptions.Precision.BF16 ? 2e-2 : 5e-3;
                for (int s = 0; s < STEPS; s++) {
                    double a = cpu.losses().get(s);
                    assertEquals(a, gpu.losses().get(s), tol * Math.max(1, Math.abs(a)), p + " loss of step " + s + ": cpu " + cpu.losses()
                        + " emulated " + gpu.losses());
                }
                assertTrue(gpu.losses().get(STEPS - 1) < gpu.losses().get(0), p + ": the loss goes down: " + gpu.losses());
                assertEquals(p == org.slim4j.cuda.CudaOptions.Precision.FP16 ? 65536.0 : 0.0, gpu.lossScale(), p + " loss scale");
            }
            emu.sync();
            assertEquals(0, emu.liveBytes(), "device memory left after closing the store and the optimizer");
        } finally {
            emu.shutdown();
        }
    }

    @Test
    void initialVariablesAreIdenticalOnEveryDevice() {
        CudaDevice emu = EmulatedCuda.device();
        try (VariableStore cpu = new VariableStore(SEED, CpuDevice.INSTANCE); VariableStore gpu = new VariableStore(SEED, emu)) {
            NetRunner.createVariables(TINY, cpu, CLASSES, 0, SIZE, SIZE, CHANNELS, true);
            NetRunner.createVariables(TINY, gpu, CLASSES, 0, SIZE, SIZE, CHANNELS, true);
            for (Variable v : cpu.variables()) {
                float[] a = v.value().toFloatArray();
                float[] b = gpu.get(v.name()).value().toFloatArray();
                assertTrue(java.util.Arrays.equals(a, b), v.name() + " differs between the CPU and the device");
            }
        } finally {
            assertEquals(0, emu.liveBytes());
            emu.shutdown();
        }
    }

    /** train_image_classifier's whole loop with the variables on the emulated GPU, against the CPU from the same seed. */
    static int trainCommand(Device device, Path data, Path trainDir, int steps, ByteArrayOutputStream out) throws Exception {
        return trainCommand(device, data, trainDir, steps, 8, 6, out);
    }

    static int trainCommand(Device device, Path data, Path trainDir, int steps, int imageSize, int batch, ByteArrayOutputStream out)
            throws Exception {
        return trainCommand(List.of(device), 1, data, trainDir, steps, imageSize, batch, out);
    }

    /** With --num_clones={@code clones} over {@code devices} (clone c on devices[c % size], the variables on the first). */
    static int trainCommand(List<Device> devices, int clones, Path data, Path trainDir, int steps, int imageSize, int batch,
                            ByteArrayOutputStream out) throws Exception {
        TrainImageClassifierCommand cmd = new TrainImageClassifierCommand();
        cmd.flags().parse("--dataset_name=fashion_mnist", "--dataset_dir=" + data, "--train_dir=" + trainDir, "--model_name=tiny_fc_bn",
            "--preprocessing_name=lenet", "--train_image_size=" + imageSize, "--batch_size=" + batch, "--optimizer=momentum", "--learning_rate=0.05",
            "--learning_rate_decay_type=fixed", "--moving_average_decay=0.9", "--weight_decay=0.001", "--seed=5", "--num_readers=1",
            "--num_preprocessing_threads=1", "--save_interval_secs=0", "--save_summaries_secs=1", "--log_every_n_steps=1",
            "--max_number_of_steps=" + steps, "--num_clones=" + clones);
        cmd.validate();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        return new Trainer(cmd, p, p, devices, TinyFcNet.NET).run();
    }

    /**
     * --num_clones=2 over two (emulated) GPUs: the second clone runs on its own device's replica and
     * its gradients join the first's on the variables' device. The checkpoints equal those of the two
     * clones run one after another on one device; no memory is left on either device.
     */
    @Test
    void clonesOnTwoGpusMatchClonesOnOne(@TempDir Path tmp) throws Exception {
        Path data = SyntheticIdx.fashionMnist(tmp, 48, 8);
        CudaDevice a = EmulatedCuda.device();
        CudaDevice b = EmulatedCuda.device();
        try {
            ByteArrayOutputStream one = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(List.of(a), 2, data, tmp.resolve("one"), 3, 8, 6, one), one.toString(StandardCharsets.UTF_8));
            ByteArrayOutputStream two = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(List.of(a, b), 2, data, tmp.resolve("two"), 3, 8, 6, two), two.toString(StandardCharsets.UTF_8));
            String log = two.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("clones on " + a.name() + ", " + b.name()), log);
            assertTrue(b.peakLiveBytes() > 0, "the second device held a replica");
            a.sync();
            b.sync();
            assertEquals(0, a.liveBytes(), "device memory left on the variables' device");
            assertEquals(0, b.liveBytes(), "device memory left on the replica's device");
        } finally {
            a.shutdown();
            b.shutdown();
        }
        assertCheckpointsClose(tmp.resolve("one/model.ckpt-3"), tmp.resolve("two/model.ckpt-3"));
    }

    /** train_image_classifier at --precision=fp16 on the emulated GPU: it trains through the loss scaler and says so. */
    @Test
    void trainImageClassifierAtFp16ScalesTheLoss(@TempDir Path tmp) throws Exception {
        Path data = SyntheticIdx.fashionMnist(tmp, 48, 8);
        CudaDevice emu = EmulatedCuda.device();
        try {
            emu.configure(emu.options().withPrecision(org.slim4j.cuda.CudaOptions.Precision.FP16));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(emu, data, tmp.resolve("fp16"), 2, out), out.toString(StandardCharsets.UTF_8));
            String log = out.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("--precision=fp16") && log.contains("fp16 loss scaling: scale 65536"), log);
            assertTrue(!log.contains("overflowed at loss scale"), log);
            // The scale and its run of good steps are in the checkpoint, and a resumed run goes on from them.
            try (CheckpointReader r = CheckpointReader.open(tmp.resolve("fp16/model.ckpt-2"))) {
                assertEquals(65536.0, r.read(Trainer.LOSS_SCALE_TENSOR).toDoubleArray()[0]);
                assertEquals(2L, r.read(Trainer.LOSS_SCALE_GOOD_STEPS_TENSOR).toLongArray()[0]);
            }
            ByteArrayOutputStream resumed = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(emu, data, tmp.resolve("fp16"), 3, resumed), resumed.toString(StandardCharsets.UTF_8));
            assertTrue(resumed.toString(StandardCharsets.UTF_8).contains("fp16 loss scale 65536 restored (2 good steps)"),
                resumed.toString(StandardCharsets.UTF_8));
            emu.sync();
            assertEquals(0, emu.liveBytes(), "device memory left after training");
        } finally {
            emu.shutdown();
        }
    }

    @Test
    void trainImageClassifierOnTheEmulatedGpuMatchesTheCpuAndResumes(@TempDir Path tmp) throws Exception {
        Path data = SyntheticIdx.fashionMnist(tmp, 48, 8);
        ByteArrayOutputStream cpuLog = new ByteArrayOutputStream();
        assertEquals(Main.EXIT_OK, trainCommand(CpuDevice.INSTANCE, data, tmp.resolve("cpu"), 4, cpuLog), cpuLog.toString(StandardCharsets.UTF_8));
        CudaDevice emu = EmulatedCuda.device();
        try {
            ByteArrayOutputStream a = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(emu, data, tmp.resolve("emu"), 2, a), a.toString(StandardCharsets.UTF_8));
            String first = a.toString(StandardCharsets.UTF_8);
            assertTrue(first.contains("device cuda-emu") && first.contains("peak mem") && first.contains("peak device memory"), first);
            // Resumed on the device: restored values are assigned onto the GPU, slots and moving averages included.
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            assertEquals(Main.EXIT_OK, trainCommand(emu, data, tmp.resolve("emu"), 4, b), b.toString(StandardCharsets.UTF_8));
            assertTrue(b.toString(StandardCharsets.UTF_8).contains("resuming from"), b.toString(StandardCharsets.UTF_8));
            emu.sync();
            assertEquals(0, emu.liveBytes(), "device memory left after training");
        } finally {
            emu.shutdown();
        }
        assertCheckpointsClose(tmp.resolve("cpu/model.ckpt-4"), tmp.resolve("emu/model.ckpt-4"));
    }

    /** Out of device memory: the run stops with what was asked, what is free, and a smaller --batch_size. */
    @Test
    void outOfDeviceMemorySuggestsABatchSizeThatFits(@TempDir Path tmp) throws Exception {
        Path src = tmp.resolve("src");
        SyntheticIdx.write(src, "train", 64);
        SyntheticIdx.write(src, "t10k", 4);
        Path data = tmp.resolve("data");
        assertEquals(Main.EXIT_OK, Main.run(new String[] {"download_and_convert_data", "--dataset_name=fashion_mnist", "--dataset_dir=" + data,
            "--source=" + src}, new PrintStream(new ByteArrayOutputStream()), System.err));
        // 28x28 images: the variables (~26 KB) fit in 96 KiB, a batch of 64 images (200 KB) does not.
        CudaDevice small = EmulatedCuda.device(96 << 10);
        try {
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int status = trainCommand(small, data, tmp.resolve("oom"), 2, 28, 64, log);
            String text = log.toString(StandardCharsets.UTF_8);
            assertEquals(Main.EXIT_FAILURE, status, text);
            assertTrue(text.contains("out of memory") && text.contains("asked for") && text.contains("free of"), text);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Try --batch_size=(\\d+)").matcher(text);
            assertTrue(m.find(), text);
            int suggested = Integer.parseInt(m.group(1));
            assertTrue(suggested >= 1 && suggested <= 32, text);
            small.sync();
            assertEquals(0, small.liveBytes(), "device memory left after the failed run");
        } finally {
            small.shutdown();
        }
    }

    @Test
    void outOfMemoryAdviceScalesTheBatchByFreeOverAsked() {
        var e = new org.slim4j.cuda.CudaOutOfMemoryError("cuda:0", 4L << 30, 1L << 30, 80L << 30, 70L << 30);
        String m = TrainStep.outOfMemoryAdvice(e, 64, "--batch_size");
        assertTrue(m.startsWith(e.getMessage()) && m.contains("Try --batch_size=16 "), m);
        assertTrue(TrainStep.outOfMemoryAdvice(new org.slim4j.cuda.CudaOutOfMemoryError("cuda:0", 1L << 20, 8L << 20, 80L << 30, 0), 64,
            "--batch_size").contains("Try --batch_size=32 "), "at most half the batch");
        assertTrue(TrainStep.outOfMemoryAdvice(e, 1, "--batch_size").contains("already 1"));
    }

    /** Layer code that builds small constants (clip bounds, one-hot rows) makes them on its input's device. */
    @Test
    void layerConstantsFollowTheirInputsDevice() {
        CudaDevice emu = EmulatedCuda.device();
        try (VariableStore store = new VariableStore(SEED, emu); Graph g = Graph.open(store); TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.of(new float[] {-2f, -0.25f, 0.3f, 4f}, 2, 2);
            Var clipped = org.slim4j.layers.Ops.clipByValue(Var.constant(x.toDevice(emu)), -0.5, 0.5);
            assertEquals(emu, clipped.value().device());
            assertArrayEquals(new float[] {-0.5f, -0.25f, 0.3f, 0.5f}, clipped.value().toFloatArray());
            Var oneHot = org.slim4j.layers.Layers.oneHotEncoding(Tensor.of(new int[] {2, 0, 7}, 3).toDevice(emu), 3, null);
            assertEquals(emu, oneHot.value().device());
            assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 0, 0, 0}, oneHot.value().toFloatArray());
        } finally {
            assertEquals(0, emu.liveBytes());
            emu.shutdown();
        }
    }

    /** Same entries; integers equal, floats close (variables, momentum slots and moving averages of tiny_fc_bn: 18 or more). */
    static void assertCheckpointsClose(Path expected, Path actual) throws IOException {
        try (CheckpointReader c = CheckpointReader.open(expected);
             CheckpointReader g = CheckpointReader.open(actual)) {
            assertEquals(c.entries(), g.entries());
            int compared = 0;
            for (CheckpointEntry e : c.entries()) {
                try (Tensor x = c.read(e.name()); Tensor y = g.read(e.name())) {
                    if (!x.dtype().isFloating()) {
                        assertArrayEquals(x.toLongArray(), y.toLongArray(), e.name());
                        continue;
                    }
                    assertClose(e.name(), x.toFloatArray(), y.toFloatArray());
                    compared++;
                }
            }
            assertTrue(compared >= 3 * 6, "variables, momentum slots and moving averages compared: " + compared);
        }
    }

    static void assertClose(String name, float[] a, float[] b) {
        assertEquals(a.length, b.length, name);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-4 * Math.max(1, Math.abs(a[i])), name + "[" + i + "]");
        }
    }
}
