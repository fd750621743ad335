package org.slim4j.tensor.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slim4j.tensor.Npy;
import org.slim4j.tensor.Tensor;

/**
 * Locates the shared reference data (TensorFlow's golden outputs, TF-written files) for tests.
 * The repository sits beside {@code shared/}; tests run from a module folder, so this walks up.
 */
public final class GoldenData {
    private GoldenData() {
    }

    /** The shared/ folder: -Dslim4j.shared=DIR, else the first ancestor's sibling named shared. */
    public static Path sharedDir() {
        String prop = System.getProperty("slim4j.shared");
        if (prop != null) return Path.of(prop);
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path candidate = p.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("golden"))) return candidate;
            p = p.getParent();
        }
        throw new IllegalStateException("cannot find shared/golden beside the repository (set -Dslim4j.shared=DIR)");
    }

    public static Path goldenDir() {
        return sharedDir().resolve("golden");
    }

    /** ops/&lt;caseName&gt;/&lt;file&gt; of the golden data as a tensor. */
    public static Tensor opTensor(String caseName, String file) {
        Path f = goldenDir().resolve("ops").resolve(caseName).resolve(file);
        try {
            return Npy.read(f);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + f, e);
        }
    }
}
