package org.slim4j.cuda;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The CPU emulator of the CUDA kernels, as a {@link GpuDriver}: the real .cu files of
 * src/main/cuda compiled by g++ against src/test/emu/cuda_emu.h (threads of a block as fibers,
 * barriers and warp shuffles emulated), run as a child process that the driver talks to over its
 * stdin/stdout (see emu_main.cpp for the protocol). Device addresses are the child's host
 * addresses, so the Java backend's pointer arithmetic is exercised exactly as on a GPU, and every
 * memory command and pointer argument is checked against the live allocations.
 *
 * <p>The binary is built once per source hash under target/emu/ (about half a minute; then
 * reused). One child process serves the whole test JVM.
 */
final class Emulator {
    /** Kernels that only exist for the emulator's own tests. */
    static final Path TEST_KERNELS = Path.of("src/test/cuda");

    private static final Pattern KERNEL = Pattern.compile(
            "extern\\s+\"C\"\\s+__global__\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?void\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?(\\w+)\\s*\\(");
    /**
     * AddressSanitizer and UBSan make a kernel that reads or writes outside an allocation, or overflows
     * a signed index, abort the emulator with a report (set SLIM4J_EMU_SANITIZE=0 to build without).
     */
    private static final List<String> SANITIZE = "0".equals(System.getenv("SLIM4J_EMU_SANITIZE")) ? List.of()
            : List.of("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer");
    private static final List<String> FLAGS = concat(List.of("-std=c++17", "-O1", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
            "-Wno-unknown-pragmas", "-Wno-clobbered", "-Werror"), SANITIZE);

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    private static Emulator shared;
    /** Kernel name -> the module (.cu base name) that defines it, as the real driver looks kernels up. */
    private static final Map<String, String> MODULE_OF = new LinkedHashMap<>();

    private final Process process;
    private final DataInputStream in;
    private final OutputStream out;
    private final Path log;

    private Emulator(Path binary) throws IOException {
        // stderr (sanitizer reports) goes to a file whose key lines are quoted when the process dies.
        log = Files.createTempFile(binary.getParent(), "stderr-", ".log");
        ProcessBuilder pb = new ProcessBuilder(binary.toString()).redirectError(log.toFile());
        // Device memory and fiber stacks live until the process ends: no leak report at exit.
        pb.environment().put("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1");
        process = pb.start();
        in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
        out = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
    }

    /** The JVM-wide emulator process (built on first use). */
    static synchronized Emulator get() {
        if (shared == null) {
            try {
                shared = new Emulator(build());
            } catch (IOException e) {
                throw new IllegalStateException("starting the CUDA emulator: " + e.getMessage(), e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> shared.process.destroy()));
        }
        return shared;
    }

    /** Whether the emulator is built with AddressSanitizer and UBSan. */
    static boolean sanitized() {
        return !SANITIZE.isEmpty();
    }

    /** A separate emulator process, for tests that are meant to crash it. */
    static GpuDriver isolatedDriver() {
        try {
            return new Driver(new Emulator(build()), 1L << 30);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh driver (its own allocations) on the shared emulator, with {@code capacity} bytes of "device memory". */
    static GpuDriver driver(long capacity) {
        return new Driver(get(), capacity);
    }

    /**
     * A CudaDevice whose kernels run in the emulator. Its blocks have the exact size of each tensor
     * (no size classes), so AddressSanitizer stops a kernel that touches one element past a tensor.
     */
    /** Launches per kernel name since the JVM started, over every emulated device (tests check which kernels ran). */
    private static final Map<String, Integer> LAUNCHES = new java.util.concurrent.ConcurrentHashMap<>();

    static int launches(String kernel) {
        return LAUNCHES.getOrDefault(kernel, 0);
    }

    /** Peer copies between emulated devices since the JVM started. */
    private static final java.util.concurrent.atomic.AtomicInteger PEER_COPIES = new java.util.concurrent.atomic.AtomicInteger();

    static int peerCopies() {
        return PEER_COPIES.get();
    }

    static CudaDevice device() {
        return CudaDevice.withDriver("cuda-emu", driver(1L << 34), true);
    }

    // ---- building ------------------------------------------------------------------------------

    static Path moduleDir() {
        Path here = Path.of("").toAbsolutePath();
        if (Files.isDirectory(here.resolve("src/main/cuda"))) return here;
        if (Files.isDirectory(here.resolve("cuda/src/main/cuda"))) return here.resolve("cuda");
        if (Files.isDirectory(here.resolve("../cuda/src/main/cuda"))) return here.resolve("../cuda").normalize();  // another module's tests
        throw new IllegalStateException("cannot find the cuda module's sources from " + here);
    }

    /** The .cu files compiled into the emulator: the kernels and the emulator's own test kernels. */
    static List<Path> kernelSources() throws IOException {
        Path m = moduleDir();
        List<Path> all = new ArrayList<>(list(m.resolve("src/main/cuda"), ".cu"));
        all.addAll(list(m.resolve(TEST_KERNELS), ".cu"));
        return all;
    }

    static List<Path> list(Path dir, String suffix) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    /** Names of the extern "C" __global__ kernels of a .cu file, in order. */
    static List<String> kernelNames(Path cu) throws IOException {
        Matcher k = KERNEL.matcher(Files.readString(cu));
        List<String> names = new ArrayList<>();
        while (k.find()) names.add(k.group(1));
        return names;
    }

    static String compiler() {
        String cxx = System.getenv("CXX");
        return cxx != null && !cxx.isBlank() ? cxx : "g++";
    }

    private static Path built;

    private static synchronized Path build() throws IOException {
        if (built == null) built = compile();
        return built;
    }

    private static Path compile() throws IOException {
        Path m = moduleDir();
        for (Path cu : kernelSources()) {
            for (String k : kernelNames(cu)) {
                String prev = MODULE_OF.put(k, cu.getFileName().toString().replace(".cu", ""));
                if (prev != null) throw new IllegalStateException("kernel " + k + " is defined in " + prev + ".cu and " + cu.getFileName());
            }
        }
        Path emuSrc = m.resolve("src/test/emu");
        List<Path> inputs = new ArrayList<>(kernelSources());
        inputs.addAll(list(m.resolve("src/main/cuda"), ".cuh"));
        inputs.addAll(list(emuSrc, ".h"));
        inputs.addAll(list(emuSrc, ".cpp"));
        String hash = hash(inputs);
        Path dir = m.resolve("target/emu/" + hash);
        Path binary = dir.resolve("cuda-emu");
        if (Files.isExecutable(binary)) return binary;
        Files.createDirectories(dir);
        String cxx = compiler();
        // One translation unit per .cu file: the emulation header, the kernels, their registration.
        List<List<String>> compiles = new ArrayList<>();
        List<Path> objects = new ArrayList<>();
        for (Path cu : kernelSources()) {
            String base = cu.getFileName().toString().replace(".cu", "");
            Path tu = dir.resolve("emu_" + base + ".cpp");
            StringBuilder sb = new StringBuilder("// generated: runs ").append(cu.getFileName()).append(" on the CPU emulator\n");
            sb.append("#include \"emu_registry.h\"\n#include \"").append(cu.toAbsolutePath()).append("\"\n");
            sb.append("[[maybe_unused]] static emu::Registrar registrar_").append(base).append("{\n");
            for (String k : kernelNames(cu)) sb.append("    emu::wrap(\"").append(k).append("\", &").append(k).append("),\n");
            sb.append("};\n");
            Files.writeString(tu, sb.toString());
            Path obj = dir.resolve("emu_" + base + ".o");
            objects.add(obj);
            compiles.add(command(cxx, "-I" + emuSrc, "-c", tu.toString(), "-o", obj.toString()));
        }
        Path mainObj = dir.resolve("emu_main.o");
        objects.add(mainObj);
        compiles.add(command(cxx, "-I" + emuSrc, "-c", emuSrc.resolve("emu_main.cpp").toString(), "-o", mainObj.toString()));
        runAll(compiles, 2);
        List<String> link = new ArrayList<>(List.of(cxx));
        link.addAll(SANITIZE);
        link.addAll(List.of("-o", dir.resolve("cuda-emu.tmp").toString()));
        for (Path o : objects) link.add(o.toString());
        runAll(List.of(link), 1);
        Files.move(dir.resolve("cuda-emu.tmp"), binary, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return binary;
    }

    private static List<String> command(String cxx, String... args) {
        List<String> c = new ArrayList<>();
        c.add(cxx);
        c.addAll(FLAGS);
        c.addAll(List.of(args));
        return c;
    }

    /** Runs the commands, {@code parallel} at a time; throws with the compiler's output on failure. */
    private static void runAll(List<List<String>> commands, int parallel) throws IOException {
        List<Process> running = new ArrayList<>();
        Map<Process, List<String>> what = new LinkedHashMap<>();
        try {
            for (List<String> c : commands) {
                while (running.size() >= parallel) finish(running.remove(0), what);
                Process p;
                try {
                    p = new ProcessBuilder(c).redirectErrorStream(true).start();
                } catch (IOException e) {
                    throw new IllegalStateException(c.get(0) + " not found: the CUDA kernels' CPU tests compile them with a C++17"
                            + " compiler (Debian: apt-get install g++; or set CXX)", e);
                }
                running.add(p);
                what.put(p, c);
            }
            while (!running.isEmpty()) finish(running.remove(0), what);
        } finally {
            for (Process p : running) p.destroyForcibly();
        }
    }

    private static void finish(Process p, Map<Process, List<String>> what) throws IOException {
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("compiling the CUDA emulator failed:\n" + String.join(" ", what.get(p)) + "\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String hash(List<Path> files) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(String.join(" ", FLAGS).getBytes(StandardCharsets.UTF_8));
            md.update(compiler().getBytes(StandardCharsets.UTF_8));
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update(Files.readAllBytes(f));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- protocol ------------------------------------------------------------------------------

    private final ByteBuffer scratch = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

    private void writeLongs(long... v) throws IOException {
        for (long x : v) {
            scratch.clear();
            scratch.putLong(x);
            out.write(scratch.array(), 0, 8);
        }
    }

    private void writeInts(int... v) throws IOException {
        for (int x : v) {
            scratch.clear();
            scratch.putInt(x);
            out.write(scratch.array(), 0, 4);
        }
    }

    private void writeShort(int v) throws IOException {
        out.write(v & 0xFF);
        out.write((v >>> 8) & 0xFF);
    }

    private long readLong() throws IOException {
        byte[] b = in.readNBytes(8);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Flushes the command and reads its status; throws the emulator's message on error. */
    private void status(String what) throws IOException {
        out.flush();
        int s = in.read();
        if (s < 0) throw new IllegalStateException("the CUDA emulator exited (during " + what + ")" + crashReport());
        if (s != 0) {
            byte[] nb = in.readNBytes(4);
            int n = ByteBuffer.wrap(nb).order(ByteOrder.LITTLE_ENDIAN).getInt();
            throw new EmulatorError(what + ": " + new String(in.readNBytes(n), StandardCharsets.UTF_8));
        }
    }

    /** The sanitizer's summary lines from the dead process's stderr, and where the full report is. */
    private String crashReport() {
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            StringBuilder sb = new StringBuilder();
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.contains("ERROR: AddressSanitizer") || line.contains("runtime error") || line.startsWith("SUMMARY")
                        || line.contains(" in emu_") || line.matches("\\s*#[0-3] .*")) {
                    sb.append("\n  ").append(line.strip());
                }
            }
            return ": " + (sb.length() > 0 ? sb : "no sanitizer report") + "\n  (full log: " + log + ")";
        } catch (IOException | InterruptedException e) {
            return " (stderr in " + log + ")";
        }
    }

    /** A failure reported by the emulator: bad memory access command, kernel argument mismatch, barrier divergence. */
    static final class EmulatorError extends IllegalStateException {
        EmulatorError(String message) {
            super(message);
        }
    }

    synchronized long malloc(long bytes) {
        try {
            out.write('A');
            writeLongs(bytes);
            status("malloc");
            return readLong();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void free(long ptr) {
        try {
            out.write('F');
            writeLongs(ptr);
            status("free");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void write(long ptr, ByteBuffer src, int offset, long bytes) {
        try {
            out.write('W');
            writeLongs(ptr, bytes);
            byte[] chunk = new byte[(int) Math.min(bytes, 1 << 16)];
            ByteBuffer s = src.duplicate();
            s.position(offset);
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(chunk.length, bytes - done);
                s.get(chunk, 0, n);
                out.write(chunk, 0, n);
                done += n;
            }
            status("copy host to device");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void read(ByteBuffer dst, int offset, long ptr, long bytes) {
        try {
            out.write('R');
            writeLongs(ptr, bytes);
            status("copy device to host");
            ByteBuffer d = dst.duplicate();
            d.position(offset);
            byte[] chunk = new byte[(int) Math.min(bytes, 1 << 16)];
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(chunk.length, bytes - done);
                in.readFully(chunk, 0, n);
                d.put(chunk, 0, n);
                done += n;
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void memset(long ptr, long count, int width, int value) {
        try {
            out.write('S');
            writeLongs(ptr, count);
            out.write(width);
            writeInts(value);
            status("memset");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void copy(long dst, long src, long bytes) {
        try {
            out.write('C');
            writeLongs(dst, src, bytes);
            status("copy device to device");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void launch(String kernel, int gx, int gy, int gz, int bx, int by, int bz, int shared, KernelArgs args) {
        try {
            out.write('L');
            byte[] name = kernel.getBytes(StandardCharsets.UTF_8);
            writeShort(name.length);
            out.write(name);
            writeInts(gx, gy, gz, bx, by, bz, shared);
            writeShort(args.list().size());
            for (KernelArgs.Arg a : args.list()) {
                out.write(a.kind());
                switch (a.kind()) {
                    case KernelArgs.POINTER, KernelArgs.LONG -> writeLongs((Long) a.value());
                    case KernelArgs.INT -> writeLongs(((Integer) a.value()) & 0xFFFFFFFFL);
                    case KernelArgs.FLOAT -> writeLongs(Float.floatToRawIntBits((Float) a.value()) & 0xFFFFFFFFL);
                    case KernelArgs.DOUBLE -> writeLongs(Double.doubleToRawLongBits((Double) a.value()));
                    case KernelArgs.STRUCT -> {
                        int[] f = (int[]) a.value();
                        writeInts(f.length * 4);
                        writeInts(f);
                    }
                    default -> throw new IllegalArgumentException("kind " + a.kind());
                }
            }
            status("launch " + kernel + " <<<(" + gx + "," + gy + "," + gz + "), (" + bx + "," + by + "," + bz + ")>>>");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every kernel the emulator knows: name -> kind codes of its parameters. */
    synchronized Map<String, String> kernels() {
        try {
            out.write('K');
            status("list kernels");
            byte[] nb = in.readNBytes(4);
            int n = ByteBuffer.wrap(nb).order(ByteOrder.LITTLE_ENDIAN).getInt();
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String name = readString16(in);
                m.put(name, readString16(in));
            }
            return m;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String readString16(InputStream in) throws IOException {
        int lo = in.read();
        int hi = in.read();
        return new String(in.readNBytes(lo | (hi << 8)), StandardCharsets.UTF_8);
    }

    // ---- the GpuDriver ---------------------------------------------------------------------------

    /** One device's view of the emulator: its own allocation accounting and a capacity for OOM tests. */
    private static final class Driver implements GpuDriver {
        private final Emulator emu;
        private final long capacity;
        private final Map<Long, Long> live = new LinkedHashMap<>();
        private long used;

        Driver(Emulator emu, long capacity) {
            this.emu = emu;
            this.capacity = capacity;
        }

        private record Host(ByteBuffer buffer, int capacity) implements HostBuffer {
        }

        @Override
        public String describe() {
            return "CUDA emulator (" + compiler() + ", kernels of src/main/cuda run on the CPU)";
        }

        @Override
        public long[] memoryInfo() {
            return new long[] {capacity - used, capacity};
        }

        @Override
        public long malloc(long bytes) {
            if (used + bytes > capacity) throw new OutOfDeviceMemory("emulated device full: " + bytes + " bytes asked, " + (capacity - used) + " free");
            long p = emu.malloc(bytes);
            live.put(p, bytes);
            used += bytes;
            return p;
        }

        @Override
        public void free(long ptr) {
            Long b = live.remove(ptr);
            if (b == null) throw new IllegalStateException("free of unknown pointer " + Long.toHexString(ptr));
            used -= b;
            emu.free(ptr);
        }

        @Override
        public HostBuffer mallocHost(int bytes) {
            return new Host(ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder()), bytes);
        }

        @Override
        public void freeHost(HostBuffer buffer) {
        }

        @Override
        public void copyHostToDevice(long dst, HostBuffer src, int srcOffset, long bytes) {
            emu.write(dst, src.buffer(), srcOffset, bytes);
        }

        @Override
        public void copyDeviceToHost(HostBuffer dst, int dstOffset, long src, long bytes) {
            emu.read(dst.buffer(), dstOffset, src, bytes);
        }

        @Override
        public void copyDeviceToDevice(long dst, long src, long bytes) {
            emu.copy(dst, src, bytes);
        }

        /** Emulated GPUs of one emulator process share its memory: a peer copy is a plain copy there. */
        @Override
        public boolean copyFromPeer(long dst, GpuDriver source, long src, long bytes) {
            if (!(source instanceof Driver other) || other.emu != emu) return false;
            emu.copy(dst, src, bytes);
            PEER_COPIES.incrementAndGet();
            return true;
        }

        @Override
        public void memset32(long dst, int value, long count) {
            emu.memset(dst, count, 4, value);
        }

        @Override
        public void memset8(long dst, byte value, long count) {
            emu.memset(dst, count, 1, value & 0xFF);
        }

        @Override
        public void launch(String module, String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                           int sharedBytes, KernelArgs args) {
            LAUNCHES.merge(kernel, 1, Integer::sum);
            String defined = MODULE_OF.get(kernel);
            if (!module.equals(defined)) {
                // The JCuda driver loads kernels from their module's PTX: a wrong module fails on a GPU.
                throw new Emulator.EmulatorError("kernel " + kernel + " launched from module " + module + ", but it is defined in "
                        + (defined == null ? "no .cu file" : defined + ".cu"));
            }
            emu.launch(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
        }

        @Override
        public void synchronize() {
        }

        @Override
        public GpuEvent recordEvent() {
            return RecordingDriver.NO_EVENT;  // kernels run synchronously: every event has completed, no time apart
        }

        @Override
        public void close() {
            for (Long p : new ArrayList<>(live.keySet())) free(p);
        }

        /** Bytes this driver holds (for tests). */
        long used() {
            return used;
        }
    }
}
