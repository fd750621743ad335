package org.slim4j.io.download;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloaderTest {
    @TempDir
    Path dir;
    TestHttpServer server;
    byte[] data;
    ByteArrayOutputStream logBytes;
    PrintStream log;

    @BeforeEach
    void start() throws IOException {
        server = new TestHttpServer();
        data = new byte[300_000];
        new Random(1).nextBytes(data);
        server.put("/data/file.bin", data);
        logBytes = new ByteArrayOutputStream();
        log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Downloader downloader() {
        return new Downloader(log, false, 5_000, 5_000, 3);
    }

    private RemoteFile file() throws IOException {
        String[] sums = sums(data);
        return new RemoteFile("file.bin", List.of(URI.create(server.url("/data/file.bin"))), data.length, sums[0], sums[1]);
    }

    private static String[] sums(byte[] b) {
        try {
            return new String[] {
                    HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b)),
                    HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(b))};
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void downloadsVerifiesAndSkipsWhenPresent() throws IOException {
        Path p = downloader().fetch(file(), dir);
        assertArrayEquals(data, Files.readAllBytes(p));
        assertFalse(Files.exists(dir.resolve("file.bin.part")));
        assertEquals(1, server.requests.size());
        String text = logBytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("file.bin") && text.contains("100.0%"), text);
        // Present and correct: no request at all.
        downloader().fetch(file(), dir);
        assertEquals(1, server.requests.size());
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("already present"));
    }

    @Test
    void droppedConnectionIsResumedWithRange() throws IOException {
        server.dropAfter = 100_000;
        server.dropsLeft.set(2);
        Path p = downloader().fetch(file(), dir);
        assertArrayEquals(data, Files.readAllBytes(p));
        assertEquals(3, server.requests.size());
        assertEquals(List.of("", "bytes=100000-", "bytes=200000-"), server.rangeHeaders);
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("resuming file.bin at byte 100000"));
    }

    @Test
    void partFileOfAnEarlierRunIsResumed() throws IOException {
        Files.write(dir.resolve("file.bin.part"), java.util.Arrays.copyOf(data, 123_456));
        Path p = downloader().fetch(file(), dir);
        assertArrayEquals(data, Files.readAllBytes(p));
        assertEquals(List.of("bytes=123456-"), server.rangeHeaders);
        // A truncated final file is resumed too.
        Files.write(p, java.util.Arrays.copyOf(data, 1000));
        downloader().fetch(file(), dir);
        assertArrayEquals(data, Files.readAllBytes(p));
        assertEquals("bytes=1000-", server.rangeHeaders.get(1));
    }

    @Test
    void serverWithoutRangeSupportRestartsFromZero() throws IOException {
        server.honourRange = false;
        Files.write(dir.resolve("file.bin.part"), java.util.Arrays.copyOf(data, 5000));
        Path p = downloader().fetch(file(), dir);
        assertArrayEquals(data, Files.readAllBytes(p));
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("does not resume"));
    }

    @Test
    void checksumMismatchDeletesAndFails() throws IOException {
        RemoteFile wrong = file().withSha256("00".repeat(32));
        IOException e = assertThrows(IOException.class, () -> downloader().fetch(wrong, dir));
        assertTrue(e.getMessage().contains("sha256 " + sums(data)[0]) && e.getMessage().contains("expected " + "00".repeat(32)), e.getMessage());
        assertFalse(Files.exists(dir.resolve("file.bin")));
        assertFalse(Files.exists(dir.resolve("file.bin.part")));
        RemoteFile wrongMd5 = file().withSha256(null).withMd5("11".repeat(16));
        e = assertThrows(IOException.class, () -> downloader().fetch(wrongMd5, dir));
        assertTrue(e.getMessage().contains("md5"), e.getMessage());
        RemoteFile wrongSize = file().withSize(data.length + 1);
        e = assertThrows(IOException.class, () -> downloader().fetch(wrongSize, dir));
        assertTrue(e.getMessage().contains("expected " + (data.length + 1)), e.getMessage());
        // A wrong file already present is replaced.
        Files.write(dir.resolve("file.bin"), new byte[data.length]);
        assertArrayEquals(data, Files.readAllBytes(downloader().fetch(file(), dir)));
    }

    @Test
    void notFoundFailsWithoutRetryAndMirrorsAreTried() throws IOException {
        RemoteFile missing = new RemoteFile("x.bin", List.of(URI.create(server.url("/nope/x.bin"))), -1, null, null);
        IOException e = assertThrows(IOException.class, () -> downloader().fetch(missing, dir));
        assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("--source"), e.getMessage());
        assertEquals(1, server.requests.size(), "a 404 is not retried");
        RemoteFile mirrored = new RemoteFile("file.bin", List.of(URI.create(server.url("/nope/file.bin")),
                URI.create(server.url("/data/file.bin"))), data.length, null, null);
        assertArrayEquals(data, Files.readAllBytes(downloader().fetch(mirrored, dir)));
    }

    @Test
    void followsRedirectsAndFileUrls() throws IOException {
        server.redirect("/old/file.bin", server.url("/data/file.bin"));
        RemoteFile r = new RemoteFile("file.bin", List.of(URI.create(server.url("/old/file.bin"))), data.length, null, null);
        assertArrayEquals(data, Files.readAllBytes(downloader().fetch(r, dir)));
        Path local = dir.resolve("src.bin");
        Files.write(local, data);
        RemoteFile f = new RemoteFile("copy.bin", List.of(local.toUri()), data.length, sums(data)[0], null);
        assertArrayEquals(data, Files.readAllBytes(downloader().fetch(f, dir.resolve("out"))));
    }

    @Test
    void remoteFileValidatesItsFields() {
        assertThrows(IllegalArgumentException.class, () -> new RemoteFile("../x", List.of(URI.create("http://127.0.0.1/x")), -1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new RemoteFile("x", List.of(), -1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new RemoteFile("x", List.of(URI.create("http://127.0.0.1/x")), -1, "abc", null));
        assertEquals("f.tgz", RemoteFile.of("http://127.0.0.1/a/f.tgz").name());
    }

    @Test
    void progressLines() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(b, true, StandardCharsets.UTF_8);
        Progress plain = new Progress(p, false, "f.tgz", 1000, 0);
        for (int i = 1; i <= 1000; i++) plain.update(i);
        plain.done(1000);
        String[] lines = b.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(10, lines.length, b.toString(StandardCharsets.UTF_8));
        assertTrue(lines[0].startsWith("f.tgz  10.0% 100 B / 1000 B"), lines[0]);
        assertFalse(b.toString(StandardCharsets.UTF_8).contains("\r"));
        b.reset();
        Progress bar = new Progress(p, true, "f.tgz", 1000, 0);
        bar.update(500);
        bar.done(1000);
        String s = b.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rf.tgz [===============>              ]  50.0%"), s);
        assertTrue(s.endsWith("\n") && s.contains("[==============================] 100.0%"), s);
        assertEquals("1.5 MB", Progress.human(1536 * 1024));
    }
}
