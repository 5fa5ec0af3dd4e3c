package io.isthmus.mesh.spring;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real single-member etcd ({@code /usr/bin/etcd}, Debian's etcd-server) on free 127.0.0.1 ports with
 * its data in {@code dataDir}; fails, not skips, when etcd is missing.
 */
final class LocalEtcd implements AutoCloseable {

    private final Process process;
    private final URI endpoint;

    private LocalEtcd(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    static LocalEtcd start(Path dataDir) {
        Path etcd = Path.of("/usr/bin/etcd");
        if (!Files.isExecutable(etcd)) {
            throw new IllegalStateException("etcd is not installed at " + etcd
                    + " (expected: `apt-get install -y etcd-server`)");
        }
        try {
            URI client = URI.create("http://127.0.0.1:" + freePort());
            String peer = "http://127.0.0.1:" + freePort();
            Path log = dataDir.resolve("etcd.log");
            Process process = new ProcessBuilder(List.of(etcd.toString(), "--name", "starter-test",
                    "--data-dir", dataDir.resolve("data").toString(),
                    "--listen-client-urls", client.toString(), "--advertise-client-urls", client.toString(),
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", "starter-test=" + peer, "--initial-cluster-state", "new",
                    "--logger", "zap", "--log-level", "warn"))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            LocalEtcd started = new LocalEtcd(process, client);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !process.isAlive() || started.healthy(http));
            if (!process.isAlive()) {
                throw new IllegalStateException("etcd exited with " + process.exitValue() + ": "
                        + Files.readString(log));
            }
            return started;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    URI endpoint() {
        return endpoint;
    }

    private boolean healthy(HttpClient http) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(endpoint.resolve("/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
