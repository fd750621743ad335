package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** GpuBench's code paths (events, scopes, every benchmarked op) on the emulator with tiny shapes, so the first GPU run does not find its bugs. */
class GpuBenchSmokeTest {
    @Test
    void benchmarkRunsAndPrintsATableWithoutLeaking() {
        CudaDevice d = Emulator.device();
        long live = d.liveBytes();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        GpuBench.run(d, new PrintStream(buf, true, StandardCharsets.UTF_8), true);
        String table = buf.toString(StandardCharsets.UTF_8);
        for (String op : new String[] {"sgemm", "add", "bias_add_grad", "bias_add", "batch_norm train fwd", "batch_norm train bwd",
            "max_pool 3x3/2", "softmax", "depthwise 3x3 fwd", "depthwise 3x3 bwd input", "depthwise 3x3 bwd filter",
            "conv fwd fp32", "conv bwd-input fp32", "conv bwd-filter tf32"}) {
            assertTrue(table.contains("| " + op + " |"), op + " in\n" + table);
        }
        assertEquals(live, d.liveBytes(), "the benchmark frees everything it allocates");
    }
}
