package org.slim4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OpProfilerTest {
    /** A kernel family for the test: one op that calls another through the profiled path. */
    interface Twice {
        int twice(int x);

        int quadruple(Twice self, int x);
    }

    static class TwiceImpl implements Twice {
        @Override
        public int twice(int x) {
            return 2 * x;
        }

        @Override
        public int quadruple(Twice self, int x) {
            return self.twice(self.twice(x));
        }
    }

    @Test
    void countsOuterCallsOnlyAndReturnsResults() {
        Twice impl = new TwiceImpl();
        assertSame(impl, OpProfiler.wrapIfActive(Twice.class, impl, CpuDevice.INSTANCE), "no profiler: the implementation itself");
        OpProfiler p = OpProfiler.start();
        try {
            Twice t = OpProfiler.wrapIfActive(Twice.class, impl, CpuDevice.INSTANCE);
            assertEquals(6, t.twice(3));
            assertEquals(12, t.quadruple(t, 3));
        } finally {
            p.stop();
        }
        assertEquals(1, p.stats().get("Twice.twice").calls(), "nested calls count in the outer op");
        assertEquals(1, p.stats().get("Twice.quadruple").calls());
        String table = p.table(1_000_000_000L, 1);
        assertTrue(table.contains("| Twice.quadruple | 1.0 |") && table.contains("(outside kernels)"), table);
        assertSame(impl, OpProfiler.wrapIfActive(Twice.class, impl, CpuDevice.INSTANCE), "stopped: no wrapping");
    }

    @Test
    void exceptionsPassThroughUnwrapped() {
        OpProfiler p = OpProfiler.start();
        try {
            Twice bad = OpProfiler.wrapIfActive(Twice.class, new TwiceImpl() {
                @Override
                public int twice(int x) {
                    throw new IllegalArgumentException("twice: x");
                }
            }, CpuDevice.INSTANCE);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> bad.twice(1));
            assertEquals("twice: x", e.getMessage());
        } finally {
            p.stop();
        }
    }
}
