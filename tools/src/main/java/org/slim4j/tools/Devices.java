package org.slim4j.tools;

import java.util.List;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Device;

/** Resolves a {@code --device} flag value. Add accelerators here as their backends appear. */
public final class Devices {
    /** The device names {@link #byName} knows. */
    public static final List<String> NAMES = List.of("cpu");

    private Devices() {
    }

    public static Device byName(String name, String command) throws UsageException {
        if (name.equals("cpu")) return CpuDevice.INSTANCE;
        throw new UsageException(command + ": invalid value '" + name + "' for flag --device: unknown device (known: " + String.join(", ", NAMES) + ")");
    }
}
