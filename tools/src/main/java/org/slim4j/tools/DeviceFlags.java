package org.slim4j.tools;

import java.util.List;
import java.util.Locale;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.tensor.Device;

/**
 * The {@code --device}, {@code --kernels} and {@code --precision} flags that train_image_classifier,
 * eval_image_classifier and benchmark share, and the device they select.
 *
 * <p>{@code --precision} defaults to tf32 on a GPU of compute capability 8.0 or newer (Ampere,
 * Hopper), as PyTorch does for convolutions, and to fp32 otherwise. bf16 and fp16 (tensor-core
 * products with float32 tensors; fp16 training adds dynamic loss scaling) need compute capability
 * 8.0 and slim4j's kernels (cuDNN's path here takes fp32 and tf32 only). The CPU computes in exact
 * float32 with its own kernels, so on
 * {@code --device=cpu} any {@code --kernels} other than auto and any {@code --precision} other than
 * fp32 is a usage error rather than a silently ignored request.
 */
public final class DeviceFlags {
    /** The values of --kernels and --precision: CudaOptions' enums, lower case. */
    public static final List<String> KERNELS = lowerCaseNames(CudaOptions.Kernels.values());
    public static final List<String> PRECISIONS = lowerCaseNames(CudaOptions.Precision.values());

    private static List<String> lowerCaseNames(Enum<?>[] values) {
        return java.util.Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).toList();
    }

    public final Flags.Flag<String> device;
    public final Flags.Flag<String> kernels;
    public final Flags.Flag<String> precision;

    /** Defines the three flags on {@code flags}; {@code verb} completes "the backend to ..." in the help. */
    public DeviceFlags(Flags flags, String verb) {
        device = flags.string("device", "cpu", "slim4j: the backend to " + verb + " on: cpu, cuda (= cuda:0) or cuda:N");
        kernels = flags.choice("kernels", "auto", KERNELS,
            "slim4j, cuda: builtin = slim4j's hand-written kernels, vendor = cuBLAS/cuDNN where they cover an op (an error when they"
                + " do not load), auto = the families where cuDNN measured faster per training step: none at present (its legacy"
                + " calls cost the host more than its kernels save), so the hand-written kernels");
        precision = flags.define("precision", String.join("|", PRECISIONS), null, s -> {
            if (!PRECISIONS.contains(s)) throw new IllegalArgumentException("expected one of " + String.join(", ", PRECISIONS));
            return s;
        }, "slim4j, cuda: arithmetic of matrix products and convolutions: fp32 exact; tf32, bf16, fp16 tensor cores (compute"
            + " capability >= 8.0) taking operands rounded to tf32 (10-bit mantissa), bfloat16 (7) or half (10, narrow range), with"
            + " float32 tensors, sums and master weights (fp16 training scales the loss dynamically); none: tf32 on a GPU of compute"
            + " capability >= 8.0, fp32 otherwise");
    }

    /** Whether {@code --device} names a GPU. */
    public boolean isCuda() {
        String d = device.get();
        return d.equals("cuda") || d.startsWith("cuda:");
    }

    /**
     * Checks the flags without touching a GPU: the device name's form, and the --kernels/--precision
     * values the selected device can honour.
     */
    public void validate(String command) throws UsageException {
        String d = device.get();
        if (d.startsWith("cuda:")) {
            try {
                if (Integer.parseInt(d.substring(5)) < 0) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new UsageException(command + ": invalid value '" + d + "' for flag --device: expected cuda:N with N a GPU index");
            }
        } else if (!d.equals("cpu") && !d.equals("cuda")) {
            throw new UsageException(command + ": invalid value '" + d + "' for flag --device: unknown device (known: "
                + String.join(", ", Devices.NAMES) + ")");
        }
        String p = precision.get();
        if (!isCuda()) {
            if (!kernels.get().equals("auto")) {
                throw new UsageException(command + ": --kernels=" + kernels.get() + " applies to --device=cuda only (the CPU has one set of"
                    + " kernels); leave --kernels at auto with --device=cpu");
            }
            if (p != null && !p.equals("fp32")) {
                throw new UsageException(command + ": --precision=" + p + " applies to --device=cuda only (the CPU computes in exact"
                    + " float32); use --precision=fp32 or leave it out with --device=cpu");
            }
            return;
        }
        if (p != null && (p.equals("bf16") || p.equals("fp16")) && kernels.get().equals("vendor")) {
            throw new UsageException(command + ": --precision=" + p + " runs on slim4j's kernels only (cuDNN's convolutions here take"
                + " fp32 and tf32); use --kernels=builtin or auto, or --precision=tf32 with --kernels=vendor");
        }
    }

    /** The GPU index of a cuda device name. */
    public int ordinal() {
        String d = device.get();
        return d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5));
    }

    /** The options a GPU of compute capability {@code computeMajor}.x computes with for these flags. */
    public CudaOptions cudaOptions(int computeMajor) {
        String p = precision.get() != null ? precision.get() : defaultPrecision(computeMajor).name();
        return CudaOptions.parse(kernels.get(), p);
    }

    /** tf32 from Ampere (compute capability 8.0) on, as PyTorch's default for convolutions; fp32 before. */
    public static CudaOptions.Precision defaultPrecision(int computeMajor) {
        return hasTensorCores(computeMajor) ? CudaOptions.Precision.TF32 : CudaOptions.Precision.FP32;
    }

    /** Whether a GPU of compute capability {@code computeMajor}.x has the mma.sync tensor cores tf32, bf16 and fp16 run on (8.0 on). */
    public static boolean hasTensorCores(int computeMajor) {
        return computeMajor >= 8;
    }

    /** Validates, opens the device and, for a GPU, configures its kernels and precision. */
    public Device open(String command) throws UsageException {
        validate(command);
        Device d = Devices.byName(device.get(), command);
        if (d instanceof CudaDevice cuda) {
            int major = computeMajor(ordinal());
            CudaOptions options = cudaOptions(major);
            checkTensorCores(command, options, major, cuda.name());
            cuda.configure(options);
        }
        return d;
    }

    /** tf32, bf16 and fp16 run on mma.sync tensor cores: compute capability 8.0 or newer. */
    static void checkTensorCores(String command, CudaOptions options, int computeMajor, String gpu) throws UsageException {
        if (options.precision() != CudaOptions.Precision.FP32 && !hasTensorCores(computeMajor)) {
            throw new UsageException(command + ": --precision=" + options.precision().name().toLowerCase(Locale.ROOT) + " needs tensor"
                + " cores of compute capability 8.0 or newer (Ampere, Hopper); " + gpu + " is " + computeMajor + ".x: use --precision=fp32");
        }
    }

    private static int computeMajor(int ordinal) {
        for (CudaRuntime.GpuInfo g : CudaRuntime.probe().gpus()) if (g.ordinal() == ordinal) return g.computeMajor();
        return 0;
    }

    /** "cpu" or e.g. "cuda:0 (--kernels=auto --precision=tf32)" for logs. */
    public static String describe(Device d) {
        return d instanceof CudaDevice c ? c.name() + " (" + c.options() + ")" : d.name();
    }
}
