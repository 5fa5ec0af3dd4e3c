package io.isthmus.mesh.netty;

import static io.isthmus.mesh.netty.MeshFixture.endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Draining a router and replacing its credentials while requests are in flight loses none of them. */
class DrainAndReloadTest {

    private MeshFixture mesh;
    private TestOrigin origin;
    private MeshRouter tokyo;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new TestOrigin();
        tokyo = mesh.site("tokyo");
        osaka = mesh.site("osaka");
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(origin.address()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.close();
    }

    @Test
    void drainLetsInFlightRequestsFinishClosesIdleConnectionsAndRefusesNewOnes() throws Exception {
        HttpClient client = MeshFixture.clientOf(tokyo);
        assertThat(MeshFixture.get(tokyo, "http://osaka-app/warm").statusCode()).isEqualTo(200);
        try (RawHttp idle = new RawHttp(tokyo.ingressAddress())) {
            assertThat(idle.send("GET /idle HTTP/1.1\r\nHost: osaka-app\r\n\r\n").readResponse()).startsWith("HTTP/1.1 200");
            CompletableFuture<Void> release = new CompletableFuture<>();
            origin.releaseSecondChunk = release;
            int before = origin.requests.get();
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                inFlight.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://osaka-app/slow/" + i))
                        .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> origin.requests.get() == before + 4);

            CompletableFuture<Void> drained = tokyo.drain(Duration.ofSeconds(10));

            assertThat(idle.closedByServer()).as("idle keep-alive connection closed").isTrue();
            try (RawHttp late = new RawHttp(tokyo.ingressAddress())) {
                assertThat(late.closedByServer()).as("new connection refused").isTrue();
            } catch (java.net.ConnectException e) {
                // The listener is already closed: refused as well.
            }
            assertThat(drained).isNotDone();
            release.complete(null);
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                HttpResponse<String> response = f.get(10, TimeUnit.SECONDS);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo("first chunk\nsecond chunk\n");
            }
            drained.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void drainSendsGoawayToH2cClientsAndFinishesTheirOpenStreams() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        origin.releaseSecondChunk = release;
        try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
            client.frame(RawHttp2.HEADERS, 0x5, 1, client.encode(1, new DefaultHttp2Headers().method("GET")
                    .scheme("http").path("/slow").authority("osaka-app"))).flush();
            List<RawHttp2.Frame> head = client.readUntil(RawHttp2.DATA);
            assertThat(head).extracting(RawHttp2.Frame::type).contains(RawHttp2.HEADERS);

            CompletableFuture<Void> drained = tokyo.drain(Duration.ofSeconds(10));
            List<RawHttp2.Frame> goaway = client.readUntil(RawHttp2.GOAWAY);
            assertThat(goaway.get(goaway.size() - 1).type()).isEqualTo(RawHttp2.GOAWAY);
            release.complete(null);
            List<RawHttp2.Frame> rest = client.readUntil(-1);
            assertThat(rest).anySatisfy(f -> {
                assertThat(f.type()).isEqualTo(RawHttp2.DATA);
                assertThat(f.flags() & 0x1).as("END_STREAM").isEqualTo(1);
            });
            drained.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void newCredentialsServeNewTunnelsWithoutFailingRequestsInFlight() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicInteger ok = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> halfway = new CompletableFuture<>();
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                workers.add(pool.submit(() -> {
                    HttpClient client = MeshFixture.clientOf(tokyo);
                    for (int i = 0; i < 40; i++) {
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://osaka-app/r/" + i))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200 && r.body().equals("first chunk\nsecond chunk\n")) {
                                if (ok.incrementAndGet() == 40) {
                                    halfway.complete(null);
                                }
                            } else {
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            halfway.get(20, TimeUnit.SECONDS);
            long outBefore = mesh.tunnelEvents.stream().filter(e -> e.startsWith("out tokyo")).count();
            tokyo.updateCredentials(mesh.ca.issueSite("tokyo"));
            osaka.updateCredentials(mesh.ca.issueSite("osaka"));
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS);
            }
            assertThat(failures).isEmpty();
            assertThat(ok).hasValue(160);
            assertThat(mesh.tunnelEvents.stream().filter(e -> e.startsWith("out tokyo")).count())
                    .as("a new tunnel was dialled with the new credentials").isGreaterThan(outBefore);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesCredentialsOfAnotherSite() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tokyo.updateCredentials(mesh.ca.issueSite("osaka")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spiffe://mesh.test/site/osaka")
                .hasMessageContaining("expected: credentials of spiffe://mesh.test/site/tokyo");
    }
}
