package org.slim4j.tools.selftest;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.testing.GoldenData;

/**
 * The golden selftest over shared/golden with the real CPU backend: every case must pass (the
 * TensorFlow op cases and the inception preprocessing pipeline), and nothing may stay allocated.
 */
class SelfTestGoldenTest {
    private static final String PIPELINE_CASE = "inception_preprocess_eval";

    @Test
    void everyGoldenOpCasePasses() throws IOException {
        long before = CpuDevice.INSTANCE.liveBytes();
        SelfTest test = new SelfTest(GoldenData.goldenDir(), Backends.forDevice(CpuDevice.INSTANCE), SelfTest.DEFAULT_TOLERANCE);
        List<SelfTest.CaseResult> results = test.run(Pattern.compile(""), r -> { });
        assertEquals(102, results.size(), "golden op cases found");

        SelfTest.CaseResult pipeline = results.stream().filter(r -> r.name().equals(PIPELINE_CASE)).findFirst().orElseThrow();
        assertTrue(pipeline.passed(), pipeline.line());

        List<SelfTest.CaseResult> failed = results.stream().filter(r -> !r.passed()).toList();
        long leaked = CpuDevice.INSTANCE.liveBytes() - before;
        assertAll("golden selftest",
                () -> {
                    if (!failed.isEmpty()) {
                        fail(failed.size() + " golden case(s) failed (" + SelfTest.summaryLine(results) + "):\n"
                                + failed.stream().map(SelfTest.CaseResult::line).collect(Collectors.joining("\n")));
                    }
                },
                () -> assertEquals(0, leaked, "bytes the selftest left allocated"));
    }

    /** Every TF op of the golden set has an entry in the op table (a missing one would be a silent gap). */
    @Test
    void theOpTableCoversEveryGoldenOp() throws IOException {
        SelfTest test = new SelfTest(GoldenData.goldenDir(), Backends.forDevice(CpuDevice.INSTANCE), SelfTest.DEFAULT_TOLERANCE);
        List<String> unmapped = new java.util.ArrayList<>();
        for (var dir : test.caseDirs()) {
            String op = GoldenCase.load(dir).op();
            if (GoldenOpTable.lookup(op) == null) unmapped.add(dir.getFileName() + " (" + op + ")");
        }
        assertEquals(List.of(), unmapped);
    }
}
