package org.slim4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/**
 * Base of the CPU kernel tests: tensors a test makes through {@link #own} are closed after it, and
 * then the CPU device must hold exactly the bytes it held before the test, so anything a kernel
 * leaks fails the test that leaked it.
 */
public abstract class OwnedTensors {
    private final List<Tensor> owned = new ArrayList<>();
    private long liveBefore;

    @BeforeEach
    protected final void recordLive() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    protected final void closeAndCheckLeaks() {
        owned.forEach(Tensor::close);
        owned.clear();
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    /** Closes {@code t} after the test; returns it. */
    protected final Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }
}
