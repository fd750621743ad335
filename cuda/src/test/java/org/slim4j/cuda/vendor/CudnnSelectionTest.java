package org.slim4j.cuda.vendor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Path;
import java.util.function.Supplier;
import jcuda.jcudnn.cudnnMathType;
import org.junit.jupiter.api.Test;
import org.slim4j.cuda.CudaBackend;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.CudaOptions.Kernels;
import org.slim4j.cuda.CudaOptions.Precision;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.Shape;

/** The --kernels rule, the --precision to cuDNN math type rule, the algorithm cache key; all without a GPU. */
class CudnnSelectionTest {
    private static final CudnnLibrary.Status LOADED =
            new CudnnLibrary.Status(true, 91002, Path.of("/opt/cudnn/lib/libcudnn.so.9"), "jar:file:/x.jar!/lib/libJCudnn.so", null, null);
    private static final CudnnLibrary.Status MISSING =
            new CudnnLibrary.Status(false, 0, null, null, "libcudnn.so.9 not found; searched LD_LIBRARY_PATH", "install cuDNN 9");

    private static Supplier<CudnnLibrary.Status> never() {
        return () -> fail("cuDNN must not be probed here");
    }

    @Test
    void builtinNeverProbesCudnn() {
        assertFalse(VendorKernels.use(ConvKernels.class, Kernels.BUILTIN, never()));
    }

    @Test
    void familiesCudnnDoesNotCoverStayBuiltinUnderEveryChoice() {
        for (Kernels k : Kernels.values()) {
            assertFalse(VendorKernels.use(ElementwiseKernels.class, k, never()));
            assertFalse(VendorKernels.use(MatMulKernels.class, k, never()), "cuBLAS is not used");
        }
    }

    /** AUTO takes no family from cuDNN (measured slower per training step), so it never even loads it. */
    @Test
    void autoKeepsTheHandWrittenKernelsWithoutLoadingCudnn() {
        for (Class<?> family : VendorKernels.FAMILIES) assertFalse(VendorKernels.use(family, Kernels.AUTO, never()), family.getSimpleName());
        assertTrue(VendorKernels.use(ConvKernels.class, Kernels.VENDOR, () -> LOADED));
    }

    @Test
    void vendorWithoutCudnnIsAnErrorNamingTheFlagAndTheReason() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> VendorKernels.use(ConvKernels.class, Kernels.VENDOR, () -> MISSING));
        assertTrue(e.getMessage().contains("ConvKernels with --kernels=vendor needs cuDNN"), e.getMessage());
        assertTrue(e.getMessage().contains("libcudnn.so.9 not found") && e.getMessage().contains("fix: install cuDNN 9"), e.getMessage());
        assertTrue(e.getMessage().contains("--kernels=builtin"), e.getMessage());
    }

    /** On a machine without cuDNN (this one, CI): the real probe's failure reaches the user through the backend. */
    @Test
    void backendConsultsTheDeviceOptionsOnEveryCall() {
        assumeFalse(CudnnLibrary.status().loaded(), "cuDNN loaded here: the missing-cuDNN path cannot be exercised");
        CudaDevice d = FakeDriver.device("fake:0");
        CudaBackend b = d.backend();
        d.configure(CudaOptions.EXACT.withKernels(Kernels.VENDOR));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.kernels(ConvKernels.class));
        assertTrue(e.getMessage().contains("--kernels=vendor") && e.getMessage().contains("libcudnn.so.9"), e.getMessage());
        assertFalse(b.supports(ConvKernels.class), "--kernels=vendor without cuDNN supports no convolution");
        assertInstanceOf(ElementwiseKernels.class, b.kernels(ElementwiseKernels.class), "families without cuDNN stay hand-written");
        for (Kernels k : new Kernels[] {Kernels.AUTO, Kernels.BUILTIN}) {
            d.configure(CudaOptions.EXACT.withKernels(k));
            try {
                Object conv = b.kernels(ConvKernels.class);
                assertFalse(conv instanceof CudnnConv, k + " without cuDNN must not give cuDNN kernels");
            } catch (UnsupportedOperationException notYet) {
                assertTrue(notYet.getMessage().contains("ConvKernels"), notYet.getMessage());  // no hand-written conv in this build
            }
        }
        d.configure(CudaOptions.EXACT.withKernels(Kernels.VENDOR));
        assertThrows(IllegalStateException.class, () -> b.kernels(ConvKernels.class), "switching back is seen at once");
        assertTrue(b.supports(ElementwiseKernels.class));
    }

    @Test
    void batchNormFollowsTheSameRuleAndFallsBackToTheHandWrittenKernels() {
        assertTrue(VendorKernels.use(BatchNormKernels.class, Kernels.VENDOR, () -> LOADED));
        assertFalse(VendorKernels.use(BatchNormKernels.class, Kernels.AUTO, () -> LOADED), "AUTO keeps the faster hand-written batch norm");
        assertThrows(IllegalStateException.class, () -> VendorKernels.use(BatchNormKernels.class, Kernels.VENDOR, () -> MISSING));
        assumeFalse(CudnnLibrary.status().loaded(), "cuDNN loaded here");
        CudaDevice d = FakeDriver.device("fake:2");
        d.configure(CudaOptions.EXACT.withKernels(Kernels.AUTO));
        BatchNormKernels bn = d.backend().kernels(BatchNormKernels.class);
        assertFalse(bn instanceof CudnnBatchNorm, "auto without cuDNN: the hand-written batch norm");
        d.configure(CudaOptions.EXACT.withKernels(Kernels.VENDOR));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.backend().kernels(BatchNormKernels.class));
        assertTrue(e.getMessage().startsWith("BatchNormKernels with --kernels=vendor"), e.getMessage());
    }

    @Test
    void batchNormDescribesAnyRankAsNhwc() {
        assertArrayEquals(new int[] {2, 8, 5, 6}, CudnnBatchNorm.nchwDims(Shape.of(2, 5, 6, 8)));
        assertArrayEquals(new int[] {37, 16, 1, 1}, CudnnBatchNorm.nchwDims(Shape.of(37, 16)));
        assertArrayEquals(new int[] {3, 3, 4, 5}, CudnnBatchNorm.nchwDims(Shape.of(3, 4, 5, 3)));
        assertArrayEquals(new int[] {60, 3, 1, 1}, CudnnBatchNorm.nchwDims(Shape.of(3, 4, 5, 1, 3)));
        assertArrayEquals(new int[] {5, 7, 1, 1}, CudnnBatchNorm.nchwDims(Shape.of(5, 7)));
    }

    @Test
    void vendorWorkNeedsARealStream() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FakeDriver.device("fake:3").onStream(stream -> null));
        assertTrue(e.getMessage().contains("fake:3") && e.getMessage().contains("real CUDA stream"), e.getMessage());
    }

    @Test
    void cudnnConvCannotBeMadeWithoutCudnn() {
        assumeFalse(CudnnLibrary.status().loaded(), "cuDNN loaded here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CudnnConv(FakeDriver.device("fake:1")));
        assertTrue(e.getMessage().contains("fake:1") && e.getMessage().contains("libcudnn.so.9"), e.getMessage());
    }

    @Test
    void tensorCoresOnlyForTf32() {
        assertEquals(cudnnMathType.CUDNN_FMA_MATH, CudnnConv.mathType(Precision.FP32));
        assertEquals(cudnnMathType.CUDNN_TENSOR_OP_MATH, CudnnConv.mathType(Precision.TF32));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> CudnnConv.mathType(Precision.BF16));
        assertTrue(e.getMessage().contains("--precision=bf16"), e.getMessage());
        long limit = 1 << 20;
        assertTrue(CudnnConv.usable(0, limit, limit));
        assertFalse(CudnnConv.usable(0, limit + 1, limit), "over the workspace limit");
        assertFalse(CudnnConv.usable(3000, 0, limit), "cuDNN reported a failure for this algorithm");
    }

    @Test
    void algorithmsAreCachedPerDirectionShapeAndMathType() {
        CudnnConvGeometry a = CudnnConvGeometry.of("t", Shape.of(64, 56, 56, 64), Shape.of(3, 3, 64, 64), Conv2dSpec.of(1, Padding.SAME));
        CudnnConvGeometry same = CudnnConvGeometry.of("t", Shape.of(64, 56, 56, 64), Shape.of(3, 3, 64, 64), Conv2dSpec.of(1, Padding.SAME));
        CudnnConvGeometry otherBatch = CudnnConvGeometry.of("t", Shape.of(32, 56, 56, 64), Shape.of(3, 3, 64, 64), Conv2dSpec.of(1, Padding.SAME));
        CudnnConvGeometry otherStride = CudnnConvGeometry.of("t", Shape.of(64, 56, 56, 64), Shape.of(3, 3, 64, 64), Conv2dSpec.of(2, Padding.SAME));
        int fma = cudnnMathType.CUDNN_FMA_MATH;
        CudnnConv.AlgoKey k = new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, a, fma);
        assertEquals(k, new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, same, fma));
        assertEquals(k.hashCode(), new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, same, fma).hashCode());
        assertNotEquals(k, new CudnnConv.AlgoKey(CudnnConv.Direction.BACKWARD_DATA, a, fma));
        assertNotEquals(k, new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, otherBatch, fma));
        assertNotEquals(k, new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, otherStride, fma));
        assertNotEquals(k, new CudnnConv.AlgoKey(CudnnConv.Direction.FORWARD, a, cudnnMathType.CUDNN_TENSOR_OP_MATH));
    }
}
