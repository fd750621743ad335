package org.slim4j.cuda;

import java.util.Locale;

/**
 * How a {@link CudaDevice} computes: which kernels serve the families that have a vendor version
 * ({@code --kernels}) and which arithmetic matrix products and convolutions use ({@code --precision}).
 * Immutable; a device's options change only through {@link CudaDevice#configure}.
 *
 * @param kernels   BUILTIN: slim4j's hand-written kernels only; VENDOR: cuBLAS/cuDNN for every family
 *                  they cover (an error when they do not load); AUTO: vendor where it loaded, else builtin
 * @param precision FP32: exact float32 products; TF32: float32 storage, tensor-core products with
 *                  10-bit mantissas (PyTorch's default for convolutions on Ampere and Hopper);
 *                  BF16 / FP16: mixed precision with float32 master weights
 */
public record CudaOptions(Kernels kernels, Precision precision) {
    public enum Kernels { BUILTIN, VENDOR, AUTO }

    public enum Precision { FP32, TF32, BF16, FP16 }

    /** What {@link CudaDevice#open} starts with: hand-written kernels, exact float32 (what the op tests compare). */
    public static final CudaOptions EXACT = new CudaOptions(Kernels.BUILTIN, Precision.FP32);

    public CudaOptions {
        if (kernels == null || precision == null) throw new IllegalArgumentException("CudaOptions: kernels and precision must be set");
    }

    /** Parses the {@code --kernels} and {@code --precision} flag values; the error names the flag and the choices. */
    public static CudaOptions parse(String kernels, String precision) {
        return new CudaOptions(parseEnum(Kernels.class, "kernels", kernels), parseEnum(Precision.class, "precision", precision));
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String flag, String value) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            StringBuilder choices = new StringBuilder();
            for (E c : type.getEnumConstants()) choices.append(choices.length() == 0 ? "" : "|").append(c.name().toLowerCase(Locale.ROOT));
            throw new IllegalArgumentException("invalid value '" + value + "' for flag --" + flag + ": expected " + choices);
        }
    }

    public CudaOptions withKernels(Kernels k) {
        return new CudaOptions(k, precision);
    }

    public CudaOptions withPrecision(Precision p) {
        return new CudaOptions(kernels, p);
    }

    @Override
    public String toString() {
        return "--kernels=" + kernels.name().toLowerCase(Locale.ROOT) + " --precision=" + precision.name().toLowerCase(Locale.ROOT);
    }
}
