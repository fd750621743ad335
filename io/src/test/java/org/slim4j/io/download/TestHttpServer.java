package org.slim4j.io.download;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP server on 127.0.0.1 for download tests: serves byte arrays by path, honours
 * {@code Range: bytes=N-} (unless told not to), can cut the first N responses short, and redirects.
 */
final class TestHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, String> redirects = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> rangeHeaders = new CopyOnWriteArrayList<>();
    /** Responses still to cut off after this many body bytes (a dropped connection). */
    final AtomicInteger dropsLeft = new AtomicInteger();
    volatile int dropAfter = Integer.MAX_VALUE;
    volatile boolean honourRange = true;

    TestHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    void put(String path, byte[] data) {
        files.put(path, data);
    }

    void redirect(String from, String to) {
        redirects.put(from, to);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        String range = ex.getRequestHeaders().getFirst("Range");
        rangeHeaders.add(range == null ? "" : range);
        try (ex) {
            if (redirects.containsKey(path)) {
                ex.getResponseHeaders().add("Location", redirects.get(path));
                ex.sendResponseHeaders(302, -1);
                return;
            }
            byte[] data = files.get(path);
            if (data == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            int from = 0;
            if (range != null && honourRange && range.startsWith("bytes=") && range.endsWith("-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                if (from >= data.length) {
                    ex.getResponseHeaders().add("Content-Range", "bytes */" + data.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
                ex.sendResponseHeaders(206, data.length - from);
            } else {
                ex.sendResponseHeaders(200, data.length);
            }
            OutputStream out = ex.getResponseBody();
            int n = data.length - from;
            if (dropsLeft.getAndDecrement() > 0 && dropAfter < n) {
                out.write(data, from, dropAfter);
                out.flush();
                // Closing the exchange now makes the client see a body shorter than Content-Length.
                return;
            }
            out.write(data, from, n);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
