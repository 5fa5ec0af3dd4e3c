package io.isthmus.mesh.daemon;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code router.*} settings reach the daemon's router: with {@code maxHeaderCount},
 * {@code maxConnectionsPerOrigin} and {@code maxPendingRequestsPerOrigin} set low, real requests on
 * 127.0.0.1 get 431 and 503 {@code origin_overloaded}; a value the router refuses stops the start.
 */
class DaemonRouterSettingsTest {

    private static final int ORIGIN_DELAY_MILLIS = 3_000;

    @TempDir
    Path state;

    private FastAndSlowOrigin origin;
    private RouterDaemon daemon;

    private Map<String, String> settings(String stateDir) throws IOException {
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        return AdminApiTest.settings(state.resolve(stateDir), tokens);
    }

    @BeforeEach
    void start() throws IOException {
        origin = new FastAndSlowOrigin(ORIGIN_DELAY_MILLIS, 1, 20);
        Map<String, String> settings = settings("state");
        settings.put("router.ioThreads", "1"); // the per-origin limits are shared by the I/O threads
        settings.put("router.maxConnectionsPerOrigin", "1");
        settings.put("router.maxPendingRequestsPerOrigin", "0");
        settings.put("router.maxHeaderCount", "20");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), settings), List.of());
        daemon.store().put(OriginPool.builder("app-pool").site("tokyo")
                .endpoint(Endpoint.of("127.0.0.1", origin.port())).build());
        daemon.store().put(LoadBalancer.builder("app").domain("app.example").advertiseAt("tokyo")
                .defaultPool("app-pool").build());
        await().atMost(Duration.ofSeconds(10)).until(() -> request("/fast", 0).startsWith("HTTP/1.1 200"));
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        origin.close();
    }

    @Test
    void maxHeaderCountAnswersARequestWithMoreFieldsWith431() {
        assertThat(request("/fast", 15)).startsWith("HTTP/1.1 200");
        assertThat(request("/fast", 25)).startsWith("HTTP/1.1 431");
    }

    @Test
    void originLimitsAnswerARequestBeyondThemWith503OriginOverloaded() throws Exception {
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> request("/slow", 0));
        assertThat(origin.slowArrived.await(10, TimeUnit.SECONDS)).as("the slow request holds the one connection").isTrue();

        String refused = request("/fast", 0);
        assertThat(refused).startsWith("HTTP/1.1 503").contains("is overloaded")
                .contains("maxConnectionsPerOrigin 1, maxPendingRequestsPerOrigin 0");
        assertThat(slow.get(20, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200").contains("\r\nslow\r\n");
    }

    @Test
    void aValueTheRouterRefusesStopsTheStartNamingTheSetting() throws IOException {
        Map<String, String> settings = settings("refused");
        settings.put("router.ioThreads", "0");
        DaemonConfig config = DaemonConfig.load(null, Map.of(), settings);
        assertThatThrownBy(() -> RouterDaemon.start(config, List.of()))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage("--router-io-threads: router.ioThreads: 0 (expected: > 0)");
    }

    /** Sends one request with {@code extraHeaders} filler fields on a connection of its own; returns the response. */
    private String request(String path, int extraHeaders) {
        StringBuilder head = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: app.example\r\n");
        for (int i = 0; i < extraHeaders; i++) {
            head.append("X-Filler-").append(i).append(": ").append(i).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        try (Socket socket = new Socket(daemon.ingressAddress().getAddress(), daemon.ingressAddress().getPort())) {
            socket.setSoTimeout(15_000);
            socket.getOutputStream().write(head.toString().getBytes(US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            return response.toString(US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
