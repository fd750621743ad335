package org.slim4j.cuda.vendor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.cuda.VendorLibraries;

/** Loading cuDNN through JCudnn: what is packaged, and the failure path on a machine without libcudnn.so.9. */
class CudnnLibraryTest {
    @Test
    void versionsPrintInBothEncodings() {
        assertEquals("9.10.2", CudnnLibrary.Status.versionText(91002));
        assertEquals("9.1.0", CudnnLibrary.Status.versionText(90100));
        assertEquals("8.9.7", CudnnLibrary.Status.versionText(8907));
    }

    @Test
    void the12_6NativesAreWhatJCudnn11_7sClassesLoad() {
        assertEquals("JCudnn-12.6.0-linux-x86_64", CudnnLibrary.nativeLibraryName());
        assertNotNull(CudnnLibrary.class.getResource("/lib/libJCudnn-12.6.0-linux-x86_64.so"), "jcudnn-natives 12.6.0 is on the class path");
    }

    @Test
    void withoutLibcudnnTheStatusSaysWhatIsMissingAndTheFix() {
        CudnnLibrary.Status s = CudnnLibrary.status();
        assumeFalse(s.loaded(), "cuDNN loaded here: " + s.describe());
        assertSame(s, CudnnLibrary.status(), "probed once");
        assertEquals(0, s.version());
        assertTrue(s.problem().contains("libcudnn.so.9"), s.problem());
        assertTrue(s.problem().contains("JCudnn-12.6.0-linux-x86_64 did not load"), s.problem());
        assertFalse(s.problem().contains("\n"), "one line, not JCuda's nested stack traces: " + s.problem());
        assertNotNull(s.fix());
        assertTrue(s.describe().contains("fix: install cuDNN 9"), s.describe());
    }

    @Test
    void aFailedLoadIsReportedAgainWithoutThrowingAndLeavesTheDriverProbeWorking() {
        VendorLibraries.Status lib = VendorLibraries.probeCudnn();
        assumeFalse(lib.loaded(), "libcudnn.so.9 present here");
        CudnnLibrary.Status first = CudnnLibrary.load(lib);
        CudnnLibrary.Status second = CudnnLibrary.load(lib);  // JCudnn's class is now in the failed state
        assertFalse(first.loaded());
        assertFalse(second.loaded());
        assertTrue(second.problem().contains("did not load"), second.problem());
        CudaRuntime.Probe p = CudaRuntime.probe();  // JCuda's driver binding is independent of JCudnn
        assertNotNull(p);
    }
}
