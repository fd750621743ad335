package org.slim4j.cuda.vendor;

import java.net.URL;
import java.nio.file.Path;
import java.util.Map;
import java.util.WeakHashMap;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcudnn.JCudnn;
import jcuda.jcudnn.cudnnHandle;
import jcuda.runtime.cudaStream_t;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaStorage;
import org.slim4j.cuda.VendorLibraries;
import org.slim4j.tensor.Tensor;

/**
 * cuDNN 9 through JCudnn, probed and loaded once per JVM, never throwing: either it loaded (the
 * libcudnn.so.9 file, the JCudnn native library and the jar it came from, cuDNN's version) or why
 * not and the fix.
 *
 * <p>How it binds: no jcudnn 12.x Java jar is published, but JCudnn 11.7.0's classes load the native
 * library named {@code JCudnn-} + jcuda's version, i.e. {@code libJCudnn-12.6.0-linux-x86_64.so} from
 * jcudnn-natives 12.6.0, which was built against cuDNN 9 and links {@code libcudnn.so.9}. libcudnn.so.9
 * is first loaded by absolute path ({@link VendorLibraries#probeCudnn()}), so the natives find it by
 * soname even when its folder is not on LD_LIBRARY_PATH. The 11.7 classes also declare 55 cuDNN 8
 * functions that cuDNN 9 removed (the v6 RNN API, algorithm descriptors, per-sub-library version
 * checks); the 12.6 natives lack them, so they would fail when called, and slim4j calls none of them.
 */
public final class CudnnLibrary {
    /**
     * The probe's outcome.
     *
     * @param version   cudnnGetVersion() (9.x: major * 10000 + minor * 100 + patch), 0 when not loaded
     * @param libcudnn  the libcudnn.so.9 file that was loaded, or null
     * @param natives   where JCudnn's native library came from (a jar URL), or null
     */
    public record Status(boolean loaded, long version, Path libcudnn, String natives, String problem, String fix) {
        /** "9.10.2" for 91002 (cuDNN 9's encoding) or 8907 (cuDNN 8's). */
        public String versionText() {
            return versionText(version);
        }

        public static String versionText(long v) {
            if (v >= 10000) return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
            return (v / 1000) + "." + (v / 100 % 10) + "." + (v % 100);
        }

        /** One line for doctor and error messages. */
        public String describe() {
            if (loaded) return "cuDNN " + versionText() + " loaded from " + libcudnn + " through " + natives;
            return problem + (fix == null ? "" : "; fix: " + fix);
        }
    }

    private static Status status;
    private static final Map<CudaDevice, cudnnHandle> HANDLES = new WeakHashMap<>();

    private CudnnLibrary() {
    }

    /** Probes and loads cuDNN on the first call; later calls return the same result. */
    public static synchronized Status status() {
        if (status == null) status = load(VendorLibraries.probeCudnn());
        return status;
    }

    /** The native library's platform name, e.g. JCudnn-12.6.0-linux-x86_64 (what JCudnn 11.7.0's classes load). */
    static String nativeLibraryName() {
        return LibUtils.createPlatformLibraryName("JCudnn-" + JCudaVersion.get());
    }

    static Status load(VendorLibraries.Status lib) {
        try {
            Class.forName("jcuda.jcudnn.JCudnn", false, CudnnLibrary.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return new Status(false, 0, lib.file(), null, "JCudnn's classes (org.jcuda:jcudnn:11.7.0) are not on the class path",
                    "put jcudnn-11.7.0.jar on the class path (tools/target/lib and bench/gpu/pack.sh's .devlib carry it)");
        }
        String name = nativeLibraryName();
        String resource = "/lib/" + System.mapLibraryName(name);
        URL url = CudnnLibrary.class.getResource(resource);
        if (url == null) {
            return new Status(false, 0, lib.file(), null, "JCudnn's native library " + resource + " is not on the class path",
                    "put org.jcuda:jcudnn-natives:" + JCudaVersion.get() + ":linux-x86_64 on the class path (it must match jcuda "
                            + JCudaVersion.get() + ")");
        }
        long version;
        try {
            JCudnn.setExceptionsEnabled(false);
            version = JCudnn.cudnnGetVersion();
        } catch (LinkageError e) {
            String why = rootMessage(e);
            if (!lib.loaded()) {
                return new Status(false, 0, null, url.toString(), lib.problem() + "; " + name + " did not load: " + why, lib.fix());
            }
            return new Status(false, 0, lib.file(), url.toString(), name + " (from " + url + ") did not load: " + why,
                    "put the folder of " + lib.file() + " and its dependencies on LD_LIBRARY_PATH");
        }
        Path file = lib.loaded() ? lib.file() : null;
        if (version < 90000 || version >= 100000) {
            return new Status(false, version, file, url.toString(), "cuDNN " + Status.versionText(version) + " is loaded, but "
                    + name + " needs cuDNN 9 (libcudnn.so.9)", lib.fix());
        }
        return new Status(true, version, file != null ? file : Path.of("libcudnn.so.9 (found by the dynamic loader)"), url.toString(), null, null);
    }

    /**
     * The loader's own words: JCuda's message nests both load attempts' stack traces; the line that
     * says why the extracted library did not load (a missing soname, an undefined symbol) is kept.
     */
    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) c = c.getCause();
        String m = c.getMessage();
        if (m == null) return c.getClass().getSimpleName();
        for (String line : m.split("\n")) {
            if (line.contains("cannot open shared object file") || line.contains("undefined symbol") || line.contains("version `")) {
                return line.replace("java.lang.UnsatisfiedLinkError: ", "").trim();
            }
        }
        return c.getClass().getSimpleName() + ": " + m.split("\n")[0];
    }

    /** One cuDNN handle per device, bound to the device's stream; made on first use (inside {@link CudaDevice#onStream}). */
    static cudnnHandle handle(CudaDevice device, CUstream stream) {
        synchronized (HANDLES) {
            cudnnHandle h = HANDLES.get(device);
            if (h == null) {
                h = new cudnnHandle();
                check(JCudnn.cudnnCreate(h), "cudnnCreate", "creating the cuDNN handle of " + device.name());
                check(JCudnn.cudnnSetStream(h, new cudaStream_t(stream)), "cudnnSetStream", "binding cuDNN to the stream of " + device.name());
                HANDLES.put(device, h);
            }
            return h;
        }
    }

    /** Device address of a tensor's first element as a JCuda pointer (a null pointer for null). */
    static Pointer at(Tensor t) {
        if (t == null) return new Pointer();
        long address = ((CudaStorage) t.storage()).pointer() + (long) t.offset() * t.dtype().byteSize();
        return new CUdeviceptr().withByteOffset(address);
    }

    /** Throws when a cuDNN call did not succeed, naming the function, cuDNN's message and what was being done. */
    static void check(int status, String function, String what) {
        if (status != 0) {
            throw new IllegalStateException(function + " failed: " + JCudnn.cudnnGetErrorString(status) + " (status " + status + ") in " + what);
        }
    }
}
