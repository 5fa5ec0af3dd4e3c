package io.isthmus.mesh.benchmarks;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A closed-loop HTTP/1.1 load of a fixed number of keep-alive connections, each with one request in
 * flight, sent to a router ingress used as an HTTP proxy (absolute-form request line, as the JDK
 * client behind the Spring starter's proxy selector sends it). Every connection sends its share of
 * the warm-up requests, waits for the others, then sends its share of the measured requests, each
 * timed from the first byte written to the last byte of the body read.
 */
final class ClosedLoop {

    /** How the connections are made. */
    enum Client {
        /** JDK {@link HttpClient} (HTTP/1.1) with a proxy selector pointing at the ingress. */
        JDK,
        /** A blocking socket per connection writing a fixed request and parsing the response. */
        RAW;

        static Client parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    /** One request/response exchange on one connection; returns the body length. */
    private interface Exchange extends AutoCloseable {
        int call() throws IOException, InterruptedException;

        @Override
        void close() throws IOException;
    }

    /** The outcome of a run: the measured latencies (ns), its wall time and CPU time of each process. */
    record Result(long[] latencies, long wallNanos, long[] cpuNanos, boolean timedOut) {}

    private ClosedLoop() {}

    /**
     * Runs the load.
     *
     * @param cpu returns the CPU time (ns) used so far by each process of the chain; read once all
     *     connections finished warming up and once the last one finished
     */
    static Result run(Client client, InetSocketAddress ingress, String url, int connections, int warmup,
            int requests, Duration timeLimit, Supplier<long[]> cpu) throws Exception {
        URI uri = URI.create(url);
        List<Exchange> exchanges = new ArrayList<>();
        HttpClient http = client == Client.JDK
                ? HttpClient.newBuilder().proxy(ProxySelector.of(ingress)).version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build()
                : null;
        try {
            for (int i = 0; i < connections; i++) {
                exchanges.add(http != null ? jdk(http, uri) : raw(ingress, uri));
            }
            long[][] samples = new long[connections][];
            int[] counts = new int[connections];
            long[][] marks = new long[2][];
            long[] startNanos = new long[1];
            CyclicBarrier warmedUp = new CyclicBarrier(connections, () -> {
                marks[0] = cpu.get();
                startNanos[0] = System.nanoTime();
            });
            long deadline = System.nanoTime() + timeLimit.toNanos();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int index = c;
                int share = requests / connections + (c < requests % connections ? 1 : 0);
                int warmShare = warmup / connections + (c < warmup % connections ? 1 : 0);
                samples[c] = new long[share];
                Thread t = new Thread(() -> {
                    Exchange exchange = exchanges.get(index);
                    try {
                        for (int i = 0; i < warmShare && System.nanoTime() < deadline; i++) {
                            exchange.call();
                        }
                        warmedUp.await();
                        long[] mine = samples[index];
                        int n = 0;
                        while (n < share && System.nanoTime() < deadline) {
                            long t0 = System.nanoTime();
                            exchange.call();
                            mine[n++] = System.nanoTime() - t0;
                        }
                        counts[index] = n;
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        warmedUp.reset();
                    }
                }, "load-" + c);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            long end = System.nanoTime();
            marks[1] = cpu.get();
            Throwable e = failure.get();
            if (e != null && !(e instanceof BrokenBarrierException)) {
                throw new IllegalStateException("load failed: " + e, e);
            }
            if (marks[0] == null) {
                throw new IllegalStateException("load failed before the measured requests", e);
            }
            int total = Arrays.stream(counts).sum();
            long[] all = new long[total];
            int at = 0;
            for (int c = 0; c < connections; c++) {
                System.arraycopy(samples[c], 0, all, at, counts[c]);
                at += counts[c];
            }
            long[] cpuUsed = new long[marks[1].length];
            for (int i = 0; i < cpuUsed.length; i++) {
                cpuUsed[i] = marks[1][i] - marks[0][i];
            }
            return new Result(all, end - startNanos[0], cpuUsed, total < requests);
        } finally {
            for (Exchange exchange : exchanges) {
                try {
                    exchange.close();
                } catch (IOException ignored) {
                    // the connection is gone either way
                }
            }
        }
    }

    private static Exchange jdk(HttpClient http, URI uri) {
        HttpRequest request = HttpRequest.newBuilder(uri).GET().timeout(Duration.ofSeconds(30)).build();
        return new Exchange() {
            @Override
            public int call() throws IOException, InterruptedException {
                HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() != 200) {
                    throw new IOException("status " + response.statusCode() + ": "
                            + new String(response.body(), StandardCharsets.UTF_8));
                }
                return response.body().length;
            }

            @Override
            public void close() {}
        };
    }

    private static Exchange raw(InetSocketAddress ingress, URI uri) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(ingress, 5000);
        socket.setSoTimeout(30_000);
        byte[] request = ("GET " + uri + " HTTP/1.1\r\nHost: " + uri.getRawAuthority()
                + "\r\nUser-Agent: isthmus-bench\r\nAccept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        OutputStream out = socket.getOutputStream();
        InputStream in = new BufferedInputStream(socket.getInputStream(), 16384);
        StringBuilder line = new StringBuilder(128);
        return new Exchange() {
            @Override
            public int call() throws IOException {
                out.write(request);
                out.flush();
                String status = readLine(in, line);
                if (!status.startsWith("HTTP/1.1 200 ")) {
                    throw new IOException("response: " + status);
                }
                long length = -1;
                boolean chunked = false;
                for (String h = readLine(in, line); !h.isEmpty(); h = readLine(in, line)) {
                    int colon = h.indexOf(':');
                    String name = h.substring(0, colon).trim();
                    if (name.equalsIgnoreCase("content-length")) {
                        length = Long.parseLong(h.substring(colon + 1).trim());
                    } else if (name.equalsIgnoreCase("transfer-encoding")) {
                        chunked = h.substring(colon + 1).toLowerCase(Locale.ROOT).contains("chunked");
                    }
                }
                if (!chunked) {
                    skip(in, length);
                    return (int) length;
                }
                int body = 0;
                for (long size = Long.parseLong(chunkSize(readLine(in, line)), 16); size > 0;
                        size = Long.parseLong(chunkSize(readLine(in, line)), 16)) {
                    skip(in, size);
                    readLine(in, line);
                    body += (int) size;
                }
                while (!readLine(in, line).isEmpty()) {
                    // trailers
                }
                return body;
            }

            @Override
            public void close() throws IOException {
                socket.close();
            }
        };
    }

    private static String chunkSize(String line) {
        int semicolon = line.indexOf(';');
        return (semicolon >= 0 ? line.substring(0, semicolon) : line).trim();
    }

    private static void skip(InputStream in, long bytes) throws IOException {
        if (bytes < 0) {
            throw new IOException("response without Content-Length or chunked body");
        }
        long left = bytes;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed inside a body");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static String readLine(InputStream in, StringBuilder line) throws IOException {
        line.setLength(0);
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed by the ingress");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
