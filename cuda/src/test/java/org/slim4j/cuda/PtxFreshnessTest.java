package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX (src/main/resources/ptx) is what machines without nvcc run, so it must be
 * generated from the current kernel sources: each PTX's first line records the sha256 of its .cu
 * file, every .cuh header and the nvcc flags (computed as build-ptx.sh does), and this test fails
 * when a source changed without regenerating (run cuda/build-ptx.sh where nvcc is installed).
 */
class PtxFreshnessTest {
    private static final String HEADER = "// slim4j-source-sha256: ";

    private static Path module() {
        return Emulator.moduleDir();
    }

    /** The FLAGS="..." line of build-ptx.sh (part of the hash: other flags make other PTX). */
    static String flags() throws IOException {
        Matcher m = Pattern.compile("(?m)^FLAGS=\"([^\"]*)\"").matcher(Files.readString(module().resolve("build-ptx.sh")));
        if (!m.find()) throw new IllegalStateException("build-ptx.sh has no FLAGS=\"...\" line");
        return m.group(1);
    }

    /** sha256 of "flags:F\n", "file:NAME\n" + the .cu bytes, then the same for every .cuh in name order. */
    static String sourceHash(Path cu) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        buf.write(("flags:" + flags() + "\n").getBytes(StandardCharsets.UTF_8));
        List<Path> parts = new ArrayList<>();
        parts.add(cu);
        parts.addAll(Emulator.list(cu.getParent(), ".cuh"));  // sorted by name
        for (Path p : parts) {
            buf.write(("file:" + p.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
            buf.write(Files.readAllBytes(p));
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.toByteArray()));
    }

    @Test
    void everyCommittedPtxMatchesItsSource() throws Exception {
        Path src = module().resolve("src/main/cuda");
        Path ptxDir = module().resolve("src/main/resources/ptx");
        List<Path> sources = Emulator.list(src, ".cu");
        assertTrue(sources.size() >= 8, "kernel sources: " + sources);
        List<String> stale = new ArrayList<>();
        for (Path cu : sources) {
            String name = cu.getFileName().toString().replace(".cu", "");
            Path ptx = ptxDir.resolve(name + ".ptx");
            if (!Files.isRegularFile(ptx)) {
                stale.add(name + ".ptx is missing");
                continue;
            }
            String text = Files.readString(ptx);
            String first = text.lines().findFirst().orElse("");
            String expected = HEADER + sourceHash(cu);
            if (!first.equals(expected)) {
                stale.add(name + ".ptx was generated from other sources (" + first + ", expected " + expected + ")");
                continue;
            }
            assertTrue(text.contains(".target sm_80"), name + ".ptx targets compute_80 (JIT-compiled by any driver >= 580 for sm_80+)");
            for (String kernel : Emulator.kernelNames(cu)) {
                assertTrue(text.contains(".entry " + kernel + "("), name + ".ptx has no entry " + kernel);
            }
        }
        for (Path ptx : Emulator.list(ptxDir, ".ptx")) {
            String name = ptx.getFileName().toString().replace(".ptx", "");
            if (!Files.isRegularFile(src.resolve(name + ".cu"))) stale.add(name + ".ptx has no source " + name + ".cu");
        }
        if (!stale.isEmpty()) {
            fail("stale PTX, regenerate with cuda/build-ptx.sh (needs nvcc):\n  " + String.join("\n  ", stale));
        }
    }

    @Test
    void theHashChangesWithTheSourceAndTheSharedHeader() throws Exception {
        Path dir = Files.createTempDirectory("ptxhash");
        try {
            Path cu = dir.resolve("k.cu");
            Path h = dir.resolve("common.cuh");
            Files.writeString(cu, "extern \"C\" __global__ void k() {}\n");
            Files.writeString(h, "#pragma once\n");
            String a = sourceHash(cu);
            Files.writeString(h, "#pragma once\n// changed\n");
            String b = sourceHash(cu);
            Files.writeString(cu, "extern \"C\" __global__ void k() { }\n");
            String c = sourceHash(cu);
            assertTrue(!a.equals(b) && !b.equals(c), a + " " + b + " " + c);
            assertEquals(64, a.length());
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }
}
