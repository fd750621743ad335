package org.slim4j.io.download;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches {@link RemoteFile}s over HTTP(S) (or {@code file:} URLs) into a folder, the way TF-Slim's
 * {@code download_and_uncompress_tarball} does, made robust:
 * <ul>
 *   <li>a file already there that passes the checks is not downloaded again;</li>
 *   <li>bytes go to {@code NAME.part} first and are renamed only once complete and verified, so an
 *       interrupted run never leaves a truncated file under the final name;</li>
 *   <li>a {@code NAME.part} left by an interrupted run, or a connection that drops, is resumed with an
 *       HTTP {@code Range} request (servers that ignore it send the whole file, which is then
 *       restarted from zero);</li>
 *   <li>the result is checked against the expected size, SHA-256 and MD5 where known, and against
 *       the server's Content-Length; a mismatch deletes the bytes and fails with both values;</li>
 *   <li>mirrors are tried in order; progress goes to a {@link Progress}.</li>
 * </ul>
 * Instances are immutable and thread-safe.
 */
public final class Downloader {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
    private static final int MAX_REDIRECTS = 8;

    private final PrintStream log;
    private final boolean terminal;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private final int attempts;

    /**
     * @param log where progress and notes go (null: silent)
     * @param terminal redraw a progress bar in place instead of printing lines
     * @param attempts connection attempts per mirror; each retry resumes where the last one stopped
     */
    public Downloader(PrintStream log, boolean terminal, int connectTimeoutMillis, int readTimeoutMillis, int attempts) {
        if (attempts < 1) throw new IllegalArgumentException("attempts must be >= 1, got " + attempts);
        this.log = log;
        this.terminal = terminal;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.readTimeoutMillis = readTimeoutMillis;
        this.attempts = attempts;
    }

    /** Progress to {@code log}, as a bar when standard output is a terminal; 30 s timeouts, 3 attempts. */
    public Downloader(PrintStream log) {
        this(log, log == System.out && Progress.stdoutIsTerminal(), 30_000, 60_000, 3);
    }

    /**
     * Makes sure {@code dir/file.name()} exists and passes the checks, downloading what is missing.
     * Returns its path.
     */
    public Path fetch(RemoteFile file, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(file.name());
        Path part = dir.resolve(file.name() + ".part");
        if (Files.isRegularFile(target)) {
            String problem = check(file, target, -1);
            if (problem == null) {
                note(file.name() + " already present (" + Files.size(target) + " bytes), not downloading it again");
                return target;
            }
            if (file.size() > 0 && Files.size(target) < file.size() && !Files.exists(part)) {
                // A file cut short by some other tool: keep its bytes and resume after them.
                note(target + " is incomplete (" + problem + "); resuming the download");
                Files.move(target, part);
            } else {
                note(target + " is not the expected file (" + problem + "); downloading it again");
                Files.delete(target);
            }
        }
        List<String> failures = new ArrayList<>();
        for (URI url : file.urls()) {
            try {
                long expected = download(url, part, file);
                String problem = check(file, part, expected);
                if (problem != null) {
                    Files.deleteIfExists(part);
                    throw new IOException(file.name() + " from " + url + ": " + problem);
                }
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return target;
            } catch (IOException e) {
                failures.add(url + ": " + e.getMessage());
                if (file.urls().size() > 1) note("could not download " + file.name() + " from " + url + ": " + e.getMessage());
            }
        }
        throw new IOException("could not download " + file.name() + (failures.size() == 1 ? ": " + failures.get(0)
                : " from any of its " + failures.size() + " URLs: " + String.join("; ", failures))
                + " (a local copy can be given with --source=PATH)");
    }

    /**
     * Downloads {@code url} into {@code part}, resuming after its current bytes; retries a dropped
     * connection. Returns the total size the server announced, or -1.
     */
    private long download(URI url, Path part, RemoteFile file) throws IOException {
        if ("file".equalsIgnoreCase(url.getScheme())) {
            Path src = Path.of(url);
            if (!Files.isRegularFile(src)) throw new NoSuchFileException(src.toString(), null, "no such file");
            Progress p = new Progress(log, terminal, file.name(), Files.size(src), 0);
            try (InputStream in = Files.newInputStream(src);
                 OutputStream out = Files.newOutputStream(part)) {
                long n = copy(in, out, 0, p);
                p.done(n);
            }
            return Files.size(src);
        }
        if (!"http".equalsIgnoreCase(url.getScheme()) && !"https".equalsIgnoreCase(url.getScheme())) {
            throw new IOException("unsupported URL scheme '" + url.getScheme() + "' (http, https and file are supported)");
        }
        IOException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                return attempt(url, part, file);
            } catch (HttpStatusException e) {
                throw e; // 404, 403...: another attempt gets the same answer
            } catch (IOException e) {
                last = e;
                long have = Files.exists(part) ? Files.size(part) : 0;
                if (attempt < attempts) note(file.name() + ": " + e.getMessage() + "; retrying after " + have + " bytes");
            }
        }
        throw last;
    }

    private long attempt(URI url, Path part, RemoteFile file) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpURLConnection c = open(url, have);
        try {
            int status = c.getResponseCode();
            long total;
            boolean append;
            if (status == 206 && have > 0) {
                String range = c.getHeaderField("Content-Range");
                Matcher m = range == null ? null : CONTENT_RANGE.matcher(range.trim());
                if (m == null || !m.matches() || Long.parseLong(m.group(1)) != have) {
                    throw new IOException("server answered the resume request for byte " + have + " with Content-Range '" + range + "'");
                }
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
                append = true;
                note("resuming " + file.name() + " at byte " + have);
            } else if (status == 200) {
                long len = c.getContentLengthLong();
                total = len;
                append = false; // the server ignored the Range header (or there was none): start over
                if (have > 0) note(file.name() + ": the server does not resume downloads; starting again from byte 0");
                have = 0;
            } else if (status == 416 && have > 0) {
                // Nothing after byte `have`: the partial file may already be complete; the checks decide.
                return file.size();
            } else {
                throw new HttpStatusException(status, c.getResponseMessage());
            }
            Progress p = new Progress(log, terminal, file.name(), total > 0 ? total : file.size(), have);
            try (InputStream in = c.getInputStream();
                 OutputStream out = append
                         ? Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                         : Files.newOutputStream(part)) {
                long n = copy(in, out, have, p);
                p.done(n);
                if (total > 0 && n < total) throw new IOException("connection closed after " + n + " of " + total + " bytes");
            }
            return total;
        } finally {
            c.disconnect();
        }
    }

    /** Opens a connection, following redirects (also between http and https, which Java's own handling refuses). */
    private HttpURLConnection open(URI url, long from) throws IOException {
        URL u = url.toURL();
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpURLConnection c = (HttpURLConnection) u.openConnection();
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(connectTimeoutMillis);
            c.setReadTimeout(readTimeoutMillis);
            c.setRequestProperty("User-Agent", "slim4j");
            // Identity encoding: byte offsets in Range and Content-Length must be those of the file itself.
            c.setRequestProperty("Accept-Encoding", "identity");
            if (from > 0) c.setRequestProperty("Range", "bytes=" + from + "-");
            int status = c.getResponseCode();
            if (status >= 300 && status < 400 && status != 304) {
                String location = c.getHeaderField("Location");
                c.disconnect();
                if (location == null) throw new IOException("redirect " + status + " without a Location header from " + u);
                u = new URL(u, location);
                continue;
            }
            return c;
        }
        throw new IOException("more than " + MAX_REDIRECTS + " redirects starting at " + url);
    }

    private static long copy(InputStream in, OutputStream out, long start, Progress p) throws IOException {
        byte[] buf = new byte[1 << 16];
        long n = start;
        int r;
        while ((r = in.read(buf)) > 0) {
            out.write(buf, 0, r);
            n += r;
            p.update(n);
        }
        return n;
    }

    /**
     * What is wrong with {@code path} as a copy of {@code file}, or null when it passes.
     * {@code serverSize} is the size the server announced (&lt; 0 unknown).
     */
    public static String check(RemoteFile file, Path path, long serverSize) throws IOException {
        long size = Files.size(path);
        if (file.size() >= 0 && size != file.size()) return "size " + size + " bytes, expected " + file.size();
        if (serverSize >= 0 && size != serverSize) return "size " + size + " bytes, but the server announced " + serverSize;
        if (file.sha256() != null || file.md5() != null) {
            String[] sums = digests(path);
            if (file.sha256() != null && !file.sha256().equals(sums[0])) return "sha256 " + sums[0] + ", expected " + file.sha256();
            if (file.md5() != null && !file.md5().equals(sums[1])) return "md5 " + sums[1] + ", expected " + file.md5();
        }
        return null;
    }

    /** {sha256, md5} of a file as lower-case hex, in one pass. */
    public static String[] digests(Path path) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            byte[] buf = new byte[1 << 16];
            try (InputStream in = Files.newInputStream(path)) {
                int r;
                while ((r = in.read(buf)) > 0) {
                    sha.update(buf, 0, r);
                    md5.update(buf, 0, r);
                }
            }
            return new String[] {HexFormat.of().formatHex(sha.digest()), HexFormat.of().formatHex(md5.digest())};
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // both are required of every JVM
        }
    }

    private void note(String message) {
        if (log != null) {
            log.println(message);
            log.flush();
        }
    }

    /** An HTTP error status; not retried. */
    static final class HttpStatusException extends IOException {
        HttpStatusException(int status, String message) {
            super("HTTP " + status + (message == null ? "" : " " + message));
        }
    }
}
