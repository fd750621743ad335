package org.slim4j.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuFuncGetAttribute;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyPeerAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * {@link GpuDriver} on a real GPU through JCuda's driver API (JCuda binds only libcuda.so.1, so it
 * works with any recent driver, CUDA 12 or 13). One primary context and one non-blocking stream
 * per device; PTX modules are read from the class path ({@code /ptx/<module>.ptx}) and JIT-compiled
 * by the driver on first use. The context is made current on each calling thread once.
 *
 * <p>Error codes are checked on every call and turned into exceptions naming the function and
 * the CUresult; JCuda's own exceptions stay disabled so discovery can inspect codes.
 */
final class JCudaDriverApi implements GpuDriver {
    /** CUDA_ERROR_SYSTEM_DRIVER_MISMATCH (user-space driver and kernel module differ); not in JCuda 12.6's CUresult. */
    private static final int CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803;
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    /** Dynamic shared memory each kernel has been allowed (module/kernel -> bytes), for those above 48 KiB. */
    private final Map<String, Integer> sharedAllowed = new HashMap<>();
    /** Dynamic shared memory a kernel may take without opting in. */
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;
    /** The device's shared memory per SM (bytes), read on the first opt-in. */
    private int sharedPerSm;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private final String description;

    /** A device pointer whose address can be read back (JCuda keeps it in a protected field). */
    private static final class Address extends CUdeviceptr {
        long value() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** A host pointer whose address can be read back. */
    private static final class HostAddress extends Pointer {
        long value() {
            return getNativePointer() + getByteOffset();
        }
    }

    private record PinnedBuffer(Pointer pointer, ByteBuffer buffer, int capacity) implements HostBuffer {
    }

    /**
     * Whether launches pass their parameters packed in one block ({@link LaunchParams}); the
     * system property slim4j.cuda.packedParams=false passes them one Pointer each, as JCuda's
     * examples do (for comparing the host cost of the two).
     */
    static final boolean PACKED_PARAMS = !"false".equals(System.getProperty("slim4j.cuda.packedParams"));
    /** The block the launches pack their parameters into (page-locked), and a view of it. */
    private final HostAddress params = new HostAddress();
    private final ByteBuffer paramBuffer;

    private final class Event implements GpuEvent {
        final CUevent event = new CUevent();

        Event() {
            bind();
            check(cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
            check(cuEventRecord(event, stream), "cuEventRecord");
        }

        @Override
        public void synchronize() {
            bind();
            check(cuEventSynchronize(event), "cuEventSynchronize");
        }

        @Override
        public float elapsedMillisSince(GpuEvent start) {
            float[] ms = new float[1];
            check(cuEventElapsedTime(ms, ((Event) start).event, event), "cuEventElapsedTime");
            return ms[0];
        }

        @Override
        public void close() {
            cuEventDestroy(event);
        }
    }

    private JCudaDriverApi(int ordinal) {
        this.ordinal = ordinal;
        JCudaDriver.setExceptionsEnabled(false);
        check(cuInit(0), "cuInit");
        check(cuDeviceGet(device, ordinal), "cuDeviceGet");
        check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        bind();
        check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        check(cuMemAllocHost(params, LaunchParams.BYTES), "cuMemAllocHost(kernel parameters)");
        paramBuffer = params.getByteBuffer(0, LaunchParams.BYTES).order(ByteOrder.nativeOrder());
        CudaRuntime.GpuInfo info = info(ordinal, device);
        int[] version = new int[1];
        cuDriverGetVersion(version);
        this.description = info + ", driver CUDA " + new CudaRuntime.Probe(true, "", version[0], List.of()).driverCudaVersion();
    }

    static JCudaDriverApi open(int ordinal) {
        return new JCudaDriverApi(ordinal);
    }

    /** Loads JCuda (and so libcuda.so.1), initialises the driver and lists the GPUs. */
    static CudaRuntime.Probe discover() {
        JCudaDriver.setExceptionsEnabled(false);
        int r = cuInit(0);
        int[] version = new int[1];
        cuDriverGetVersion(version);
        if (r != CUresult.CUDA_SUCCESS) {
            String why = switch (r) {
                case CUresult.CUDA_ERROR_NO_DEVICE -> "the NVIDIA driver is installed but reports no CUDA-capable GPU";
                case CUresult.CUDA_ERROR_STUB_LIBRARY -> "libcuda.so.1 is the CUDA toolkit's stub, not a real driver: install the NVIDIA driver";
                case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH -> "the driver's libcuda.so.1 and its kernel module have different versions: reboot, or reinstall the driver";
                default -> "cuInit failed";
            };
            return new CudaRuntime.Probe(false, why + " (cuInit: " + CUresult.stringFor(r) + ")", version[0], List.of());
        }
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) return new CudaRuntime.Probe(false, "the NVIDIA driver reports no CUDA-capable GPU", version[0], List.of());
        List<CudaRuntime.GpuInfo> gpus = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            CUdevice d = new CUdevice();
            check(cuDeviceGet(d, i), "cuDeviceGet");
            gpus.add(info(i, d));
        }
        return new CudaRuntime.Probe(true, "", version[0], List.copyOf(gpus));
    }

    private static CudaRuntime.GpuInfo info(int ordinal, CUdevice d) {
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, d), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        long[] mem = new long[1];
        check(cuDeviceTotalMem(mem, d), "cuDeviceTotalMem");
        return new CudaRuntime.GpuInfo(ordinal, new String(name, 0, len, StandardCharsets.UTF_8),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), mem[0],
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    private static int attribute(CUdevice d, int attribute) {
        int[] v = new int[1];
        check(cuDeviceGetAttribute(v, attribute, d), "cuDeviceGetAttribute");
        return v[0];
    }

    static void check(int result, String function) {
        if (result != CUresult.CUDA_SUCCESS) {
            String hint = result == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                    ? " (the committed PTX needs a newer driver: PTX from CUDA 13's nvcc needs driver >= 580; regenerate it with"
                      + " this machine's nvcc: NVCC=/path/to/nvcc cuda/build-ptx.sh --force)"
                    : "";
            throw new IllegalStateException(function + " failed: " + CUresult.stringFor(result) + hint);
        }
    }

    /** The stream all of this device's work is queued on, with the context made current (for cuDNN, which queues on it too). */
    CUstream boundStream() {
        bind();
        return stream;
    }

    /** Makes the context current on the calling thread (once per thread). */
    private void bind() {
        if (!current.get()) {
            check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            current.set(Boolean.TRUE);
        }
    }

    private static CUdeviceptr at(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public long[] memoryInfo() {
        bind();
        long[] free = new long[1];
        long[] total = new long[1];
        check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    @Override
    public long malloc(long bytes) {
        bind();
        Address p = new Address();
        int r = cuMemAlloc(p, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) throw new OutOfDeviceMemory("cuMemAlloc of " + bytes + " bytes: out of memory");
        check(r, "cuMemAlloc");
        return p.value();
    }

    @Override
    public void free(long ptr) {
        bind();
        check(cuMemFree(at(ptr)), "cuMemFree");
    }

    @Override
    public HostBuffer mallocHost(int bytes) {
        bind();
        HostAddress p = new HostAddress();
        check(cuMemAllocHost(p, bytes), "cuMemAllocHost");
        return new PinnedBuffer(p, p.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()), bytes);
    }

    @Override
    public void freeHost(HostBuffer buffer) {
        bind();
        check(cuMemFreeHost(((PinnedBuffer) buffer).pointer()), "cuMemFreeHost");
    }

    @Override
    public void copyHostToDevice(long dst, HostBuffer src, int srcOffset, long bytes) {
        bind();
        check(cuMemcpyHtoDAsync(at(dst), ((PinnedBuffer) src).pointer().withByteOffset(srcOffset), bytes, stream), "cuMemcpyHtoDAsync");
    }

    @Override
    public void copyDeviceToHost(HostBuffer dst, int dstOffset, long src, long bytes) {
        bind();
        check(cuMemcpyDtoHAsync(((PinnedBuffer) dst).pointer().withByteOffset(dstOffset), at(src), bytes, stream), "cuMemcpyDtoHAsync");
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        bind();
        check(cuMemcpyDtoDAsync(at(dst), at(src), bytes, stream), "cuMemcpyDtoDAsync");
    }

    @Override
    public boolean copyFromPeer(long dst, GpuDriver source, long src, long bytes) {
        if (!(source instanceof JCudaDriverApi other)) return false;
        bind();
        check(cuMemcpyPeerAsync(at(dst), context, at(src), other.context, bytes, stream), "cuMemcpyPeerAsync");
        return true;
    }

    @Override
    public void memset32(long dst, int value, long count) {
        bind();
        check(cuMemsetD32Async(at(dst), value, count, stream), "cuMemsetD32Async");
    }

    @Override
    public void memset8(long dst, byte value, long count) {
        bind();
        check(cuMemsetD8Async(at(dst), value, count, stream), "cuMemsetD8Async");
    }

    @Override
    public void launch(String module, String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, KernelArgs args) {
        bind();
        CUfunction f = function(module, kernel);
        if (sharedBytes > DEFAULT_SHARED_LIMIT) allowSharedMemory(module + "/" + kernel, f, sharedBytes);
        List<KernelArgs.Arg> list = args.list();
        if (PACKED_PARAMS && LaunchParams.pack(list, paramBuffer, params.value())) {
            int r = cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, params, null);
            if (r != CUresult.CUDA_SUCCESS) check(r, "cuLaunchKernel(" + kernel + ")");
            return;
        }
        NativePointerObject[] each = new NativePointerObject[list.size()];
        for (int i = 0; i < each.length; i++) {
            KernelArgs.Arg a = list.get(i);
            each[i] = switch (a.kind()) {
                case KernelArgs.POINTER, KernelArgs.LONG -> Pointer.to(new long[] {(Long) a.value()});
                case KernelArgs.INT -> Pointer.to(new int[] {(Integer) a.value()});
                case KernelArgs.FLOAT -> Pointer.to(new float[] {(Float) a.value()});
                case KernelArgs.DOUBLE -> Pointer.to(new double[] {(Double) a.value()});
                case KernelArgs.STRUCT -> Pointer.to((int[]) a.value());
                default -> throw new IllegalArgumentException("unknown kernel argument kind " + a.kind());
            };
        }
        int r = cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, Pointer.to(each), null);
        if (r != CUresult.CUDA_SUCCESS) check(r, "cuLaunchKernel(" + kernel + ")");
    }

    /**
     * Lets {@code f} take {@code bytes} of dynamic shared memory (above 48 KiB a kernel must opt in),
     * with the smallest shared-memory carveout that holds two such blocks per SM: the rest of the
     * SM's 256 KiB stays L1 cache (cp.async.ca gathers reuse it).
     */
    private void allowSharedMemory(String key, CUfunction f, int bytes) {
        Integer allowed = sharedAllowed.get(key);
        if (allowed != null && allowed >= bytes) return;
        check(cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(" + key + ", MAX_DYNAMIC_SHARED_SIZE_BYTES, " + bytes + ")");
        if (sharedPerSm == 0) {
            sharedPerSm = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
        }
        // A block also holds its static shared memory and 1 KiB the system reserves.
        int[] staticBytes = new int[1];
        check(cuFuncGetAttribute(staticBytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f),
                "cuFuncGetAttribute(" + key + ", SHARED_SIZE_BYTES)");
        int carveout = (int) Math.min(100, Math.ceil(2.0 * (bytes + staticBytes[0] + 1024) * 100 / Math.max(sharedPerSm, 1)));
        check(cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, carveout),
                "cuFuncSetAttribute(" + key + ", PREFERRED_SHARED_MEMORY_CARVEOUT, " + carveout + ")");
        sharedAllowed.put(key, bytes);
    }

    private CUfunction function(String module, String kernel) {
        String key = module + "/" + kernel;
        CUfunction f = functions.get(key);
        if (f != null) return f;
        CUmodule m = modules.get(module);
        if (m == null) {
            m = new CUmodule();
            check(cuModuleLoadData(m, ptx(module)), "cuModuleLoadData(" + module + ".ptx)");
            modules.put(module, m);
        }
        f = new CUfunction();
        check(cuModuleGetFunction(f, m, kernel), "cuModuleGetFunction(" + kernel + " in " + module + ".ptx)");
        functions.put(key, f);
        return f;
    }

    /** The module's PTX text, NUL-terminated as cuModuleLoadData expects. */
    static byte[] ptx(String module) {
        try (InputStream in = JCudaDriverApi.class.getResourceAsStream("/ptx/" + module + ".ptx")) {
            if (in == null) throw new IllegalStateException("no PTX resource /ptx/" + module + ".ptx on the class path");
            byte[] text = in.readAllBytes();
            byte[] z = new byte[text.length + 1];
            System.arraycopy(text, 0, z, 0, text.length);
            return z;
        } catch (IOException e) {
            throw new IllegalStateException("reading /ptx/" + module + ".ptx", e);
        }
    }

    @Override
    public void synchronize() {
        bind();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public GpuEvent recordEvent() {
        return new Event();
    }

    @Override
    public void close() {
        bind();
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
        cuMemFreeHost(params);
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(device);
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal;
    }
}
