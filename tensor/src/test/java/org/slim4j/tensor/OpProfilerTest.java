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

    /** A family whose op takes tensors. */
    interface Sum {
        float sum(Tensor a, int scale);
    }

    @Test
    void byShapeSplitsAnOpByItsTensorArgumentsShapes() {
        Sum impl = (a, scale) -> scale * a.shape().numel();
        try (Tensor small = Tensor.zeros(2, 3); Tensor big = Tensor.zeros(4, 5, 6)) {
            OpProfiler p = OpProfiler.start(true);
            try {
                Sum s = OpProfiler.wrapIfActive(Sum.class, impl, CpuDevice.INSTANCE);
                assertEquals(12f, s.sum(small, 2));
                s.sum(small, 1);
                s.sum(big, 1);
            } finally {
                p.stop();
            }
            assertEquals(2, p.stats().get("Sum.sum [2, 3]").calls());
            assertEquals(1, p.stats().get("Sum.sum [4, 5, 6]").calls());
            assertEquals(2, p.stats().size(), p.stats().keySet().toString());
            OpProfiler plain = OpProfiler.start();
            try {
                OpProfiler.wrapIfActive(Sum.class, impl, CpuDevice.INSTANCE).sum(big, 1);
            } finally {
                plain.stop();
            }
            assertEquals(1, plain.stats().get("Sum.sum").calls(), "without byShape: one row per op");
        }
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

    /** A CPU device with a virtual clock: kernels advance it, marks read it, syncs are counted. */
    static final class ClockedDevice implements Device, DeviceClock {
        double nowMillis;
        int syncs;
        int openMarks;

        /** A timestamp of the virtual clock. */
        final class VirtualMark implements Mark {
            final double at = nowMillis;

            VirtualMark() {
                openMarks++;
            }

            @Override
            public double millisSince(Mark earlier) {
                return at - ((VirtualMark) earlier).at;
            }

            @Override
            public void close() {
                openMarks--;
            }
        }

        @Override
        public Mark mark() {
            return new VirtualMark();
        }

        @Override
        public String name() {
            return "clocked";
        }

        @Override
        public Storage allocate(DType dtype, int length) {
            return CpuDevice.INSTANCE.allocate(dtype, length);
        }

        @Override
        public void copyFromHost(Object hostArray, int hostOffset, Storage dst, int dstOffset, int length) {
            CpuDevice.INSTANCE.copyFromHost(hostArray, hostOffset, dst, dstOffset, length);
        }

        @Override
        public void copyToHost(Storage src, int srcOffset, Object hostArray, int hostOffset, int length) {
            CpuDevice.INSTANCE.copyToHost(src, srcOffset, hostArray, hostOffset, length);
        }

        @Override
        public void copy(Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
            CpuDevice.INSTANCE.copy(src, srcOffset, dst, dstOffset, length);
        }

        @Override
        public void sync() {
            syncs++;
        }

        @Override
        public long liveBytes() {
            return 0;
        }

        @Override
        public long liveAllocations() {
            return 0;
        }
    }

    @Test
    void aDeviceWithAClockIsTimedByItsMarksWithoutSyncing() {
        ClockedDevice dev = new ClockedDevice();
        Twice impl = new TwiceImpl() {
            @Override
            public int twice(int x) {
                dev.nowMillis += 2.5;  // the "device" spends 2.5 ms per call
                return 2 * x;
            }
        };
        OpProfiler p = OpProfiler.start();
        try {
            Twice t = OpProfiler.wrapIfActive(Twice.class, impl, dev);
            assertEquals(6, t.twice(3));
            assertEquals(12, t.quadruple(t, 3));
            dev.nowMillis += 100;  // time between calls is not any op's
        } finally {
            p.stop();
        }
        assertTrue(p.deviceClock());
        assertEquals(0, dev.syncs, "device-clock profiling never waits for the device");
        assertEquals(0, dev.openMarks, "every mark is closed once read");
        assertEquals(1, p.stats().get("Twice.twice").calls());
        assertEquals(2_500_000L, p.stats().get("Twice.twice").nanos());
        assertEquals(5_000_000L, p.stats().get("Twice.quadruple").nanos(), "nested calls' device time counts in the outer op");
        String table = p.table(107_500_000L, 1);
        assertTrue(table.contains("| Twice.quadruple | 1.0 | 5.000 |") && table.contains("| (rest of the step: device idle or outside kernel calls) | | 100.000 |"),
            table);
    }
}
