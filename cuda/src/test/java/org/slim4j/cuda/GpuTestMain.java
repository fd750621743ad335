package org.slim4j.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.util.Arrays;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the gpu-tagged tests of this module without Maven (the lent GPU machine has a carried Java
 * runtime but no Maven; see bench/gpu/run-on-device.sh), printing one line per test, then, with
 * {@code --bench}, the kernel timings of {@link GpuBench}. Exit status 1 if any test failed or no
 * GPU test ran.
 */
public final class GpuTestMain {
    private GpuTestMain() {
    }

    public static void main(String[] args) {
        boolean ok = runGpuTests(GpuKernelsTest.class, GpuDeviceTest.class, GpuShapeTest.class, GpuMiscConvTest.class, GpuConvTest.class,
                org.slim4j.cuda.vendor.GpuCudnnTest.class);
        if (Arrays.asList(args).contains("--bench") && CudaRuntime.probe().available()) {
            GpuBench.run(CudaDevice.open(0), System.out);
        }
        System.exit(ok ? 0 : 1);
    }

    /**
     * Runs the gpu-tagged tests of {@code classes} (explicit classes: package scanning inside jars
     * needs jdk.zipfs, which the carried runtime lacks), printing a PASS/SKIP/FAIL line per test and
     * the summary; true when none failed and at least one passed. Other modules' GPU launchers
     * (tools' GpuTrainTestMain) call it with their classes.
     */
    public static boolean runGpuTests(Class<?>... classes) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(Arrays.stream(classes).map(c -> selectClass(c)).toList())
                .filters(TagFilter.includeTags("gpu"))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener printer = new TestExecutionListener() {
            private final java.util.Map<String, Long> start = new java.util.HashMap<>();

            @Override
            public void executionStarted(TestIdentifier id) {
                start.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) System.out.println("SKIP " + id.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) {
                    // A class whose @BeforeAll assumption failed (no GPU): say why nothing ran.
                    if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
                        System.out.println("SKIP " + id.getDisplayName() + result.getThrowable().map(t -> ": " + t.getMessage()).orElse(""));
                    }
                    return;
                }
                long ms = (System.nanoTime() - start.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1_000_000;
                String status = switch (result.getStatus()) {
                    case SUCCESSFUL -> "PASS";
                    case ABORTED -> "SKIP";
                    case FAILED -> "FAIL";
                };
                System.out.println(status + " " + id.getLegacyReportingName() + " (" + ms + " ms)"
                        + result.getThrowable().map(t -> ": " + t).orElse(""));
                System.out.flush();
            }
        };
        launcher.execute(request, summary, printer);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter w = new PrintWriter(System.out, true);
        s.printTo(w);
        s.printFailuresTo(w, 20);
        return s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0;
    }
}
