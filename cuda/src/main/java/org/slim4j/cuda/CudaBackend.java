package org.slim4j.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.cuda.vendor.CudnnLibrary;
import org.slim4j.cuda.vendor.VendorKernels;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Device;

/**
 * The CUDA backend of one {@link CudaDevice}: the kernel families written so far, each backed by
 * hand-written kernels in src/main/cuda. A family not written yet makes {@link #kernels} throw an
 * UnsupportedOperationException that says so; nothing falls back to the CPU silently. Under
 * {@code --kernels=vendor|auto} the families cuDNN covers ({@link VendorKernels}) come from cuDNN instead.
 */
public final class CudaBackend implements Backend {
    /** The kernel families implemented on CUDA, in registration order. */
    public static final List<Class<?>> FAMILIES = List.of(ElementwiseKernels.class, BiasAddKernels.class, ReduceKernels.class,
            SoftmaxKernels.class, OptimizerKernels.class, PoolKernels.class, BatchNormKernels.class, MatMulKernels.class,
            ShapeKernels.class, DropoutKernels.class, DepthwiseConvKernels.class, LrnKernels.class, ResizeKernels.class,
            ConvKernels.class, FusedConvKernels.class, FusedBatchNormKernels.class);

    private final CudaDevice device;
    private final Map<Class<?>, Object> families = new LinkedHashMap<>();
    /** cuDNN implementations, made on first use under --kernels=vendor|auto (org.slim4j.cuda.vendor). */
    private final Map<Class<?>, Object> vendor = new HashMap<>();

    CudaBackend(CudaDevice device) {
        this.device = device;
        CudaOps ops = new CudaOps(device);
        CudaReduce reduce = new CudaReduce(ops);
        register(ElementwiseKernels.class, new CudaElementwise(ops));
        register(BiasAddKernels.class, new CudaBiasAdd(ops, reduce));
        register(ReduceKernels.class, reduce);
        register(SoftmaxKernels.class, new CudaSoftmax(ops));
        register(OptimizerKernels.class, new CudaOptimizer(ops));
        register(PoolKernels.class, new CudaPool(ops));
        CudaBatchNorm batchNorm = new CudaBatchNorm(ops);
        register(BatchNormKernels.class, batchNorm);
        register(MatMulKernels.class, new CudaMatMul(ops));
        register(ShapeKernels.class, new CudaShape(ops));
        register(DropoutKernels.class, new CudaDropout(ops));
        register(DepthwiseConvKernels.class, new CudaDepthwiseConv(ops));
        register(LrnKernels.class, new CudaLrn(ops));
        register(ResizeKernels.class, new CudaResize(ops));
        CudaConv conv = new CudaConv(ops);
        register(ConvKernels.class, conv);
        register(FusedConvKernels.class, conv);
        register(FusedBatchNormKernels.class, batchNorm);
        if (!families.keySet().equals(java.util.Set.copyOf(FAMILIES))) {
            throw new IllegalStateException("CudaBackend.FAMILIES must list exactly the registered families: " + families.keySet());
        }
    }

    private <K> void register(Class<K> family, K impl) {
        families.put(family, impl);
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public <K> K kernels(Class<K> family) {
        // Per call: the device's --kernels may change (CudaDevice.configure).
        if (VendorKernels.use(family, device.options().kernels(), CudnnLibrary::status)) {
            synchronized (vendor) {
                return family.cast(vendor.computeIfAbsent(family, f -> VendorKernels.create(device, f, families.get(f))));
            }
        }
        Object k = families.get(family);
        if (k == null) {
            throw new UnsupportedOperationException(family.getSimpleName() + " is not implemented on cuda yet (the CUDA backend has "
                    + String.join(", ", implementedFamilies()) + "); run this op on the CPU backend (--device=cpu)");
        }
        return family.cast(k);
    }

    @Override
    public boolean supports(Class<?> family) {
        // The fused batch norm extends the hand-written one: where batch norm is cuDNN's (--kernels=vendor),
        // layers run cuDNN's and the activation as two ops.
        if (family == FusedBatchNormKernels.class && fromVendor(BatchNormKernels.class)) return false;
        try {
            if (VendorKernels.use(family, device.options().kernels(), CudnnLibrary::status)) return true;
        } catch (IllegalStateException e) {
            return false;  // --kernels=vendor without cuDNN: kernels() says why
        }
        return families.containsKey(family);
    }

    /** Whether the --kernels rule gives {@code family} to cuDNN (also when cuDNN was asked for and did not load). */
    private boolean fromVendor(Class<?> family) {
        try {
            return VendorKernels.use(family, device.options().kernels(), CudnnLibrary::status);
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** Simple names of the implemented families ({@link #FAMILIES}). */
    public static List<String> implementedFamilies() {
        List<String> names = new ArrayList<>();
        for (Class<?> c : FAMILIES) names.add(c.getSimpleName());
        return names;
    }

    /** ServiceLoader entry: serves every {@link CudaDevice}. */
    public static final class Provider implements Backends.Provider {
        @Override
        public Backend backendFor(Device device) {
            return device instanceof CudaDevice d ? d.backend() : null;
        }
    }
}
