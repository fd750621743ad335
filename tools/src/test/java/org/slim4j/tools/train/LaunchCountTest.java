package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.RecordingDriver;
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
 * are structural properties worth guarding. A driver that runs nothing and counts
 * ({@link RecordingDriver}) takes ResNet-50's whole training step (the counts do not depend on
 * the image size or batch).
 */
class LaunchCountTest {
    @Test
    void resnet50TrainingStepLaunchesBatchedAndFusedKernels() {
        RecordingDriver driver = new RecordingDriver(64L << 30);
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
                driver.launchCounts.clear();
                step.run(x, y, 0.01, 1);
            }
        } finally {
            device.shutdown();
        }
        String counts = driver.launchCounts.toString();
        assertEquals(1, driver.launches("apply_momentum_multi_f32"), "one momentum launch for all 161 variables: " + counts);
        assertEquals(0, driver.launches("apply_momentum_f32"), counts);
        assertEquals(1, driver.launches("l2_multi_partial_f32"), "the L2 loss of all 53 weights in two launches: " + counts);
        assertEquals(1, driver.launches("l2_multi_finish_f32"), counts);
        // 53 batch norms, two moving statistics each, one launch per statistic.
        assertEquals(106, driver.launches("moving_average_f32"), counts);
        // The 16 residual blocks' relu(shortcut + residual), one kernel each.
        assertEquals(16, driver.launches("add_act_f32") + driver.launches("add_act_vec4_f32"), counts);
        // 802 when this test was written (1349 before the batching); a margin for small changes.
        assertTrue(driver.totalLaunches() <= 820, "launches per ResNet-50 training step: " + driver.totalLaunches() + " " + counts);
    }
}
