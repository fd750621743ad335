package org.slim4j.cuda;

/**
 * The GPU has no room for an allocation even after slim4j returned its cached blocks. The message
 * says how much was asked, how much the device has free, how much slim4j holds, and what to do.
 */
public final class CudaOutOfMemoryError extends RuntimeException {
    private final long requestedBytes;
    private final long freeBytes;
    private final long totalBytes;
    private final long heldBytes;

    public CudaOutOfMemoryError(String device, long requestedBytes, long freeBytes, long totalBytes, long heldBytes) {
        super(device + " is out of memory: asked for " + human(requestedBytes) + ", "
                + (freeBytes >= 0 ? human(freeBytes) + " free of " + human(totalBytes) : "free memory unknown")
                + ", slim4j holds " + human(heldBytes) + ". Reduce the batch size (memory grows about linearly with"
                + " it: half the batch needs roughly half the activation memory), use a smaller model or image size,"
                + " or free the GPU from other processes (nvidia-smi lists them).");
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
        this.totalBytes = totalBytes;
        this.heldBytes = heldBytes;
    }

    public long requestedBytes() {
        return requestedBytes;
    }

    public long freeBytes() {
        return freeBytes;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public long heldBytes() {
        return heldBytes;
    }

    /** Bytes in B / KiB / MiB / GiB with one decimal. */
    public static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
