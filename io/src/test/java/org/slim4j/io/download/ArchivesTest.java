package org.slim4j.io.download;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchivesTest {
    @TempDir
    Path tmp;

    /** Entries: name → content (null: a folder; "->target": a symbolic link). */
    static void tarGz(Path file, boolean gzip, String... nameAndContent) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream os = gzip ? new GZIPOutputStream(raw) : raw;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (int i = 0; i < nameAndContent.length; i += 2) {
                String name = nameAndContent[i];
                String content = nameAndContent[i + 1];
                TarArchiveEntry e;
                if (content == null) {
                    e = new TarArchiveEntry(name + "/");
                    tar.putArchiveEntry(e);
                } else if (content.startsWith("->")) {
                    e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(content.substring(2));
                    tar.putArchiveEntry(e);
                } else {
                    byte[] b = content.getBytes(StandardCharsets.UTF_8);
                    e = new TarArchiveEntry(name, true);
                    e.setSize(b.length);
                    tar.putArchiveEntry(e);
                    tar.write(b);
                }
                tar.closeArchiveEntry();
            }
        }
    }

    static void zip(Path file, String... nameAndContent) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < nameAndContent.length; i += 2) {
                z.putNextEntry(new ZipEntry(nameAndContent[i]));
                if (nameAndContent[i + 1] != null) z.write(nameAndContent[i + 1].getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
    }

    @Test
    void extractsTarGzTarZipAndGz() throws IOException {
        Path tgz = tmp.resolve("a.tgz");
        tarGz(tgz, true, "flower_photos", null, "flower_photos/daisy/1.jpg", "one", "flower_photos/LICENSE.txt", "lic",
                "flower_photos/" + "long".repeat(40) + ".txt", "long name");
        assertEquals(Archives.Kind.TAR_GZ, Archives.kind(tgz));
        List<Path> out = Archives.extract(tgz, tmp.resolve("x"));
        assertEquals(3, out.size());
        assertEquals("one", Files.readString(tmp.resolve("x/flower_photos/daisy/1.jpg")));
        assertEquals("long name", Files.readString(tmp.resolve("x/flower_photos/" + "long".repeat(40) + ".txt")));

        Path tar = tmp.resolve("b.tar");
        tarGz(tar, false, "dir/f.txt", "plain tar");
        assertEquals(Archives.Kind.TAR, Archives.kind(tar));
        Archives.extract(tar, tmp.resolve("y"));
        assertEquals("plain tar", Files.readString(tmp.resolve("y/dir/f.txt")));

        Path z = tmp.resolve("c.zip");
        zip(z, "sub/", null, "sub/z.txt", "zipped");
        assertEquals(Archives.Kind.ZIP, Archives.kind(z));
        Archives.extract(z, tmp.resolve("z"));
        assertEquals("zipped", Files.readString(tmp.resolve("z/sub/z.txt")));

        Path gz = tmp.resolve("train-labels-idx1-ubyte.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        assertEquals(Archives.Kind.GZ, Archives.kind(gz));
        List<Path> g = Archives.extract(gz, tmp.resolve("g"));
        assertEquals(List.of(tmp.resolve("g").toRealPath().resolve("train-labels-idx1-ubyte")), g);
        assertArrayEquals(new byte[] {0, 0, 8, 1, 0, 0, 0, 0}, Files.readAllBytes(g.get(0)));
    }

    @Test
    void refusesEntriesThatEscapeTheTarget() throws IOException {
        Path target = tmp.resolve("target");
        String[][] evil = {
                {"../evil.txt", "x"},
                {"a/../../evil.txt", "x"},
                {"/tmp/evil-absolute.txt", "x"},
        };
        for (String[] e : evil) {
            Path t = tmp.resolve("evil.tgz");
            tarGz(t, true, "ok.txt", "fine", e[0], e[1]);
            IOException ex = assertThrows(Archives.UnsafeArchiveException.class, () -> Archives.extract(t, target), e[0]);
            assertTrue(ex.getMessage().contains(e[0].replace("/tmp/", "")) || ex.getMessage().contains(e[0]), ex.getMessage());
            assertFalse(Files.exists(tmp.resolve("evil.txt")));
            Path z = tmp.resolve("evil.zip");
            zip(z, e[0], e[1]);
            assertThrows(Archives.UnsafeArchiveException.class, () -> Archives.extract(z, target), e[0]);
            assertFalse(Files.exists(tmp.resolve("evil.txt")));
        }
        assertFalse(Files.exists(Path.of("/tmp/evil-absolute.txt")));
        // A link pointing outside, and a file written through such a link.
        Path link = tmp.resolve("link.tgz");
        tarGz(link, true, "escape", "->../../outside");
        IOException ex = assertThrows(Archives.UnsafeArchiveException.class, () -> Archives.extract(link, tmp.resolve("t2")));
        assertTrue(ex.getMessage().contains("is a link to"), ex.getMessage());
        Files.createDirectories(tmp.resolve("outside"));
        Files.createDirectories(tmp.resolve("t3"));
        Files.createSymbolicLink(tmp.resolve("t3/dir"), tmp.resolve("outside"));
        Path through = tmp.resolve("through.tgz");
        tarGz(through, true, "dir/pwned.txt", "x");
        ex = assertThrows(Archives.UnsafeArchiveException.class, () -> Archives.extract(through, tmp.resolve("t3")));
        assertTrue(ex.getMessage().contains("through a link"), ex.getMessage());
        assertFalse(Files.exists(tmp.resolve("outside/pwned.txt")));
        // A link that stays inside is fine.
        Path inside = tmp.resolve("inside.tgz");
        tarGz(inside, true, "a/real.txt", "real", "a/alias.txt", "->real.txt");
        Archives.extract(inside, tmp.resolve("t4"));
        assertEquals("real", Files.readString(tmp.resolve("t4/a/alias.txt")));
    }

    @Test
    void corruptArchivesFailWithTheFileName() throws IOException {
        Path tgz = tmp.resolve("cut.tgz");
        tarGz(tgz, true, "f.txt", "x".repeat(100_000));
        byte[] b = Files.readAllBytes(tgz);
        Files.write(tgz, java.util.Arrays.copyOf(b, b.length / 2));
        assertThrows(IOException.class, () -> Archives.extract(tgz, tmp.resolve("o")));
        Path junk = tmp.resolve("junk.bin");
        Files.writeString(junk, "not an archive at all");
        IOException e = assertThrows(IOException.class, () -> Archives.extract(junk, tmp.resolve("o2")));
        assertTrue(e.getMessage().contains("junk.bin") && e.getMessage().contains("not a .tar.gz"), e.getMessage());
    }

    @Test
    void fuzzedArchivesFailWithAnIOException() throws IOException {
        Path tgz = tmp.resolve("f.tgz");
        tarGz(tgz, true, "d", null, "d/a.txt", "alpha".repeat(50), "d/b.txt", "beta".repeat(400), "d/l", "->a.txt");
        Path z = tmp.resolve("f.zip");
        zip(z, "d/a.txt", "alpha".repeat(50), "d/b.txt", "beta".repeat(400));
        Path tar = tmp.resolve("f.tar");
        tarGz(tar, false, "d/a.txt", "alpha".repeat(50), "d/b.txt", "beta".repeat(400));
        java.util.Random rnd = new java.util.Random(7);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
            for (Path good : List.of(tgz, z, tar)) {
                byte[] orig = Files.readAllBytes(good);
                for (int trial = 0; trial < 150; trial++) {
                    byte[] b = orig.clone();
                    if (trial % 2 == 0) {
                        b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                    } else {
                        for (int k = 0; k < 1 + rnd.nextInt(6); k++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    Path f = tmp.resolve("fuzz-" + good.getFileName());
                    Files.write(f, b);
                    Path out = tmp.resolve("fuzz-out");
                    try {
                        Archives.extract(f, out);
                    } catch (IOException expected) {
                        // the only acceptable failure
                    }
                    Path root = tmp.toRealPath();
                    try (var s = Files.walk(root)) {
                        for (Path p : s.toList()) {
                            if (Files.isSymbolicLink(p)) {
                                Path target = p.getParent().resolve(Files.readSymbolicLink(p)).normalize();
                                assertTrue(target.startsWith(root), "link inside: " + p + " -> " + target);
                            }
                        }
                    }
                }
            }
        });
    }
}
