package org.slim4j.kernels.cpu;

import java.util.HashMap;
import java.util.Map;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Device;

/** The CPU backend: pure-Java kernels, float32 fast paths and float64 reference paths. */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private final Map<Class<?>, Object> families = new HashMap<>();

    private CpuBackend() {
        // register families here
        register(org.slim4j.kernels.FusedConvKernels.class, new FusedConv2dCpu());
        register(org.slim4j.kernels.OptimizerKernels.class, new OptimizerCpu());
        register(org.slim4j.kernels.MatMulKernels.class, new MatMulCpu());
        register(org.slim4j.kernels.ElementwiseKernels.class, new ElementwiseCpu());
        register(org.slim4j.kernels.BiasAddKernels.class, new BiasAddCpu());
        register(org.slim4j.kernels.DropoutKernels.class, new DropoutCpu());
        register(org.slim4j.kernels.SoftmaxKernels.class, new SoftmaxCpu());
        register(org.slim4j.kernels.ReduceKernels.class, new ReduceCpu());
        register(org.slim4j.kernels.ShapeKernels.class, new ShapeCpu());
        register(org.slim4j.kernels.ResizeKernels.class, new ResizeCpu());
        register(org.slim4j.kernels.PoolKernels.class, new PoolCpu());
        register(org.slim4j.kernels.BatchNormKernels.class, new BatchNormCpu());
        register(org.slim4j.kernels.FusedBatchNormKernels.class, new FusedBatchNormCpu());
        register(org.slim4j.kernels.LrnKernels.class, new LrnCpu());
        register(org.slim4j.kernels.ConvKernels.class, new Conv2dCpu());
        register(org.slim4j.kernels.DepthwiseConvKernels.class, new DepthwiseConv2dCpu());
        register(org.slim4j.kernels.FusedDepthwiseConvKernels.class, new FusedDepthwiseConv2dCpu());
    }

    private <K> void register(Class<K> family, K impl) {
        families.put(family, impl);
    }

    @Override
    public Device device() {
        return CpuDevice.INSTANCE;
    }

    @Override
    public <K> K kernels(Class<K> family) {
        Object k = families.get(family);
        if (k == null) throw new UnsupportedOperationException("the CPU backend has no " + family.getSimpleName());
        return family.cast(k);
    }

    @Override
    public boolean supports(Class<?> family) {
        return families.containsKey(family);
    }

    /** ServiceLoader entry: serves the CPU device. */
    public static final class Provider implements Backends.Provider {
        @Override
        public Backend backendFor(Device device) {
            return device instanceof CpuDevice ? INSTANCE : null;
        }
    }
}
