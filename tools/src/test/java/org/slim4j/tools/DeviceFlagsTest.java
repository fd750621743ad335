package org.slim4j.tools;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.cuda.CudaOptions;

/** --device / --kernels / --precision checks that need no GPU. */
class DeviceFlagsTest {
    private static DeviceFlags parse(String... args) throws UsageException {
        Flags flags = new Flags("t");
        DeviceFlags d = new DeviceFlags(flags, "run");
        flags.parse(args);
        return d;
    }

    @Test
    void halfPrecisionsAreAcceptedForSlim4jsKernelsOnlyAndNeedTensorCores() throws Exception {
        for (String p : new String[] {"bf16", "fp16"}) {
            DeviceFlags ok = parse("--device=cuda", "--precision=" + p);
            assertDoesNotThrow(() -> ok.validate("t"));
            assertEquals(CudaOptions.Precision.valueOf(p.toUpperCase(java.util.Locale.ROOT)), ok.cudaOptions(9).precision());
            DeviceFlags vendor = parse("--device=cuda", "--precision=" + p, "--kernels=vendor");
            UsageException e = assertThrows(UsageException.class, () -> vendor.validate("t"));
            assertTrue(e.getMessage().contains("--precision=" + p) && e.getMessage().contains("--kernels=builtin or auto"), e.getMessage());
            UsageException old = assertThrows(UsageException.class,
                () -> DeviceFlags.checkTensorCores("t", ok.cudaOptions(7), 7, "cuda:0"));
            assertTrue(old.getMessage().contains("compute capability 8.0") && old.getMessage().contains("7.x"), old.getMessage());
        }
        assertDoesNotThrow(() -> DeviceFlags.checkTensorCores("t", CudaOptions.parse("auto", "fp32"), 7, "cuda:0"));
        assertDoesNotThrow(() -> DeviceFlags.checkTensorCores("t", CudaOptions.parse("auto", "bf16"), 8, "cuda:0"));
    }
}
