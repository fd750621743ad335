package org.slim4j.tools.doctor;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import org.slim4j.cuda.CudaBackend;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOutOfMemoryError;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.cuda.VendorLibraries;
import org.slim4j.cuda.vendor.CudnnConv;
import org.slim4j.cuda.vendor.CudnnLibrary;
import org.slim4j.cuda.vendor.VendorKernels;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Command;
import org.slim4j.tools.DeviceFlags;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;

/**
 * {@code slim4j doctor}: what this machine offers slim4j — JVM, OS, CPU cores, the Vector API's
 * preferred species, the NVIDIA driver and GPUs (or why there are none), a smoke test of the
 * hand-written CUDA kernels on each GPU, for cuBLAS / cuDNN the file that loaded or the missing
 * soname and the fix, and whether JCudnn bound cuDNN (its native library's jar, cuDNN's version;
 * with a GPU, a cuDNN convolution checked against the CPU). It never fails for a missing GPU; exit 1
 * only when a GPU is present and the kernels compute wrong results.
 */
public final class DoctorCommand implements Command {
    private final Flags flags = new Flags("doctor");
    private final Flags.Flag<Boolean> smoke = flags.bool("smoke_test", true,
            "when a GPU is found, run a few hand-written kernels on it and compare with the CPU");

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public String description() {
        return "print JVM, OS, CPU, Vector API, NVIDIA driver/GPU and cuBLAS/cuDNN status (and what to fix)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) {
        Runtime rt = Runtime.getRuntime();
        line(out, "JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version", System.getProperty("java.version"))
                + " (" + System.getProperty("java.vendor") + "), max heap " + CudaOutOfMemoryError.human(rt.maxMemory()));
        line(out, "JVM flags", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        line(out, "OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        line(out, "CPU cores", Integer.toString(rt.availableProcessors()));
        line(out, "Vector API", vectorApi());
        line(out, "C2 unrolling", loopUnrolling());
        line(out, "C2 inlining", incrementalInlining());

        CudaRuntime.Probe probe = CudaRuntime.probe();
        int status = Main.EXIT_OK;
        if (!probe.available()) {
            line(out, "CUDA", "not available: " + probe.reason());
        } else {
            line(out, "CUDA", "driver supports CUDA " + probe.driverCudaVersion() + ", " + probe.gpus().size() + " GPU(s)");
            for (CudaRuntime.GpuInfo g : probe.gpus()) {
                line(out, "", g.toString());
                line(out, "", "  cuda:" + g.ordinal() + " --precision: " + precisions(g.computeMajor()));
            }
        }
        line(out, "CUDA kernels", "hand-written, PTX for compute_80 (JIT-compiled by the driver, >= 580 for CUDA 13's PTX); on cuda: "
                + String.join(", ", CudaBackend.implementedFamilies()) + " (--kernels=builtin|vendor|auto picks them or cuDNN's)");
        if (probe.available() && smoke.get()) {
            for (CudaRuntime.GpuInfo g : probe.gpus()) {
                String result = smokeTest(g.ordinal());
                line(out, "smoke test", "cuda:" + g.ordinal() + " " + result);
                if (!result.startsWith("ok")) status = Main.EXIT_FAILURE;
            }
        }
        for (VendorLibraries.Status s : VendorLibraries.probe()) {
            String text = s.loaded() ? s.soname() + " loaded from " + s.file() + " (for " + s.neededBy() + ")"
                    : s.problem() + " (needed by " + s.neededBy() + "; the hand-written kernels do not need it)";
            line(out, s.library(), text);
            if (!s.loaded() && s.fix() != null) line(out, "", "fix: " + s.fix());
        }
        CudnnLibrary.Status cudnn = CudnnLibrary.status();
        if (cudnn.loaded()) {
            line(out, "JCudnn", "cuDNN " + cudnn.versionText() + " bound: " + cudnn.libcudnn() + " through " + cudnn.natives()
                    + "; --kernels=vendor runs " + String.join(", ", VendorKernels.FAMILIES.stream().map(Class::getSimpleName).toList())
                    + " on cuDNN");
        } else {
            line(out, "JCudnn", "not loaded: " + cudnn.problem() + " (--kernels=auto then uses the hand-written kernels; --kernels=vendor fails)");
            if (cudnn.fix() != null) line(out, "", "fix: " + cudnn.fix());
        }
        if (cudnn.loaded() && probe.available() && smoke.get()) {
            String result = cudnnSmokeTest(0);
            line(out, "cuDNN test", "cuda:0 " + result);
            if (!result.startsWith("ok")) status = Main.EXIT_FAILURE;
        }
        return status;
    }

    /** The --precision values a GPU of compute capability {@code computeMajor}.x takes, and its default. */
    static String precisions(int computeMajor) {
        return DeviceFlags.hasTensorCores(computeMajor)
                ? "fp32, tf32 (the default), bf16, fp16 (tensor cores; fp16 training scales the loss)"
                : "fp32 only (tf32, bf16 and fp16 need the tensor cores of compute capability 8.0)";
    }

    private static void line(PrintStream out, String key, String value) {
        out.printf(Locale.ROOT, "%-13s %s%n", key.isEmpty() ? "" : key + ":", value);
    }

    private static String vectorApi() {
        try {
            var s = FloatVector.SPECIES_PREFERRED;
            return "FloatVector.SPECIES_PREFERRED = " + s.vectorBitSize() + " bits (" + s.length() + " float lanes)";
        } catch (Throwable t) {
            return "unavailable (" + t + "); run java with --add-modules jdk.incubator.vector";
        }
    }

    /** The C2 option ./slim4j sets for the GEMM micro-kernels (bench/README.md, SGEMM notes). */
    private static final int RECOMMENDED_LOOP_UNROLL_LIMIT = 250;

    /** Whether C2 may unroll the GEMM micro-kernel loops: their bodies exceed its default node budget. */
    static String loopUnrolling() {
        String value;
        try {
            value = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("LoopUnrollLimit").getValue();
        } catch (RuntimeException e) {
            return "unknown on this JVM (" + e.getMessage() + ")";
        }
        int limit = Integer.parseInt(value);
        if (limit >= RECOMMENDED_LOOP_UNROLL_LIMIT) return "LoopUnrollLimit=" + limit + " (the GEMM micro-kernels are unrolled)";
        return "LoopUnrollLimit=" + limit + ": the GEMM micro-kernels run unrolled only from " + RECOMMENDED_LOOP_UNROLL_LIMIT
                + " (10-15% of a ResNet-50 training step on CPU); fix: java -XX:LoopUnrollLimit=" + RECOMMENDED_LOOP_UNROLL_LIMIT
                + " (./slim4j passes it)";
    }

    /**
     * Whether C2 inlines late (incrementally): on JDK 17 some Vector API loads and stores inlined
     * that way lose their constant species and run as boxed Java fallbacks.
     */
    static String incrementalInlining() {
        String value;
        try {
            value = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("IncrementalInline").getValue();
        } catch (RuntimeException e) {
            return "unknown on this JVM (" + e.getMessage() + ")";
        }
        if (!Boolean.parseBoolean(value)) return "IncrementalInline off (Vector API calls stay intrinsics)";
        return "IncrementalInline on: on JDK 17 some Vector API stores then run as slow Java fallbacks (a LeNet training"
                + " step 46 -> 33 ms without it); fix: java -XX:-IncrementalInline (./slim4j passes it)";
    }

    /** Elementwise add and a 67 x 45 x 53 SGEMM on the GPU against the CPU backend. */
    static String smokeTest(int ordinal) {
        try (TensorScope scope = TensorScope.open()) {
            CudaDevice d = CudaDevice.open(ordinal);
            long t0 = System.nanoTime();
            Tensor a = Tensor.randomUniform(1, -1, 1, 67, 45);
            Tensor b = Tensor.randomUniform(2, -1, 1, 45, 53);
            Tensor c = Tensor.randomUniform(3, -1, 1, 67, 45);
            Tensor sumGpu = Backends.forDevice(d).kernels(ElementwiseKernels.class).binary(BinaryOp.ADD, a.toDevice(d), c.toDevice(d));
            Tensor mmGpu = Backends.forDevice(d).kernels(MatMulKernels.class).matmul(a.toDevice(d), b.toDevice(d), false, false);
            Tensor sumCpu = CpuBackend.INSTANCE.kernels(ElementwiseKernels.class).binary(BinaryOp.ADD, a, c);
            Tensor mmCpu = CpuBackend.INSTANCE.kernels(MatMulKernels.class).matmul(a, b, false, false);
            double e1 = maxDiff(sumCpu, sumGpu.toDevice(CpuDevice.INSTANCE));
            double e2 = maxDiff(mmCpu, mmGpu.toDevice(CpuDevice.INSTANCE));
            double ms = (System.nanoTime() - t0) / 1e6;
            if (e1 > 1e-6 || e2 > 1e-4) return "FAILED: max error add " + e1 + ", matmul " + e2;
            return String.format(Locale.ROOT, "ok (add and sgemm match the CPU; %.0f ms including PTX JIT), %s", ms, d.describe());
        } catch (Throwable t) {
            return "FAILED: " + t;
        }
    }

    /** A 3x3 stride-2 SAME convolution (TF's asymmetric padding) through cuDNN against the CPU backend. */
    static String cudnnSmokeTest(int ordinal) {
        try (TensorScope scope = TensorScope.open()) {
            CudaDevice d = CudaDevice.open(ordinal);
            Conv2dSpec spec = Conv2dSpec.of(2, Padding.SAME);
            Tensor x = Tensor.randomUniform(4, -1, 1, 2, 10, 10, 8);
            Tensor w = Tensor.randomUniform(5, -1, 1, 3, 3, 8, 16);
            Tensor y = new CudnnConv(d).conv2d(x.toDevice(d), w.toDevice(d), spec);
            double e = maxDiff(CpuBackend.INSTANCE.kernels(ConvKernels.class).conv2d(x, w, spec), y.toDevice(CpuDevice.INSTANCE));
            return e > 1e-4 ? "FAILED: cuDNN conv2d max error " + e : "ok (cuDNN conv2d matches the CPU, max error " + e + ")";
        } catch (Throwable t) {
            return "FAILED: " + t;
        }
    }

    private static double maxDiff(Tensor x, Tensor y) {
        double[] a = x.toDoubleArray();
        double[] b = y.toDoubleArray();
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return Double.isNaN(m) ? Double.POSITIVE_INFINITY : m;
    }

    /** For tests: the lines the command prints. */
    static List<String> keys() {
        return List.of("JVM", "OS", "CPU cores", "Vector API", "C2 unrolling", "C2 inlining", "CUDA", "CUDA kernels", "cuBLAS", "cuDNN", "JCudnn");
    }
}
