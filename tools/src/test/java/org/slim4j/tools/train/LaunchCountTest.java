package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.GpuDriver;
import org.slim4j.cuda.KernelArgs;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * How many kernels a CUDA training step launches: on a GPU each launch costs the host several
 * microseconds and the GPU a gap, so the batched and fused paths (one momentum launch for all
 * variables, the L2 loss of all weights in two, one launch per moving statistic, add + relu in one)
 * are structural properties worth guarding. A driver that launches nothing and counts runs
 * ResNet-50's whole training step (the counts do not depend on the image size or batch).
 */
class LaunchCountTest {
    /** A GpuDriver that allocates addresses, launches nothing and counts launches by kernel name. */
    static final class CountingDriver implements GpuDriver {
        final Map<String, Integer> launches = new TreeMap<>();
        private long next = 1L << 32;

        @Override
        public String describe() {
            return "counting driver (launches nothing)";
        }

        @Override
        public long[] memoryInfo() {
            return new long[] {64L << 30, 64L << 30};
        }

        @Override
        public long malloc(long bytes) {
            long p = next;
            next += (bytes + 511) & ~511L;
            return p;
        }

        @Override
        public void free(long ptr) {
        }

        @Override
        public HostBuffer mallocHost(int bytes) {
            ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            return new HostBuffer() {
                @Override
                public ByteBuffer buffer() {
                    return b;
                }

                @Override
                public int capacity() {
                    return bytes;
                }
            };
        }

        @Override
        public void freeHost(HostBuffer buffer) {
        }

        @Override
        public void copyHostToDevice(long dst, HostBuffer src, int srcOffset, long bytes) {
        }

        @Override
        public void copyDeviceToHost(HostBuffer dst, int dstOffset, long src, long bytes) {
            for (int i = 0; i < bytes; i++) dst.buffer().put(dstOffset + i, (byte) 0);  // reads back zeros (a finite loss)
        }

        @Override
        public void copyDeviceToDevice(long dst, long src, long bytes) {
        }

        @Override
        public void memset32(long dst, int value, long count) {
        }

        @Override
        public void memset8(long dst, byte value, long count) {
        }

        @Override
        public void launch(String module, String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                           int sharedBytes, KernelArgs args) {
            launches.merge(kernel, 1, Integer::sum);
        }

        @Override
        public void synchronize() {
        }

        @Override
        public GpuEvent recordEvent() {
            return new GpuEvent() {
                @Override
                public void synchronize() {
                }

                @Override
                public float elapsedMillisSince(GpuEvent start) {
                    return 0;
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void close() {
        }

        int total() {
            return launches.values().stream().mapToInt(Integer::intValue).sum();
        }

        int count(String kernel) {
            return launches.getOrDefault(kernel, 0);
        }
    }

    @Test
    void resnet50TrainingStepLaunchesBatchedAndFusedKernels() {
        CountingDriver driver = new CountingDriver();
        CudaDevice device = CudaDevice.withDriver("counting:0", driver);
        device.configure(CudaOptions.parse("builtin", "tf32"));
        NetworkFn fn = Nets.get("resnet_v1_50");
        int classes = 10;
        int size = 64;
        int batch = 2;
        try (VariableStore store = new VariableStore(1, device); Momentum opt = new Momentum(0.9)) {
            NetRunner.createVariables(fn, store, classes, 4e-5, size, size, 3, true);
            opt.createSlots(store.trainableVars());
            TrainStep step = new TrainStep(fn, store, classes, 4e-5, 0.0, 1, opt, store.trainableVars());
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = Tensor.zeros(device, DType.FLOAT32, Shape.of(batch, size, size, 3));
                Tensor y = Tensor.zeros(device, DType.FLOAT32, Shape.of(batch, classes));
                step.run(x, y, 0.01, 0);  // the first step may set things up
                driver.launches.clear();
                step.run(x, y, 0.01, 1);
            }
        } finally {
            device.shutdown();
        }
        String counts = driver.launches.toString();
        assertEquals(1, driver.count("apply_momentum_multi_f32"), "one momentum launch for all 161 variables: " + counts);
        assertEquals(0, driver.count("apply_momentum_f32"), counts);
        assertEquals(1, driver.count("l2_multi_partial_f32"), "the L2 loss of all 53 weights in two launches: " + counts);
        assertEquals(1, driver.count("l2_multi_finish_f32"), counts);
        // 53 batch norms, two moving statistics each, one launch per statistic.
        assertEquals(106, driver.count("moving_average_f32"), counts);
        // The 16 residual blocks' relu(shortcut + residual), one kernel each.
        assertEquals(16, driver.count("add_act_f32") + driver.count("add_act_vec4_f32"), counts);
        // 802 when this test was written (1349 before the batching); a margin for small changes.
        assertTrue(driver.total() <= 820, "launches per ResNet-50 training step: " + driver.total() + " " + counts);
    }
}
