package org.slim4j.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Looks for NVIDIA's vendor libraries (cuBLAS, cuDNN) by the exact sonames the JCuda bindings link
 * against, and tries to load each one found, without ever throwing. JCublas 12.6.0's natives need
 * {@code libcublas.so.12} (CUDA 12's cuBLAS; its symbols are versioned, so CUDA 13's
 * libcublas.so.13 does not satisfy them), and jcudnn-natives 12.6.0 needs {@code libcudnn.so.9}.
 *
 * <p>The hand-written kernels do not need these libraries; the probe tells {@code slim4j doctor}
 * what is there, and {@link org.slim4j.cuda.vendor.CudnnLibrary} loads cuDNN through it.
 */
public final class VendorLibraries {
    /** What was found for one library: the file it loaded from, or the problem and its fix. */
    public record Status(String library, String soname, String neededBy, Path file, boolean loaded, String problem, String fix) {
        public String describe() {
            if (loaded) return library + ": " + soname + " loaded from " + file;
            StringBuilder sb = new StringBuilder(library).append(": ").append(problem);
            if (fix != null) sb.append("\n    fix: ").append(fix);
            return sb.toString();
        }
    }

    private VendorLibraries() {
    }

    /** Probes cuBLAS and cuDNN. Never throws. */
    public static List<Status> probe() {
        List<Path> dirs = searchDirectories();
        return List.of(probeCublas(dirs), probeCudnn(dirs));
    }

    /** Finds and loads libcudnn.so.9 (by absolute path, so JCudnn's natives then bind to it by soname). Never throws. */
    public static Status probeCudnn() {
        return probeCudnn(searchDirectories());
    }

    private static Status probeCublas(List<Path> dirs) {
        return probe("cuBLAS", "libcublas.so.12", "JCublas 12.6.0 (vendor SGEMM)", dirs,
                "install CUDA 12's cuBLAS (e.g. pip install nvidia-cublas-cu12, then add its nvidia/cublas/lib folder to"
                        + " LD_LIBRARY_PATH; or NVIDIA's apt package libcublas-12-*); CUDA 13's libcublas.so.13 cannot stand in"
                        + " (JCublas 12.6.0 links versioned libcublas.so.12 symbols)",
                "libcublas.so.13");
    }

    private static Status probeCudnn(List<Path> dirs) {
        return probe("cuDNN", "libcudnn.so.9", "jcudnn-natives 12.6.0 (vendor convolutions and batch norm, --kernels=vendor|auto)", dirs,
                "install cuDNN 9 (e.g. pip install nvidia-cudnn-cu12, then add its nvidia/cudnn/lib folder to LD_LIBRARY_PATH;"
                        + " on a machine with PyTorch, the folder is: python3 -c \"import nvidia.cudnn; print(list(nvidia.cudnn.__path__)[0] + '/lib')\")",
                "libcudnn.so.8");
    }

    private static Status probe(String library, String soname, String neededBy, List<Path> dirs, String fix, String otherSoname) {
        try {
            Path file = find(soname, dirs);
            if (file == null) {
                Path other = find(otherSoname, dirs);
                String note = other != null ? " (found " + otherSoname + " at " + other + ", which " + neededBy.split(" \\(")[0] + " cannot use)" : "";
                return new Status(library, soname, neededBy, null, false, soname + " not found" + note
                        + "; searched LD_LIBRARY_PATH, the ld.so cache, the CUDA folders and Python's nvidia packages", fix);
            }
            try {
                System.load(file.toAbsolutePath().toString());
                return new Status(library, soname, neededBy, file, true, null, null);
            } catch (UnsatisfiedLinkError e) {
                return new Status(library, soname, neededBy, file, false, soname + " found at " + file + " but did not load: "
                        + e.getMessage(), "put the folders of its dependencies (e.g. libcublasLt, libnvrtc) on LD_LIBRARY_PATH");
            }
        } catch (RuntimeException | Error e) {
            return new Status(library, soname, neededBy, null, false, "probe failed: " + e, fix);
        }
    }

    private static Path find(String soname, List<Path> dirs) {
        for (Path d : dirs) {
            Path p = d.resolve(soname);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** LD_LIBRARY_PATH, the folders of the ld.so cache, the usual CUDA folders, Python's nvidia/*&#47;lib. */
    static List<Path> searchDirectories() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String s : ld.split(":")) if (!s.isBlank()) dirs.add(Path.of(s));
        }
        dirs.addAll(ldCacheDirectories());
        for (String s : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/cuda/lib64",
            "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/lib"}) {
            dirs.add(Path.of(s));
        }
        globInto(dirs, Path.of("/usr/local"), "cuda-*", "lib64");
        globInto(dirs, Path.of("/usr/local"), "cuda-*", "lib");
        for (String base : new String[] {"/usr/lib", "/usr/local/lib", "/opt/conda/lib", System.getProperty("user.home") + "/.local/lib"}) {
            for (String pkgs : new String[] {"site-packages", "dist-packages"}) {
                List<Path> pythons = new ArrayList<>();
                globInto(pythons, Path.of(base), "python3*", pkgs);
                for (Path p : pythons) globInto(dirs, p.resolve("nvidia"), "*", "lib");
            }
        }
        List<Path> existing = new ArrayList<>();
        for (Path d : dirs) if (Files.isDirectory(d)) existing.add(d);
        return existing;
    }

    private static void globInto(java.util.Collection<Path> out, Path parent, String glob, String child) {
        if (!Files.isDirectory(parent)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, glob)) {
            for (Path p : ds) {
                Path c = p.resolve(child);
                if (Files.isDirectory(c)) out.add(c);
            }
        } catch (IOException | RuntimeException e) {
            // unreadable folder: nothing to add
        }
    }

    /** Folders that {@code ldconfig -p} lists libraries in (empty when ldconfig is unavailable). */
    private static List<Path> ldCacheDirectories() {
        Set<Path> dirs = new LinkedHashSet<>();
        for (String exe : new String[] {"/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"}) {
            try {
                Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
                for (String line : text.split("\n")) {
                    int arrow = line.indexOf("=> ");
                    if (arrow >= 0) {
                        Path f = Path.of(line.substring(arrow + 3).trim());
                        if (f.getParent() != null) dirs.add(f.getParent());
                    }
                }
                return new ArrayList<>(dirs);
            } catch (IOException | RuntimeException e) {
                // try the next location
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new ArrayList<>(dirs);
    }
}
