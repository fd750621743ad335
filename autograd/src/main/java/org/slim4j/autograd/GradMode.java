package org.slim4j.autograd;

/**
 * Whether ops record the graph for backward. Evaluation runs under {@link #noGrad()}, which saves
 * the memory of saved intermediates: {@code try (var g = GradMode.noGrad()) { ... }}.
 */
public final class GradMode {
    private static final ThreadLocal<int[]> DISABLED = ThreadLocal.withInitial(() -> new int[1]);

    private GradMode() {
    }

    public static boolean isEnabled() {
        return DISABLED.get()[0] == 0;
    }

    /** Turns recording off on this thread until the returned guard is closed. Nestable. */
    public static Guard noGrad() {
        DISABLED.get()[0]++;
        return new Guard();
    }

    /** Restores the previous grad mode when closed. */
    public static final class Guard implements AutoCloseable {
        private boolean closed;

        private Guard() {
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                DISABLED.get()[0]--;
            }
        }
    }
}
