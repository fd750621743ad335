package org.slim4j.cuda.vendor;

import java.lang.reflect.Proxy;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.GpuDriver;

/** A CudaDevice whose driver refuses every call: enough to exercise kernel selection without a GPU or the emulator. */
final class FakeDriver {
    private FakeDriver() {
    }

    static CudaDevice device(String name) {
        GpuDriver driver = (GpuDriver) Proxy.newProxyInstance(GpuDriver.class.getClassLoader(), new Class<?>[] {GpuDriver.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("toString")) return name;
                    throw new UnsupportedOperationException("fake driver: " + method.getName());
                });
        return CudaDevice.withDriver(name, driver);
    }
}
