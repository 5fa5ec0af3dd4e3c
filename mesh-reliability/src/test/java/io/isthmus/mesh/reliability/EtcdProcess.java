package io.isthmus.mesh.reliability;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real, single-member etcd server on 127.0.0.1 for tests (as in mesh-k8s's tests, without TLS): Debian's {@code etcd-server}. Client and
 * peer ports are picked free (etcd does not accept port 0), the data lives in a temporary directory,
 * and the server can be {@linkplain #stop() stopped} and {@linkplain #start() started} again on the
 * same ports and data, e.g. to test reconnection.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EtcdProcess etcd = new EtcdProcess();   // started before the class's tests, killed after
 *
 * try (EtcdProcess own = EtcdProcess.started()) {       // or one for a single test
 *     own.stop();
 *     own.start();
 * }
 * }</pre>
 *
 * <p>A shutdown hook kills the process if the JVM exits before {@link #close()}.
 *
 * <p>When no {@code etcd} executable is on the {@code PATH}, starting fails with a message that says
 * how to install it: tests that need etcd fail rather than skip.
 */
final class EtcdProcess implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final int BIND_ATTEMPTS = 5;

    private final HttpClient http;
    private @Nullable Path dataDir;
    private @Nullable Path log;
    private @Nullable Process process;
    private int clientPort;
    private int peerPort;

    /** Creates a stopped server; {@link #start()} or registering it as an extension starts it. */
    public EtcdProcess() {
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "etcd-process-cleanup"));
    }

    /**
     * Returns a started server.
     *
     * @return the server; the caller closes it
     */
    public static EtcdProcess started() {
        EtcdProcess etcd = new EtcdProcess();
        etcd.start();
        return etcd;
    }

    /**
     * Starts the server and waits until it reports itself healthy. The first start picks free ports
     * (retrying when another process took one in between); later starts reuse the ports and the data.
     *
     * @throws IllegalStateException when etcd is not installed or does not become healthy in time
     */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        String executable = findEtcd();
        try {
            if (dataDir == null) {
                dataDir = Files.createTempDirectory("isthmus-etcd-");
                log = dataDir.resolve("etcd.log");
                for (int attempt = 1; ; attempt++) {
                    clientPort = freePort();
                    peerPort = freePort();
                    if (launch(executable) || attempt == BIND_ATTEMPTS) {
                        break;
                    }
                }
            } else {
                // The ports were ours a moment ago; retry in case the kernel has not released them yet.
                for (int attempt = 1; !launch(executable); attempt++) {
                    if (attempt == BIND_ATTEMPTS) {
                        break;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitHealthy();
    }

    /** Stops the server gracefully (SIGTERM, then SIGKILL after 10 s); {@link #start()} brings it back. */
    public synchronized void stop() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** Kills the server and deletes its data. */
    @Override
    public synchronized void close() {
        Process p = process;
        process = null;
        if (p != null) {
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException | UncheckedIOException e) {
                // A leftover temporary directory is harmless.
            }
            dataDir = null;
        }
    }

    /**
     * Returns the client URL, e.g. {@code http://127.0.0.1:40123}.
     *
     * @return the URL
     */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + clientPort);
    }

    /**
     * Returns the client URL as the one-element list {@code EtcdConfigStore.builder(List)} takes.
     *
     * @return the URLs
     */
    public List<URI> endpoints() {
        return List.of(endpoint());
    }

    /**
     * Returns whether the server process is running.
     *
     * @return {@code true} while it runs
     */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    private boolean launch(String executable) throws IOException {
        Path data = requireNonNull(dataDir, "dataDir");
        Path logFile = requireNonNull(log, "log");
        String client = endpoint().toString();
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> command = new ArrayList<>(List.of(executable,
                "--name", "isthmus-test",
                "--data-dir", data.resolve("data").toString(),
                "--listen-client-urls", client,
                "--advertise-client-urls", client,
                "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "isthmus-test=" + peer,
                "--initial-cluster-state", "new",
                "--logger", "zap",
                "--log-level", "warn"));
        Files.writeString(logFile, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        process = p;
        try {
            // Either it answers, or it dies (a port was taken), whichever comes first.
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || healthy());
        } catch (ConditionTimeoutException e) {
            return true; // awaitHealthy() reports it with the log
        }
        if (p.isAlive()) {
            return true;
        }
        process = null;
        String output = Files.readString(logFile, StandardCharsets.UTF_8);
        if (output.contains("address already in use")) {
            return false;
        }
        throw new IllegalStateException("etcd exited with status " + p.exitValue() + " on start; its log "
                + logFile + ":\n" + tail(output));
    }

    private void awaitHealthy() {
        Process p = process;
        String output = "";
        if (p != null && p.isAlive()) {
            try {
                await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50)).until(this::healthy);
                return;
            } catch (ConditionTimeoutException e) {
                p.destroyForcibly();
                process = null;
            }
        }
        try {
            output = log == null ? "" : Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            output = "(cannot read " + log + ": " + e + ")";
        }
        throw new IllegalStateException("etcd did not become healthy on " + endpoint() + " within "
                + START_TIMEOUT.toSeconds() + " s; its log " + log + ":\n" + tail(output));
    }

    private boolean healthy() {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(endpoint() + "/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String findEtcd() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path candidate = Path.of(dir, "etcd");
                if (Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
        }
        throw new IllegalStateException("etcd is not installed: no `etcd` executable on PATH (" + path
                + "). These tests need a real etcd server; install Debian's package: "
                + "`apt-get update && apt-get install -y etcd-server`");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String tail(String output) {
        String[] lines = output.split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 40), lines.length));
    }
}
