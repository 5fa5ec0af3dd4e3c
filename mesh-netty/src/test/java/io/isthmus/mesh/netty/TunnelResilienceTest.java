package io.isthmus.mesh.netty;

import static io.isthmus.mesh.netty.MeshFixture.endpoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tunnel pools, re-dials with backoff, the per-site circuit breaker and retries of idempotent requests. */
class TunnelResilienceTest {

    private MeshFixture mesh;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
    }

    @AfterEach
    void tearDown() {
        mesh.close();
    }

    @Test
    void spreadsRequestsOverAPoolOfTunnelConnectionsPerSite() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.tunnelConnectionsPerSite(2));
            MeshRouter osaka = mesh.site("osaka");
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            for (int i = 0; i < 6; i++) {
                assertThat(MeshFixture.get(tokyo, "http://osaka-app/p/" + i).statusCode()).isEqualTo(200);
            }
            assertThat(mesh.tunnelEvents).filteredOn(e -> e.startsWith("out tokyo")).hasSize(2);
            assertThat(origin.requests).hasValue(6);
        }
    }

    /** A tunnel endpoint that accepts TCP connections and closes them at once, counting them. */
    private static final class RefusingPeer implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final Thread thread;

        RefusingPeer() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                for (int i = 0; i < 1000 && !server.isClosed(); i++) {
                    try (Socket s = server.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "refusing-peer");
            thread.setDaemon(true);
            thread.start();
        }

        Endpoint endpoint() {
            return Endpoint.of("127.0.0.1", server.getLocalPort());
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void failsFastWithoutRedialingWhileASiteIsDownAndOpensItsCircuit() throws Exception {
        try (RefusingPeer peer = new RefusingPeer()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.circuitBreakerOpenDuration(Duration.ofSeconds(30)));
            mesh.store.put(Site.builder("osaka").tunnelEndpoint(peer.endpoint()).build());
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", Endpoint.of("127.0.0.1", 9));
            mesh.awaitApplied(tokyo);
            long start = System.nanoTime();
            HttpResponse<String> last = null;
            for (int i = 0; i < 20; i++) {
                last = MeshFixture.get(tokyo, "http://osaka-app/x");
                assertThat(last.statusCode()).isEqualTo(503);
            }
            assertThat(last.headers().firstValue("x-isthmus-error").orElse(""))
                    .contains("site osaka is failing: its circuit breaker is open");
            assertThat(peer.accepted.get()).as("dials while in backoff").isBetween(1, 6);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void redialsASiteOnceItIsReachableAgain() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo");
            MeshRouter osaka = mesh.site("osaka");
            Endpoint real = osaka.tunnelEndpoint();
            mesh.store.put(Site.builder("osaka").tunnelEndpoint(Endpoint.of("127.0.0.1", MeshFixture.closedPort())).build());
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            assertThat(MeshFixture.get(tokyo, "http://osaka-app/down").statusCode()).isEqualTo(503);

            mesh.store.put(Site.builder("osaka").tunnelEndpoint(real).build());
            mesh.awaitApplied(tokyo, osaka);
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                    assertThat(MeshFixture.get(tokyo, "http://osaka-app/up").statusCode()).isEqualTo(200));
        }
    }

    /** An origin whose first connection reads a request and closes without answering; later ones answer 200. */
    private static final class FlakyOrigin implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger connections = new AtomicInteger();

        FlakyOrigin() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 100 && !server.isClosed(); i++) {
                    try (Socket s = server.accept()) {
                        int n = connections.incrementAndGet();
                        s.setSoTimeout(5000);
                        InputStream in = s.getInputStream();
                        StringBuilder head = new StringBuilder();
                        int c;
                        while (head.length() < 65536 && (c = in.read()) >= 0) {
                            head.append((char) c);
                            if (head.toString().endsWith("\r\n\r\n")) {
                                break;
                            }
                        }
                        if (n == 1) {
                            continue;
                        }
                        OutputStream out = s.getOutputStream();
                        out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfine"
                                .concat("!").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException e) {
                        if (server.isClosed()) {
                            return;
                        }
                    }
                }
            }, "flaky-origin");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void retriesAnIdempotentRequestWhoseUpstreamClosedBeforeAnswering() throws Exception {
        try (FlakyOrigin origin = new FlakyOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo");
            mesh.loadBalancer("app", "tokyo", "tokyo", Endpoint.of("127.0.0.1", origin.server.getLocalPort()));
            mesh.awaitApplied(tokyo);
            HttpResponse<String> response = MeshFixture.get(tokyo, "http://app/idempotent");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("fine!");
            assertThat(origin.connections).hasValue(2);
        }
    }

    @Test
    void doesNotRetryARequestWithABody() throws Exception {
        try (FlakyOrigin origin = new FlakyOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo");
            mesh.loadBalancer("app", "tokyo", "tokyo", Endpoint.of("127.0.0.1", origin.server.getLocalPort()));
            mesh.awaitApplied(tokyo);
            HttpResponse<String> response = MeshFixture.clientOf(tokyo).send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://app/put"))
                            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("payload"))
                            .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(origin.connections).hasValue(1);
        }
    }

    @Test
    void tunnelListenerClosesConnectionsBeyondItsLimitAtAccept() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo");
            MeshRouter osaka = mesh.site("osaka", b -> b.maxConnections(1));
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            assertThat(MeshFixture.get(tokyo, "http://osaka-app/first").statusCode()).isEqualTo(200);
            try (RawHttp intruder = new RawHttp(osaka.tunnelAddress())) {
                assertThat(intruder.closedByServer()).isTrue();
            }
            assertThat(MeshFixture.get(tokyo, "http://osaka-app/second").statusCode())
                    .as("the established tunnel goes on").isEqualTo(200);
        }
    }

    @Test
    void probesASiteAgainAfterTheCircuitWasOpenAndClosesItWhenTheSiteAnswers() throws Exception {
        try (RefusingPeer peer = new RefusingPeer(); TestOrigin origin = new TestOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.circuitBreakerOpenDuration(Duration.ofMillis(300)));
            MeshRouter osaka = mesh.site("osaka");
            Endpoint real = osaka.tunnelEndpoint();
            mesh.store.put(Site.builder("osaka").tunnelEndpoint(peer.endpoint()).build());
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() ->
                    MeshFixture.get(tokyo, "http://osaka-app/down").headers().firstValue("x-isthmus-error")
                            .orElse("").contains("circuit breaker is open"));

            mesh.store.put(Site.builder("osaka").tunnelEndpoint(real).build());
            mesh.awaitApplied(tokyo, osaka);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                    assertThat(MeshFixture.get(tokyo, "http://osaka-app/up").statusCode()).isEqualTo(200));
            for (int i = 0; i < 5; i++) {
                assertThat(MeshFixture.get(tokyo, "http://osaka-app/again").statusCode()).isEqualTo(200);
            }
        }
    }
}
