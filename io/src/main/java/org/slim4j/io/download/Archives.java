package org.slim4j.io.download;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Unpacks {@code .tar.gz}/{@code .tgz}, {@code .tar}, {@code .zip} and single-file {@code .gz}
 * archives into a folder. The kind is recognised from the bytes (gzip, zip and ustar magic), not the
 * name, so a mislabelled archive still unpacks.
 *
 * <p>Safety: an entry whose path is absolute or leads outside the target folder ({@code ../x},
 * {@code a/../../x}), a link pointing outside it, or an entry that would be written through a link
 * to outside, makes extraction fail with an {@link UnsafeArchiveException} naming the entry;
 * nothing is written outside the target folder. Device files and FIFOs are skipped.
 */
public final class Archives {
    private Archives() {
    }

    /** An archive entry that would land outside the target folder. */
    public static final class UnsafeArchiveException extends IOException {
        public UnsafeArchiveException(String message) {
            super(message);
        }
    }

    public enum Kind { TAR_GZ, TAR, ZIP, GZ }

    /** The archive kind of {@code file}, from its first bytes (and, for gzip, from what it holds). */
    public static Kind kind(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
                try (InputStream gz = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
                    return isTar(gz) ? Kind.TAR_GZ : Kind.GZ;
                }
            }
            if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return Kind.ZIP;
            if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 5 && head[3] == 6) return Kind.ZIP; // empty zip
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (isTar(in)) return Kind.TAR;
        }
        throw new IOException(file + ": not a .tar.gz, .tgz, .tar, .zip or .gz archive");
    }

    /** ustar ("ustar\0" or GNU "ustar  ") magic at byte 257 of the first header. */
    private static boolean isTar(InputStream in) throws IOException {
        byte[] header = new byte[512];
        int n = in.readNBytes(header, 0, 512);
        if (n < 512) return false;
        return header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
    }

    /**
     * Unpacks {@code archive} into {@code targetDir} (created if needed) and returns the regular files
     * written, in archive order. A {@code .gz} holding a single file becomes that file, named as the
     * archive without {@code .gz}.
     */
    public static List<Path> extract(Path archive, Path targetDir) throws IOException {
        Files.createDirectories(targetDir);
        Path root = targetDir.toRealPath();
        Kind kind = kind(archive);
        List<Path> written = new ArrayList<>();
        try {
            extract(archive, root, kind, written);
        } catch (RuntimeException e) {
            // The JDK's zip reader and commons-compress report some malformed headers (bad UTF-8
            // names, bad numbers) as unchecked exceptions; they are corrupt input like any other.
            throw new IOException(archive + ": corrupt " + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '.')
                    + " archive: " + e.getMessage(), e);
        }
        return written;
    }

    private static void extract(Path archive, Path root, Kind kind, List<Path> written) throws IOException {
        switch (kind) {
            case TAR_GZ -> {
                try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16), 1 << 16)) {
                    untar(in, root, archive, written);
                }
            }
            case TAR -> {
                try (InputStream in = new BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
                    untar(in, root, archive, written);
                }
            }
            case ZIP -> unzip(archive, root, written);
            case GZ -> {
                String name = archive.getFileName().toString();
                String out = name.endsWith(".gz") ? name.substring(0, name.length() - 3)
                        : name.endsWith(".tgz") ? name.substring(0, name.length() - 4) + ".tar" : name + ".out";
                Path dest = safeResolve(root, out, archive);
                try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16), 1 << 16)) {
                    Files.copy(in, dest, StandardCopyOption.REPLACE_EXISTING);
                }
                written.add(dest);
            }
        }
    }

    private static void untar(InputStream raw, Path root, Path archive, List<Path> written) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(raw)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                if (e.isDirectory()) {
                    Files.createDirectories(safeResolve(root, name, archive));
                } else if (e.isSymbolicLink()) {
                    Path link = safeResolve(root, name, archive);
                    Path target = link.getParent().resolve(e.getLinkName()).normalize();
                    if (Path.of(e.getLinkName()).isAbsolute() || !target.startsWith(root)) {
                        throw new UnsafeArchiveException(archive + ": entry '" + name + "' is a link to '" + e.getLinkName()
                                + "', outside the target folder " + root);
                    }
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, link.getParent().relativize(target));
                } else if (e.isLink()) {
                    // A hard link: copy the earlier entry it names (both must be inside).
                    Path dest = safeResolve(root, name, archive);
                    Path src = safeResolve(root, e.getLinkName(), archive);
                    if (!Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException(archive + ": entry '" + name + "' links to '" + e.getLinkName() + "', which is not an earlier file");
                    }
                    Files.copy(src, dest, StandardCopyOption.REPLACE_EXISTING);
                    written.add(dest);
                } else if (e.isFile()) {
                    Path dest = safeResolve(root, name, archive);
                    Files.deleteIfExists(dest); // never write through a link left by an earlier entry
                    Files.copy(tar, dest);
                    written.add(dest);
                }
                // Character/block devices and FIFOs have no place in a data set: skipped.
            }
        }
    }

    private static void unzip(Path archive, Path root, List<Path> written) throws IOException {
        try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                Path dest = safeResolve(root, e.getName(), archive);
                if (e.isDirectory()) {
                    Files.createDirectories(dest);
                } else {
                    Files.deleteIfExists(dest);
                    Files.copy(zip, dest);
                    written.add(dest);
                }
            }
        }
    }

    /**
     * {@code root/name}, with its parent folders created, after checking that neither the name nor
     * any link among the existing folders on the way leads outside {@code root}.
     */
    static Path safeResolve(Path root, String name, Path archive) throws IOException {
        String n = name.replace('\\', '/');
        if (n.startsWith("/") || n.matches("^[A-Za-z]:.*") || n.isEmpty()) {
            throw new UnsafeArchiveException(archive + ": entry '" + name + "' has an absolute path; refusing to extract outside " + root);
        }
        Path dest = root.resolve(n).normalize();
        if (!dest.startsWith(root) || dest.equals(root) && !n.replace("/", "").replace(".", "").isEmpty()) {
            throw new UnsafeArchiveException(archive + ": entry '" + name + "' leads outside the target folder " + root);
        }
        Path parent = dest.getParent();
        if (parent != null && !parent.equals(root)) {
            try {
                Files.createDirectories(parent);
            } catch (FileAlreadyExistsException ex) {
                throw new IOException(archive + ": entry '" + name + "' needs folder " + parent + ", but a file is there", ex);
            }
            if (!parent.toRealPath().startsWith(root)) {
                throw new UnsafeArchiveException(archive + ": entry '" + name + "' would be written through a link to "
                        + parent.toRealPath() + ", outside the target folder " + root);
            }
        }
        return dest;
    }
}
