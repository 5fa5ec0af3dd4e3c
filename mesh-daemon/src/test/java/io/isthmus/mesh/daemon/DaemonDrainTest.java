package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's router drains on close, and its meters are in the daemon's {@code /metrics}. */
class DaemonDrainTest {

    private static final int IN_FLIGHT = 6;
    private static final int ORIGIN_DELAY_MILLIS = 4_000;

    @TempDir
    Path state;

    private FastAndSlowOrigin origin;
    private RouterDaemon daemon;

    @BeforeEach
    void start() throws IOException {
        origin = new FastAndSlowOrigin(ORIGIN_DELAY_MILLIS, IN_FLIGHT, 30);
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        Map<String, String> settings = AdminApiTest.settings(state.resolve("state"), tokens);
        settings.put("drain.delay", "300ms");
        settings.put("drain.timeout", "15s");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), settings), List.of());
        daemon.store().put(OriginPool.builder("slow-pool").site("tokyo")
                .endpoint(Endpoint.of("127.0.0.1", origin.port())).build());
        daemon.store().put(LoadBalancer.builder("slow").domain("slow.example").advertiseAt("tokyo")
                .defaultPool("slow-pool").build());
        HttpClient client = client();
        await().atMost(Duration.ofSeconds(10)).until(() -> send(client, "/fast").statusCode() == 200);
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        origin.close();
    }

    @Test
    void requestsInFlightCompleteWhileNewConnectionsAreRefused() throws Exception {
        Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), null);
        assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
        InetSocketAddress ingress = daemon.ingressAddress();
        List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        for (int i = 0; i < IN_FLIGHT; i++) {
            // One client each: every request holds its own connection.
            HttpClient client = client();
            inFlight.add(CompletableFuture.supplyAsync(() -> send(client, "/slow")));
        }
        assertThat(origin.slowArrived.await(10, TimeUnit.SECONDS)).as("every slow request reached the origin").isTrue();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(daemon::close);
        await().atMost(Duration.ofSeconds(2)).until(() -> admin.get("/readyz").statusCode() == 503);
        assertThat(admin.get("/readyz").body()).contains("draining");
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThatThrownBy(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(ingress, 1_000);
            }
        }).isInstanceOf(ConnectException.class));
        assertThat(inFlight).as("the refusal came while requests were still in flight").noneMatch(CompletableFuture::isDone);

        for (CompletableFuture<HttpResponse<String>> request : inFlight) {
            HttpResponse<String> response = request.get(20, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("slow");
        }
        closing.get(20, TimeUnit.SECONDS);
        assertThat(daemon.state()).isEqualTo(DaemonState.DRAINING);
    }

    @Test
    void metricsEndpointShowsTheRoutersRequestMeters() {
        HttpClient client = client();
        for (int i = 0; i < 3; i++) {
            assertThat(send(client, "/fast").statusCode()).isEqualTo(200);
        }
        Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), null);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String metrics = admin.get("/metrics").body();
            assertThat(metrics.lines().filter(l -> l.startsWith("isthmus_requests_seconds_count{")
                    && l.contains("load_balancer=\"default/slow\"") && l.contains("decision=\"routed\"")
                    && l.contains("status_class=\"2xx\"")))
                    .singleElement()
                    .satisfies(line -> assertThat(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                            .isGreaterThanOrEqualTo(3.0));
            assertThat(metrics).contains("isthmus_upstream_duration_seconds_count{");
            assertThat(metrics).contains("isthmus_daemon_ready{");
        });
    }

    private HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(daemon.ingressAddress())).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> send(HttpClient client, String path) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create("http://slow.example" + path))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
