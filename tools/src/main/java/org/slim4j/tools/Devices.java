package org.slim4j.tools;

import java.util.List;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Device;

/** Resolves a {@code --device} flag value: {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}. */
public final class Devices {
    /** The device names {@link #byName} knows. */
    public static final List<String> NAMES = List.of("cpu", "cuda", "cuda:N");

    private Devices() {
    }

    public static Device byName(String name, String command) throws UsageException {
        if (name.equals("cpu")) return CpuDevice.INSTANCE;
        if (name.equals("cuda") || name.startsWith("cuda:")) {
            int ordinal;
            try {
                ordinal = name.equals("cuda") ? 0 : Integer.parseInt(name.substring(5));
            } catch (NumberFormatException e) {
                throw new UsageException(command + ": invalid value '" + name + "' for flag --device: expected cuda:N with N a GPU index");
            }
            try {
                return CudaDevice.open(ordinal);
            } catch (IllegalStateException e) {
                // Unavailable CUDA is a failure of the run, not of the command line: say why (doctor has details).
                throw new IllegalStateException(command + ": --device=" + name + ": " + e.getMessage() + " (run ./slim4j doctor for details)", e);
            }
        }
        throw new UsageException(command + ": invalid value '" + name + "' for flag --device: unknown device (known: " + String.join(", ", NAMES) + ")");
    }
}
