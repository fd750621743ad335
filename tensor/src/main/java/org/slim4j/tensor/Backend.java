package org.slim4j.tensor;

/**
 * The compute side of a device: a registry of kernel families. Each op family (convolution,
 * pooling, ...) is its own small interface in the kernels module; a backend hands out its
 * implementation of a family, so adding a device means implementing families, not one huge API.
 */
public interface Backend {
    Device device();

    /** This backend's implementation of a kernel family, or an exception naming what is missing. */
    <K> K kernels(Class<K> family);

    /** Whether this backend implements {@code family}. */
    boolean supports(Class<?> family);
}
