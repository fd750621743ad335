package org.slim4j.tools;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Map;
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
 * Runs the gpu-tagged training tests of the tools module without Maven, on the lent GPU machine
 * (bench/gpu/run-on-device.sh, classes packed by bench/gpu/pack.sh), printing one line per test.
 * Exit status 1 if a test failed or none ran.
 */
public final class GpuTrainTestMain {
    private GpuTrainTestMain() {
    }

    public static void main(String[] args) throws ClassNotFoundException {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
            // Explicit classes: package scanning inside jars needs jdk.zipfs, which the carried runtime lacks.
            .selectors(selectClass(Class.forName("org.slim4j.tools.train.GpuTrainTest")))
            .filters(TagFilter.includeTags("gpu"))
            .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener printer = new TestExecutionListener() {
            private final Map<String, Long> start = new HashMap<>();

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
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0 ? 0 : 1);
    }
}
