package org.slim4j.tools.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.tools.Main;

class DoctorCommandTest {
    @Test
    void printsEverySectionAndSucceedsWithOrWithoutAGpu() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"doctor"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_OK, status, text + err);
        for (String key : DoctorCommand.keys()) assertTrue(text.contains("\n" + key + ":") || text.startsWith(key + ":"), key + " in\n" + text);
        assertTrue(text.contains("float lanes"), text);
        // Surefire runs with the launcher's -XX:LoopUnrollLimit=250 -XX:-IncrementalInline (the root pom's slim4j.jvmArgs).
        assertTrue(text.contains("C2 unrolling: LoopUnrollLimit=250 (the GEMM micro-kernels are unrolled)"), text);
        assertTrue(text.contains("C2 inlining:  IncrementalInline off (Vector API calls stay intrinsics)"), text);
        assertTrue(text.contains("libcublas.so.12") && text.contains("libcudnn.so.9"), text);
        CudaRuntime.Probe p = CudaRuntime.probe();
        if (!p.available()) {
            assertTrue(text.contains("CUDA:         not available: " + p.reason()), text);
        } else {
            assertTrue(text.contains("smoke test:   cuda:0 ok"), text);
        }
    }

    /** Each GPU's line says which --precision values it takes: tensor-core ones from compute capability 8.0. */
    @Test
    void precisionsFollowTheComputeCapability() {
        assertTrue(DoctorCommand.precisions(9).contains("bf16") && DoctorCommand.precisions(8).contains("tf32 (the default)"));
        assertTrue(DoctorCommand.precisions(7).startsWith("fp32 only"), DoctorCommand.precisions(7));
    }

    @Test
    void isListedInHelp() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Main.run(new String[] {"help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("doctor"));
    }
}
