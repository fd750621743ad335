package org.slim4j.io.download;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * A file to download: the name it gets on disk, where it can be fetched (mirrors tried in order)
 * and what it must look like once there. {@code size} &lt; 0 and null checksums mean "unknown":
 * the download is then checked against the server's Content-Length only.
 */
public record RemoteFile(String name, List<URI> urls, long size, String sha256, String md5) {
    public RemoteFile {
        if (name == null || name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..") || name.equals(".")) {
            throw new IllegalArgumentException("bad file name '" + name + "': a plain name is needed");
        }
        if (urls == null || urls.isEmpty()) throw new IllegalArgumentException(name + ": no URL to download it from");
        urls = List.copyOf(urls);
        sha256 = normalise(sha256, 64, "sha256", name);
        md5 = normalise(md5, 32, "md5", name);
    }

    /** A file whose name is the last path segment of {@code url}, with nothing known about its contents. */
    public static RemoteFile of(String url) {
        URI u = URI.create(url);
        String path = u.getPath() == null ? "" : u.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        return new RemoteFile(name, List.of(u), -1, null, null);
    }

    public RemoteFile withSize(long bytes) {
        return new RemoteFile(name, urls, bytes, sha256, md5);
    }

    public RemoteFile withSha256(String hex) {
        return new RemoteFile(name, urls, size, hex, md5);
    }

    public RemoteFile withMd5(String hex) {
        return new RemoteFile(name, urls, size, sha256, hex);
    }

    private static String normalise(String hex, int length, String what, String name) {
        if (hex == null) return null;
        String h = hex.trim().toLowerCase(Locale.ROOT);
        if (h.length() != length || !h.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new IllegalArgumentException(name + ": " + what + " must be " + length + " hex digits, got '" + hex + "'");
        }
        return h;
    }
}
