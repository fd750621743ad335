package org.slim4j.cuda.vendor;

import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.ConvKernels;

/**
 * Which kernel families have a vendor (cuDNN) version, and the {@code --kernels} rule that picks it:
 * BUILTIN never, VENDOR always (an error naming the flag and the load failure when cuDNN did not
 * load), AUTO for the families where cuDNN measured faster in whole training steps
 * ({@link #AUTO_FAMILIES}). That list is empty since 2026-11-27: on an H200, same call, cuDNN's
 * convolutions made 7 of 8 training benchmarks slower (ResNet-50 TF32 b64 981 against 1743
 * images/s with the hand-written kernels, Inception-v3 276 against 605, MobileNet-v1 2608 against
 * 3413; only VGG-16 TF32 gained, 890 against 705), because cuDNN 9's legacy calls cost the host
 * 65-90 us each; its NHWC batch norm took 1.9 / 2.4 ms forward / backward on [32,56,56,256]
 * against 0.15 / 0.14 ms for the hand-written kernels. cuBLAS is not used: JCublas 12.6.0 needs
 * libcublas.so.12 and CUDA 13 machines have only libcublas.so.13, so matrix products stay
 * hand-written under every choice.
 */
public final class VendorKernels {
    /** The families cuDNN serves. */
    public static final List<Class<?>> FAMILIES = List.of(ConvKernels.class, BatchNormKernels.class);
    /**
     * The families AUTO takes from cuDNN when it loaded: none (see above). Adding ConvKernels back
     * must keep --precision=bf16/fp16 on the hand-written kernels: CudnnConv takes fp32 and tf32
     * only (DeviceFlags refuses bf16/fp16 with --kernels=vendor for that reason).
     */
    public static final List<Class<?>> AUTO_FAMILIES = List.of();

    private VendorKernels() {
    }

    public static boolean covers(Class<?> family) {
        return FAMILIES.contains(family);
    }

    /**
     * Whether {@code family} should come from cuDNN under {@code mode}. {@code cudnn} is asked only
     * when the answer depends on it (so BUILTIN never loads cuDNN).
     */
    public static boolean use(Class<?> family, CudaOptions.Kernels mode, Supplier<CudnnLibrary.Status> cudnn) {
        if (mode == CudaOptions.Kernels.BUILTIN || !covers(family)) return false;
        if (mode == CudaOptions.Kernels.AUTO && !AUTO_FAMILIES.contains(family)) return false;
        CudnnLibrary.Status s = cudnn.get();
        if (s.loaded()) return true;
        if (mode == CudaOptions.Kernels.VENDOR) {
            throw new IllegalStateException(family.getSimpleName() + " with --kernels=" + mode.name().toLowerCase(Locale.ROOT)
                    + " needs cuDNN, which did not load: " + s.describe()
                    + " (or choose --kernels=builtin or --kernels=auto for the hand-written kernels)");
        }
        return false;
    }

    /**
     * The cuDNN implementation of {@code family} on {@code device} (cuDNN must have loaded);
     * {@code builtin} is the hand-written one (or null), for the cases cuDNN does not cover.
     */
    public static Object create(CudaDevice device, Class<?> family, Object builtin) {
        if (family == ConvKernels.class) return new CudnnConv(device);
        if (family == BatchNormKernels.class) return new CudnnBatchNorm(device, (BatchNormKernels) builtin);
        throw new IllegalArgumentException("no cuDNN implementation of " + family.getSimpleName() + " (cuDNN serves " + FAMILIES + ")");
    }
}
