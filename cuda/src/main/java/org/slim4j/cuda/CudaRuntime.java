package org.slim4j.cuda;

import java.util.List;

/**
 * Finds the NVIDIA driver and GPUs, once, without ever throwing: on a machine without a driver,
 * without a GPU, or without JCuda's native library, {@link #probe()} returns {@code available =
 * false} and a reason a person can act on. All JCuda calls live in {@link JCudaDriverApi}, which
 * this class touches only inside a catch-all, so a missing jar or libcuda.so.1 cannot escape.
 */
public final class CudaRuntime {
    /** One GPU as the driver reports it. */
    public record GpuInfo(int ordinal, String name, int computeMajor, int computeMinor, long totalMemoryBytes,
                          int multiprocessors) {
        @Override
        public String toString() {
            return "cuda:" + ordinal + " " + name + " (sm_" + computeMajor + computeMinor + ", " + multiprocessors + " SMs, "
                    + CudaOutOfMemoryError.human(totalMemoryBytes) + ")";
        }
    }

    /** What the probe found: the driver's CUDA version (e.g. 13000) and the GPUs, or why there are none. */
    public record Probe(boolean available, String reason, int driverVersion, List<GpuInfo> gpus) {
        /** "13.0" from 13000. */
        public String driverCudaVersion() {
            return driverVersion <= 0 ? "unknown" : (driverVersion / 1000) + "." + (driverVersion % 1000) / 10;
        }
    }

    private static Probe cached;

    private CudaRuntime() {
    }

    /** The result of looking for CUDA (computed on the first call). Never throws. */
    public static synchronized Probe probe() {
        if (cached == null) {
            try {
                cached = JCudaDriverApi.discover();
            } catch (Throwable t) {
                cached = new Probe(false, explain(t), -1, List.of());
            }
        }
        return cached;
    }

    /** Turns a loading failure into a reason with the fix. */
    static String explain(Throwable t) {
        Throwable root = t;
        StringBuilder chain = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            root = c;
            if (c.getMessage() != null) chain.append(c.getMessage()).append(' ');
        }
        String all = chain.toString();
        // JCuda's message holds nested stack traces; the line that names the missing library is the useful one.
        java.util.regex.Matcher missing = java.util.regex.Pattern.compile("([\\w.+-]+\\.so[.\\d]*): cannot open shared object file").matcher(all);
        if (missing.find()) {
            String lib = missing.group(1);
            if (lib.startsWith("libcuda.so")) {
                return "the NVIDIA driver library " + lib + " is not installed or not on the loader path (no NVIDIA driver on this"
                        + " machine?): install the NVIDIA driver, which ships libcuda.so.1";
            }
            return "JCuda's native library needs " + lib + ", which is missing: " + missing.group();
        }
        if (t instanceof NoClassDefFoundError || root instanceof ClassNotFoundException) {
            return "JCuda is not on the class path (org.jcuda:jcuda and org.jcuda:jcuda-natives:linux-x86_64): " + firstLine(all);
        }
        if (t instanceof UnsatisfiedLinkError || root instanceof UnsatisfiedLinkError) {
            return "JCuda's native library did not load (JCuda ships natives for linux-x86_64 only): " + firstLine(all);
        }
        return t.getClass().getSimpleName() + ": " + firstLine(all);
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
