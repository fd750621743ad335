package org.slim4j.cuda;

import java.util.Locale;

/**
 * The host's cost of one kernel launch on cuda:0, for a GPU machine: {@code binary_flat_f32} (7
 * parameters) on 256 elements, 20,000 times after 2,000 warm-up launches; prints the microseconds a
 * launch takes to queue and the time until the stream drains. Run it with
 * {@code -Dslim4j.cuda.packedParams=false} too to compare JCuda's per-parameter marshalling with
 * the packed block ({@link LaunchParams}).
 */
public final class LaunchProbe {
    private LaunchProbe() {
    }

    public static void main(String[] args) {
        int launches = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        JCudaDriverApi driver = JCudaDriverApi.open(0);
        long a = driver.malloc(1024);
        long b = driver.malloc(1024);
        long out = driver.malloc(1024);
        try {
            for (int round = 0; round < 3; round++) {
                int n = round == 0 ? 2_000 : launches;
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    driver.launch("elementwise", "binary_flat_f32", 1, 1, 1, 256, 1, 1, 0,
                            new KernelArgs().i32(0).i32(256).ptr(out).ptr(a).i32(1).ptr(b).i32(1));
                }
                long t1 = System.nanoTime();
                driver.synchronize();
                long t2 = System.nanoTime();
                if (round > 0) {
                    System.out.printf(Locale.ROOT, "LaunchProbe (packedParams=%s): %d launches, %.2f us each to queue, drained %.1f ms later%n",
                            JCudaDriverApi.PACKED_PARAMS, n, (t1 - t0) / 1e3 / n, (t2 - t1) / 1e6);
                }
            }
        } finally {
            driver.free(a);
            driver.free(b);
            driver.free(out);
            driver.close();
        }
    }
}
