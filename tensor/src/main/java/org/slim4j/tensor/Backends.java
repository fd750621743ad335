package org.slim4j.tensor;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Finds the backend that computes on a device; backends announce themselves through ServiceLoader. */
public final class Backends {
    /** Implemented by each backend module and listed in META-INF/services. */
    public interface Provider {
        /** The backend for {@code device}, or null when this provider does not serve it. */
        Backend backendFor(Device device);
    }

    private static final Map<Device, Backend> CACHE = new ConcurrentHashMap<>();

    private Backends() {
    }

    public static Backend forDevice(Device device) {
        return CACHE.computeIfAbsent(device, d -> {
            for (Provider p : ServiceLoader.load(Provider.class)) {
                Backend b = p.backendFor(d);
                if (b != null) return b;
            }
            throw new IllegalStateException("no compute backend for device " + d.name() + " (is slim4j-kernels on the class path?)");
        });
    }

    /** The kernel family {@code family} on the device that holds {@code t}. */
    public static <K> K kernels(Tensor t, Class<K> family) {
        Device d = t.device();
        return OpProfiler.wrapIfActive(family, forDevice(d).kernels(family), d);
    }
}
