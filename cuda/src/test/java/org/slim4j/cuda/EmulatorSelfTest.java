package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.Tensor;

/**
 * The emulator really executes kernel bodies with CUDA's thread semantics: barriers wait for the
 * whole block, shuffles exchange lane values, the registry holds every kernel of every .cu file,
 * and the mistakes a GPU would turn into silent garbage (divergent barriers, wrong argument kinds,
 * pointers outside allocations) are reported.
 */
class EmulatorSelfTest {
    private static float[] iota(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i + 1;
        return a;
    }

    @Test
    void everyKernelOfEverySourceIsRegisteredWithItsSignature() throws Exception {
        Map<String, String> registered = Emulator.get().kernels();
        List<String> declared = new ArrayList<>();
        for (Path cu : Emulator.kernelSources()) declared.addAll(Emulator.kernelNames(cu));
        assertTrue(declared.contains("sgemm_f32") && declared.contains("emu_reverse_block"), declared.toString());
        assertEquals(declared.size(), registered.size(), "registered " + registered.keySet() + " vs declared " + declared);
        for (String k : declared) assertTrue(registered.containsKey(k), k);
        assertEquals("iiiiipipipiff", registered.get("sgemm_f32"));
    }

    @Test
    void syncthreadsWaitsForTheWholeBlock() {
        CudaDevice d = Emulator.device();
        int n = 96;
        try (Tensor in = Tensor.of(iota(2 * n), 2 * n).toDevice(d); Tensor out = d.empty(in.dtype(), in.shape())) {
            d.launch("emu_selftest", "emu_reverse_block", 2, 1, n, new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)));
            float[] o = out.toFloatArray();
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < n; t++) assertEquals(b * n + n - t, o[b * n + t], 0f, "block " + b + " thread " + t);
            }
        }
    }

    @Test
    void shuffleDownReadsTheNeighbourLaneWithinTheWarp() {
        CudaDevice d = Emulator.device();
        try (Tensor in = Tensor.of(iota(64), 64).toDevice(d); Tensor out = d.empty(in.dtype(), in.shape())) {
            d.launch("emu_selftest", "emu_shfl_down", 1, 1, 64, new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)).i32(3));
            float[] o = out.toFloatArray();
            for (int i = 0; i < 64; i++) {
                float expected = (i % 32) + 3 < 32 ? i + 1 + 3 : i + 1;
                assertEquals(expected, o[i], 0f, "lane " + i);
            }
        }
    }

    @Test
    void blockSumGivesEveryThreadTheTotalAndScratchCanBeReused() {
        CudaDevice d = Emulator.device();
        int threads = 160;
        try (Tensor in = Tensor.of(iota(2 * threads), 2 * threads).toDevice(d); Tensor out = d.empty(in.dtype(), org.slim4j.tensor.Shape.of(4))) {
            d.launch("emu_selftest", "emu_block_sum", 2, 1, threads, new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)));
            float s0 = threads * (threads + 1) / 2f;
            float s1 = 0;
            for (int i = threads + 1; i <= 2 * threads; i++) s1 += i;
            assertArrayEquals(new float[] {s0, 2 * s0, s1, 2 * s1}, out.toFloatArray(), 0f);
        }
    }

    /** cvt.rna.tf32.f32: 10 mantissa bits, round to nearest, ties away from zero. */
    private static float tf32(float f) {
        int u = Float.floatToRawIntBits(f);
        return Float.intBitsToFloat((u + 0x1000) & 0xffffe000);
    }

    /** got [rows x cols] = a [rows x 8] x b [8 x cols] (row-major) of the tf32-rounded operands, within float accumulation. */
    private static void assertTf32Product(float[] got, float[] a, float[] b, int rows, int cols, String name) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float s = 0;
                for (int k = 0; k < 8; k++) s += tf32(a[i * 8 + k]) * tf32(b[k * cols + j]);
                assertEquals(s, got[i * cols + j], 1e-6f, name + "[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void wmmaTf32RoundsTiesAwayFromZeroAndRejectsMisuse() {
        CudaDevice d = Emulator.device();
        float[] a = new float[128];
        float[] b = new float[128];
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 128; i++) {
            a[i] = r.nextFloat() * 2 - 1;
            b[i] = r.nextFloat() * 2 - 1;
        }
        // Ties: 1 + 2^-11 rounds away from zero to 1 + 2^-10 (to-even would give 1); likewise negative.
        a[0] = 1f + 0x1p-11f;
        a[1] = -(1f + 0x1p-11f);
        try (Tensor ta = Tensor.of(a, 128).toDevice(d); Tensor tb = Tensor.of(b, 128).toDevice(d);
             Tensor out = d.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(256))) {
            d.launch("emu_selftest", "emu_wmma_tf32", 1, 1, 32, new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta))
                    .ptr(CudaOps.ptr(tb)).i32(1).i32(-1));
            float[] got = out.toFloatArray();
            assertEquals(1f + 0x1p-10f, tf32(a[0]));
            assertEquals(-(1f + 0x1p-10f), tf32(a[1]));
            assertTf32Product(got, a, b, 16, 16, "c");
            Emulator.EmulatorError e = assertThrows(Emulator.EmulatorError.class, () -> d.launch("emu_selftest", "emu_wmma_tf32", 1, 1, 32,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta)).ptr(CudaOps.ptr(tb)).i32(0).i32(-1)));
            assertTrue(e.getMessage().contains("nonzero low 13 bits"), e.getMessage());
            e = assertThrows(Emulator.EmulatorError.class, () -> d.launch("emu_selftest", "emu_wmma_tf32", 1, 1, 32,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta)).ptr(CudaOps.ptr(tb)).i32(1).i32(5)));
            assertTrue(e.getMessage().contains("exited"), e.getMessage());
        }
    }

    /** tensor_core.cuh's mma.sync follows the PTX fragment layout and, like wmma, rejects unconverted operands. */
    @Test
    void mmaSyncM16n8k8UsesThePtxFragmentLayout() {
        CudaDevice d = Emulator.device();
        float[] a = new float[128];
        float[] b = new float[64];
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() * 2 - 1;
        for (int i = 0; i < b.length; i++) b[i] = r.nextFloat() * 2 - 1;
        try (Tensor ta = Tensor.of(a, 128).toDevice(d); Tensor tb = Tensor.of(b, 64).toDevice(d);
             Tensor out = d.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(128))) {
            d.launch("emu_selftest", "emu_mma_m16n8k8", 1, 1, 32, new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta))
                    .ptr(CudaOps.ptr(tb)).i32(1));
            float[] got = out.toFloatArray();
            assertTf32Product(got, a, b, 16, 8, "d");
            Emulator.EmulatorError e = assertThrows(Emulator.EmulatorError.class, () -> d.launch("emu_selftest", "emu_mma_m16n8k8", 1, 1, 32,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta)).ptr(CudaOps.ptr(tb)).i32(0)));
            assertTrue(e.getMessage().contains("nonzero low 13 bits"), e.getMessage());
        }
    }

    /**
     * tensor_core.cuh's m16n8k16 mma.sync follows the PTX fragment layout and rounds its operands to
     * bf16 / fp16: the elements differ (a mapping error moves products), and values such as 0.75 +
     * 2^-10 are exact in fp16 (10 fraction bits) but round in bf16 (7). The expected sums use the
     * rounded operands in double; the float accumulation may differ in the last bits.
     */
    @Test
    void mmaSyncM16n8k16RoundsToBf16AndFp16WithThePtxLayout() {
        CudaDevice d = Emulator.device();
        float[] a = new float[256];
        float[] b = new float[128];
        for (int i = 0; i < a.length; i++) a[i] = (i % 7 - 3) * 0.25f + (i % 3 == 0 ? 1f / 1024 : 0f);
        for (int i = 0; i < b.length; i++) b[i] = (i % 5 - 2) * 0.5f + (i % 4 == 1 ? 1f / 1024 : 0f);
        for (boolean bf16 : new boolean[] {true, false}) {
            try (Tensor ta = Tensor.of(a, 256).toDevice(d); Tensor tb = Tensor.of(b, 128).toDevice(d);
                 Tensor out = d.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(128))) {
                d.launch("emu_selftest", "emu_mma_m16n8k16", 1, 1, 32, new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(ta))
                        .ptr(CudaOps.ptr(tb)).i32(bf16 ? 1 : 0));
                float[] got = out.toFloatArray();
                int rounded = 0;
                for (int r = 0; r < 16; r++) {
                    for (int c = 0; c < 8; c++) {
                        double want = 0, exact = 0;
                        for (int k = 0; k < 16; k++) {
                            want += halfRound(a[r * 16 + k], bf16) * halfRound(b[k * 8 + c], bf16);
                            exact += (double) a[r * 16 + k] * b[k * 8 + c];
                        }
                        assertEquals(want, got[r * 8 + c], 1e-6, (bf16 ? "bf16" : "fp16") + " d[" + r + "][" + c + "]");
                        if (Math.abs(want - exact) > 1e-4) rounded++;
                    }
                }
                // bf16's rounding shows in the sums; fp16 holds these inputs exactly.
                if (bf16) assertTrue(rounded > 50, "bf16 rounding changed only " + rounded + " of 128 sums");
                else assertEquals(0, rounded, "fp16 changed sums of fp16-exact inputs");
            }
        }
    }

    /** An operand as the mma sees it: bf16 rounds to nearest even; the test's inputs are exact in fp16. */
    private static double halfRound(float v, boolean bf16) {
        if (!bf16) return v;
        int u = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000);
    }

    /** cp.async copies land when their thread waits: read after the wait they are there, read before it they are not. */
    @Test
    void cpAsyncCopiesLandOnlyWhenWaitedFor() {
        CudaDevice d = Emulator.device();
        int n = 64;
        try (Tensor in = Tensor.of(iota(4 * n), 4 * n).toDevice(d); Tensor out = d.empty(in.dtype(), in.shape())) {
            d.launch("emu_selftest", "emu_cp_async", 1, 1, n, 4 * n * Float.BYTES,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)).i32(1));
            float[] o = out.toFloatArray();
            for (int t = 0; t < n; t++) {
                int src = (t + 1) % n;
                for (int i = 0; i < 4; i++) assertEquals(src == 0 ? 0f : 4 * src + i + 1, o[4 * t + i], 0f, "thread " + t + " element " + i);
            }
            d.launch("emu_selftest", "emu_cp_async", 1, 1, n, 4 * n * Float.BYTES,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)).i32(0));
            for (float v : out.toFloatArray()) assertTrue(Float.isNaN(v), "a copy landed before its wait: " + v);
            Emulator.EmulatorError e = assertThrows(Emulator.EmulatorError.class, () -> d.launch("emu_selftest", "emu_cp_async", 1, 1, n,
                    new KernelArgs().ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)).i32(1)));
            assertTrue(e.getMessage().contains("asked for none"), e.getMessage());
        }
    }

    @Test
    void divergentBarrierIsReported() {
        CudaDevice d = Emulator.device();
        try (Tensor out = d.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(32))) {
            Emulator.EmulatorError e = assertThrows(Emulator.EmulatorError.class,
                    () -> d.launch("emu_selftest", "emu_divergent_barrier", 1, 1, 32, new KernelArgs().ptr(CudaOps.ptr(out))));
            assertTrue(e.getMessage().contains("divergent barrier"), e.getMessage());
        }
    }

    @Test
    void wrongArgumentKindsCountsAndPointersAreReported() {
        CudaDevice d = Emulator.device();
        try (Tensor x = Tensor.of(iota(8), 8).toDevice(d)) {
            long p = CudaOps.ptr(x);
            Emulator.EmulatorError kind = assertThrows(Emulator.EmulatorError.class,
                    () -> d.launch("elementwise", "fill_f32", 1, 1, 32, new KernelArgs().i32(8).i32(0).f32(1)));
            assertTrue(kind.getMessage().contains("argument 1: kernel expects kind 'p', Java passed 'i'"), kind.getMessage());
            Emulator.EmulatorError count = assertThrows(Emulator.EmulatorError.class,
                    () -> d.launch("elementwise", "fill_f32", 1, 1, 32, new KernelArgs().i32(8).ptr(p)));
            assertTrue(count.getMessage().contains("takes 3 arguments"), count.getMessage());
            Emulator.EmulatorError wild = assertThrows(Emulator.EmulatorError.class,
                    () -> d.launch("elementwise", "fill_f32", 1, 1, 32, new KernelArgs().i32(8).ptr(64).f32(1)));
            assertTrue(wild.getMessage().contains("not inside a live allocation"), wild.getMessage());
            Emulator.EmulatorError module = assertThrows(Emulator.EmulatorError.class,
                    () -> d.launch("reduce", "fill_f32", 1, 1, 32, new KernelArgs().i32(8).ptr(p).f32(1)));
            assertTrue(module.getMessage().contains("defined in elementwise.cu"), module.getMessage());
            // The stream stays usable after errors.
            d.launch("elementwise", "fill_f32", 1, 1, 32, new KernelArgs().i32(8).ptr(p).f32(7));
            assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7, 7, 7}, x.toFloatArray(), 0f);
        }
    }

    @Test
    void aKernelReadingPastAnAllocationIsStoppedBySanitizers() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Emulator.sanitized(), "emulator built without sanitizers");
        CudaDevice d = CudaDevice.withDriver("cuda-emu-crash", Emulator.isolatedDriver(), true);
        try (Tensor in = Tensor.of(iota(40), 40).toDevice(d); Tensor out = d.empty(in.dtype(), in.shape())) {
            // In bounds: fine.
            d.launch("emu_selftest", "emu_read_past_end", 1, 1, 64, new KernelArgs().i32(39).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in)));
            assertEquals(40f, out.toFloatArray()[38], 0f);
            // One element past the end: AddressSanitizer aborts the emulator.
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> d.launch("emu_selftest", "emu_read_past_end", 1, 1, 64, new KernelArgs().i32(40).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(in))));
            assertTrue(e.getMessage().contains("emulator exited"), e.getMessage());
        }
    }

    @Test
    void freshDeviceMemoryIsPoisonedSoUnwrittenOutputsShowUp() {
        CudaDevice d = Emulator.device();
        try (Tensor t = d.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(4));
             Tensor z = Tensor.zeros(d, org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(4))) {
            for (float v : t.toFloatArray()) assertTrue(Float.isNaN(v) || v == 0f);  // cached blocks may be reused
            assertArrayEquals(new float[4], z.toFloatArray(), 0f);
        }
        // A block never used before is all 0xFF bytes.
        CudaDevice fresh = Emulator.device();
        try (Tensor t = fresh.empty(org.slim4j.tensor.DType.FLOAT32, org.slim4j.tensor.Shape.of(5))) {
            for (float v : t.toFloatArray()) assertTrue(Float.isNaN(v), "poisoned: " + v);
        }
    }
}
