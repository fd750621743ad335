package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaConvContract} in the CPU emulator: the real conv.cu kernels (FP32 and the WMMA TF32
 * path, through the emulated wmma API of src/test/emu/mma.h) and conv_tc.cu's mma.sync / cp.async
 * kernels (src/test/emu/tensor_core_emu.h) driven by the real Java launcher, on a reduced shape
 * table so the suite stays well under a minute.
 */
class EmulatedConvTest extends CudaConvContract {
    private static CudaDevice device;

    @BeforeAll
    static void startEmulator() {
        device = Emulator.device();
    }

    @Override
    protected CudaDevice device() {
        return device;
    }

    @Override
    protected boolean fullTable() {
        return false;
    }

    /** TF32 takes conv_tc.cu's kernels for 4-aligned channels, conv.cu's WMMA kernels for the rest. */
    @Test
    void tf32PicksTheMmaKernelsWhereOperandsAre16ByteAlignedAndWmmaElsewhere() {
        String[] mma = {"conv_tc_fwd_n64", "conv_tc_bwdi_n64", "conv_tc_bwdf_n64", "conv_tc_fwd_n128", "conv_tc_bwdi_n128"};
        String[] wmma = {"conv_fwd_tf32_n64", "conv_bwdi_tf32_n64", "conv_bwdf_tf32_n64"};
        int[] before = new int[mma.length + wmma.length];
        for (int i = 0; i < before.length; i++) before[i] = Emulator.launches(i < mma.length ? mma[i] : wmma[i - mma.length]);
        withPrecision(CudaOptions.Precision.TF32, () -> allThreeOps(
                List.of(TENSOR_CORE.get(1), TENSOR_CORE.get(4), TENSOR_CORE.get(5), CASES.get(10)), TF32_TOL, "tf32"));
        for (int i = 0; i < before.length; i++) {
            String k = i < mma.length ? mma[i] : wmma[i - mma.length];
            assertTrue(Emulator.launches(k) > before[i], k + " did not run");
        }
    }

    /** BF16 runs conv_tc.cu's bf16 kernels (both column tiles) and falls back to the TF32 WMMA kernels for a 3-channel layer. */
    @Override
    @Test
    void bf16ForwardAndBothGradientsMatchTheCpuWithinBf16Rounding() {
        halfPrecisionKernelsRun("bf16_", super::bf16ForwardAndBothGradientsMatchTheCpuWithinBf16Rounding);
    }

    /** FP16 likewise, on its own kernels. */
    @Override
    @Test
    void fp16ForwardAndBothGradientsMatchTheCpuWithinFp16Rounding() {
        halfPrecisionKernelsRun("f16_", super::fp16ForwardAndBothGradientsMatchTheCpuWithinFp16Rounding);
    }

    private static void halfPrecisionKernelsRun(String prefix, Runnable test) {
        String[] kernels = {"conv_tc_" + prefix + "fwd_n64", "conv_tc_" + prefix + "bwdi_n64", "conv_tc_" + prefix + "bwdf_n64",
            "conv_tc_" + prefix + "fwd_n128", "conv_fwd_tf32_n64", "conv_bwdf_tf32_n64"};
        int[] before = new int[kernels.length];
        for (int i = 0; i < kernels.length; i++) before[i] = Emulator.launches(kernels[i]);
        int tf32Mma = Emulator.launches("conv_tc_fwd_n64");
        test.run();
        for (int i = 0; i < kernels.length; i++) assertTrue(Emulator.launches(kernels[i]) > before[i], kernels[i] + " did not run");
        assertEquals(tf32Mma, Emulator.launches("conv_tc_fwd_n64"), prefix + ": the tf32 mma.sync kernels ran");
    }

    /** The TF32 matmul of multiples of 4 runs on the mma.sync kernels: forward mode, and filter-gradient mode for a transposed A. */
    @Test
    void tf32MatmulOfMultiplesOfFourUsesTheMmaKernels() {
        int fwd = Emulator.launches("conv_tc_fwd_n64");
        int bwdf = Emulator.launches("conv_tc_bwdf_n64");
        tf32MatmulMatchesTheCpuForEveryTranspose();
        assertTrue(Emulator.launches("conv_tc_fwd_n64") > fwd && Emulator.launches("conv_tc_bwdf_n64") > bwdf, "the mma.sync kernels did not run");
    }

    /** The split-K case (K 576, one output tile) sums slabs for both the forward and the input gradient. */
    @Test
    void fewTilesSplitKForTheForwardAndTheInputGradient() {
        int before = Emulator.launches("conv_splitk_reduce");
        allThreeOps(List.of(TENSOR_CORE.get(6)), TOL, "fp32 split-K");
        assertTrue(Emulator.launches("conv_splitk_reduce") - before >= 2, "forward and input gradient did not split K");
    }
}
