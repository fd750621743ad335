package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * CudaDevice on the emulator: host copies of every dtype through the staging buffers (including
 * uploads larger than one buffer and views at offsets), zero-filled allocation, device-to-device
 * copies, memory accounting and the out-of-memory error; plus discovery on a machine without CUDA.
 */
class CudaDeviceTest {
    @Test
    void everyDtypeRoundTripsThroughTheStagingBuffers() {
        CudaDevice d = Emulator.device();
        long live = d.liveBytes();
        try (Tensor f = Tensor.randomUniform(1, DType.FLOAT32, Shape.of(3, 7), -5, 5);
             Tensor g = Tensor.randomUniform(2, DType.FLOAT64, Shape.of(5), -5, 5);
             Tensor i = Tensor.of(new int[] {1, -2, 3, Integer.MIN_VALUE}, 4);
             Tensor l = Tensor.of(new long[] {Long.MAX_VALUE, -7}, 2);
             Tensor b = Tensor.ofBytes(new byte[] {1, (byte) 200, 3, 4, 5, 6, 7}, 7)) {
            for (Tensor t : new Tensor[] {f, g, i, l, b}) {
                try (Tensor on = t.toDevice(d); Tensor back = on.toDevice(CpuDevice.INSTANCE)) {
                    assertEquals(d, on.device());
                    assertArrayEquals(t.toDoubleArray(), back.toDoubleArray(), 0.0, t.dtype().toString());
                    assertArrayEquals(t.toDoubleArray(), on.toDoubleArray(), 0.0, t.dtype() + " read directly");
                }
            }
        }
        assertEquals(live, d.liveBytes());
    }

    @Test
    void uploadsLargerThanAStagingBufferArriveWhole() {
        CudaDevice d = Emulator.device();
        int n = CudaDevice.STAGING_BYTES / 4 * 2 + 12345;  // three chunks
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i * 0.5f;
        try (Tensor h = Tensor.of(a, n); Tensor on = h.toDevice(d)) {
            float[] back = on.toFloatArray();
            assertArrayEquals(a, back, 0f);
        }
    }

    @Test
    void viewsAndDeviceCopiesUseTheRightOffsets() {
        CudaDevice d = Emulator.device();
        float[] a = new float[24];
        for (int i = 0; i < 24; i++) a[i] = i;
        try (Tensor h = Tensor.of(a, 6, 4); Tensor on = h.toDevice(d); Tensor rows = on.slice0(2, 5);
             Tensor copy = rows.copy(); Tensor target = Tensor.zeros(d, DType.FLOAT32, Shape.of(6, 4));
             Tensor targetRows = target.slice0(1, 4)) {
            assertArrayEquals(new float[] {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, rows.toFloatArray(), 0f);
            assertArrayEquals(rows.toFloatArray(), copy.toFloatArray(), 0f);
            targetRows.copyFrom(rows);
            float[] t = target.toFloatArray();
            for (int i = 0; i < 24; i++) assertEquals(i >= 4 && i < 16 ? i + 4 : 0f, t[i], 0f, "element " + i);
            // Upload into a view of an existing tensor.
            try (Tensor src = Tensor.of(new float[] {-1, -2, -3, -4}, 1, 4); Tensor row = target.slice0(5, 6)) {
                row.copyFrom(src);
            }
            assertArrayEquals(new float[] {-1, -2, -3, -4}, java.util.Arrays.copyOfRange(target.toFloatArray(), 20, 24), 0f);
        }
    }

    @Test
    void allocationsAreZeroFilledAndAccounted() {
        CudaDevice d = CudaDevice.withDriver("cuda-emu-classes", Emulator.driver(1L << 30));  // size classes, as on a GPU
        long bytes = d.liveBytes();
        long allocs = d.liveAllocations();
        try (Tensor u8 = Tensor.zeros(d, DType.UINT8, Shape.of(7)); Tensor f = Tensor.zeros(d, DType.FLOAT32, Shape.of(3, 3));
             Tensor empty = Tensor.zeros(d, DType.FLOAT32, Shape.of(0, 5))) {
            assertArrayEquals(new double[7], u8.toDoubleArray(), 0.0);
            assertArrayEquals(new float[9], f.toFloatArray(), 0f);
            assertEquals(0, empty.toFloatArray().length);
            assertEquals(bytes + 7 + 36, d.liveBytes());
            assertEquals(allocs + 3, d.liveAllocations());
            assertTrue(d.peakLiveBytes() >= bytes + 43);
            assertTrue(d.reservedBytes() >= 2 * CudaAllocator.MIN_BLOCK);
        }
        assertEquals(bytes, d.liveBytes());
        assertEquals(allocs, d.liveAllocations());
        assertTrue(d.cachedBytes() >= 2 * CudaAllocator.MIN_BLOCK, "closed blocks stay cached");
        d.emptyCache();
        assertEquals(0, d.cachedBytes());
    }

    @Test
    void outOfMemorySaysWhatWasAskedAndWhatIsFree() {
        CudaDevice d = CudaDevice.withDriver("cuda-emu-small", Emulator.driver(1 << 20));
        try (Tensor a = Tensor.zeros(d, DType.FLOAT32, Shape.of(200_000))) {
            CudaOutOfMemoryError e = assertThrows(CudaOutOfMemoryError.class, () -> Tensor.zeros(d, DType.FLOAT32, Shape.of(100_000)));
            assertTrue(e.getMessage().startsWith("cuda-emu-small is out of memory: asked for 390.6 KiB, "), e.getMessage());
            assertTrue(e.getMessage().contains("free of 1.0 MiB"), e.getMessage());
            assertTrue(e.getMessage().contains("Reduce the batch size"), e.getMessage());
            assertEquals(a.numel() * 4L, d.liveBytes(), "the failed allocation is not counted");
        } finally {
            d.shutdown();
        }
    }

    /** Tensors move between two GPUs by peer copies (no host round trip), both toDevice and copyFrom, offsets included. */
    @Test
    void tensorsMoveBetweenGpusByPeerCopies() {
        CudaDevice a = Emulator.device();
        CudaDevice b = Emulator.device();
        try (Tensor host = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor onA = host.toDevice(a);
             Tensor row = onA.slice0(1, 2)) {
            int before = Emulator.peerCopies();
            try (Tensor onB = onA.toDevice(b); Tensor rowOnB = b.empty(row.dtype(), row.shape())) {
                assertEquals(b, onB.device());
                rowOnB.copyFrom(row);
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, onB.toFloatArray());
                assertArrayEquals(new float[] {4, 5, 6}, rowOnB.toFloatArray());
            }
            assertEquals(before + 2, Emulator.peerCopies(), "both copies went peer to peer");
        } finally {
            a.shutdown();
            b.shutdown();
        }
    }

    /** Layers fuse batch norm with its activation only where it is hand-written: not under --kernels=vendor (cuDNN's). */
    @Test
    void fusedBatchNormIsOfferedExceptUnderVendorKernels() {
        CudaDevice d = Emulator.device();
        CudaOptions before = d.options();
        try {
            assertTrue(Backends.forDevice(d).supports(org.slim4j.kernels.FusedBatchNormKernels.class));
            d.configure(new CudaOptions(CudaOptions.Kernels.VENDOR, CudaOptions.Precision.FP32));
            assertFalse(Backends.forDevice(d).supports(org.slim4j.kernels.FusedBatchNormKernels.class));
        } finally {
            d.configure(before);
        }
    }

    @Test
    void theServiceLoaderFindsTheCudaBackendForACudaDevice() {
        CudaDevice d = Emulator.device();
        assertInstanceOf(CudaBackend.class, Backends.forDevice(d));
        assertEquals(d, Backends.forDevice(d).device());
        for (Class<?> family : CudaBackend.FAMILIES) {
            assertTrue(Backends.forDevice(d).supports(family), family.getSimpleName());
            assertTrue(family.isInstance(Backends.forDevice(d).kernels(family)));
        }
        assertTrue(CudaBackend.implementedFamilies().contains("BatchNormKernels"));
    }

    @Test
    void discoveryNeverThrowsAndExplainsAMissingDriver() {
        CudaRuntime.Probe p = CudaRuntime.probe();
        assertTrue(p == CudaRuntime.probe(), "probed once");
        assumeFalse(p.available(), "this machine has a GPU");
        assertFalse(p.reason().isBlank());
        assertTrue(p.gpus().isEmpty());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaDevice.open(0));
        assertTrue(e.getMessage().startsWith("cuda:0 is not available: "), e.getMessage());
        assertTrue(e.getMessage().contains(p.reason()));
    }

    @Test
    void loadingFailuresAreTurnedIntoReasonsWithTheFix() {
        String jcudaMessage = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object"
                + " file: No such file or directory\n\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)\n";
        String r = CudaRuntime.explain(new UnsatisfiedLinkError(jcudaMessage));
        assertEquals("the NVIDIA driver library libcuda.so.1 is not installed or not on the loader path (no NVIDIA driver on this"
                + " machine?): install the NVIDIA driver, which ships libcuda.so.1", r);
        assertTrue(CudaRuntime.explain(new NoClassDefFoundError("jcuda/driver/JCudaDriver")).startsWith("JCuda is not on the class path"));
        assertTrue(CudaRuntime.explain(new UnsatisfiedLinkError("x: libstdc++.so.6: cannot open shared object file"))
                .contains("needs libstdc++.so.6"));
    }

    @Test
    void vendorLibraryProbeReportsEachLibraryWithAFixWhenMissing() {
        java.util.List<VendorLibraries.Status> all = VendorLibraries.probe();
        assertEquals(2, all.size());
        assertEquals("libcublas.so.12", all.get(0).soname());
        assertEquals("libcudnn.so.9", all.get(1).soname());
        for (VendorLibraries.Status s : all) {
            if (s.loaded()) {
                assertTrue(s.file() != null && s.describe().contains("loaded from"));
            } else {
                assertTrue(s.problem().contains(s.soname()), s.problem());
                assertTrue(s.fix() != null && !s.fix().isBlank());
                assertTrue(s.describe().contains("fix: "), s.describe());
            }
        }
    }

    @Test
    void shutdownReleasesTheDriverAndRefusesFurtherWork() {
        GpuDriver driver = Emulator.driver(1 << 24);
        CudaDevice d = CudaDevice.withDriver("cuda-emu-shutdown", driver);
        try (Tensor h = Tensor.of(new float[] {1, 2, 3}, 3); Tensor t = h.toDevice(d)) {
            assertArrayEquals(new float[] {1, 2, 3}, t.toFloatArray(), 0f);
        }
        d.shutdown();
        assertEquals(1L << 24, driver.memoryInfo()[0], "every block returned to the driver");
        assertThrows(IllegalStateException.class, () -> Tensor.zeros(d, DType.FLOAT32, Shape.of(2)));
    }
}
