package io.isthmus.mesh.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The limits per origin endpoint: connections, and requests waiting for one, with real sockets on
 * 127.0.0.1. The origin holds each response open (after its first chunk) until the test releases it.
 */
class OriginLimitsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ExecutorService clients = Executors.newCachedThreadPool();
    private MeshFixture mesh;
    private TestOrigin origin;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new TestOrigin();
        origin.releaseSecondChunk = new CompletableFuture<>();
    }

    @AfterEach
    void tearDown() {
        origin.releaseSecondChunk.complete(null);
        clients.shutdownNow();
        mesh.close();
        origin.close();
    }

    private MeshRouter router(int connections, int pending) {
        MeshRouter tokyo = mesh.site("tokyo", b -> b.meterRegistry(registry).maxConnectionsPerOrigin(connections)
                .maxPendingRequestsPerOrigin(pending));
        mesh.loadBalancer("app", "tokyo", "tokyo", MeshFixture.endpoint(origin.address()));
        mesh.awaitApplied(tokyo);
        return tokyo;
    }

    /** Sends one request on a connection of its own and reads the response (the whole chunked body). */
    private Future<String> request(MeshRouter router, String path, List<RawHttp> opened) throws Exception {
        RawHttp client = new RawHttp(router.ingressAddress());
        client.socket.setSoTimeout(15_000);
        opened.add(client);
        client.send("GET " + path + " HTTP/1.1\r\nHost: app\r\n\r\n");
        return clients.submit(client::readResponse);
    }

    private double failed(String reason) {
        Counter counter = registry.find("isthmus.requests.failed").tags("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void queuesRequestsBeyondTheConnectionLimitAndAnswersThoseBeyondTheQueueWith503AtOnce() throws Exception {
        MeshRouter tokyo = router(2, 2);
        List<RawHttp> opened = new ArrayList<>();
        try {
            List<Future<String>> busy = List.of(request(tokyo, "/busy/1", opened), request(tokyo, "/busy/2", opened));
            await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() == 2);
            List<Future<String>> more = List.of(request(tokyo, "/more/3", opened), request(tokyo, "/more/4", opened),
                    request(tokyo, "/more/5", opened));
            // Two of the three wait in the queue; the one beyond it is answered at once.
            await().atMost(Duration.ofSeconds(5)).until(() -> more.stream().filter(Future::isDone).count() == 1);
            Future<String> refused = more.stream().filter(Future::isDone).findFirst().orElseThrow();
            String answer = refused.get();
            assertThat(answer).startsWith("HTTP/1.1 503").contains("is overloaded")
                    .contains("2 connections open and 2 requests waiting")
                    .contains("maxConnectionsPerOrigin 2, maxPendingRequestsPerOrigin 2");
            assertThat(origin.requests).as("requests at the origin while both connections are busy").hasValue(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> failed("origin_overloaded") == 1);

            origin.releaseSecondChunk.complete(null);
            for (Future<String> f : busy) {
                assertThat(f.get(10, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200");
            }
            for (Future<String> f : more) {
                if (f != refused) {
                    assertThat(f.get(10, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200");
                }
            }
            assertThat(origin.requests).hasValue(4);
            assertThat(origin.connections).as("origin connections: the queued requests reuse the two").hasValue(2);
        } finally {
            for (RawHttp c : opened) {
                c.close();
            }
        }
    }

    @Test
    void aQueuedRequestWhoseClientLeavesGivesUpItsPlace() throws Exception {
        MeshRouter tokyo = router(1, 1);
        List<RawHttp> opened = new ArrayList<>();
        try {
            Future<String> busy = request(tokyo, "/busy", opened);
            await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() == 1);
            Future<String> a = request(tokyo, "/a", opened);
            Future<String> b = request(tokyo, "/b", opened);
            await().atMost(Duration.ofSeconds(5)).until(() -> a.isDone() || b.isDone());
            // The one not refused waits in the queue; its client leaves.
            RawHttp waiting = a.isDone() ? opened.get(2) : opened.get(1);
            assertThat((a.isDone() ? a : b).get()).startsWith("HTTP/1.1 503");
            waiting.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> failed("client_closed") == 1);

            Future<String> next = request(tokyo, "/next", opened);
            origin.releaseSecondChunk.complete(null);
            assertThat(busy.get(10, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200");
            assertThat(next.get(10, TimeUnit.SECONDS)).as("a request queued in the place given up").startsWith("HTTP/1.1 200");
            assertThat(origin.requests).as("the request whose client left never reached the origin").hasValue(2);
            assertThat(failed("origin_overloaded")).isEqualTo(1);
        } finally {
            for (RawHttp c : opened) {
                c.close();
            }
        }
    }

    @Test
    void rejectsLimitsOutOfRangeNamingTheSetting() {
        MeshRouter.Builder builder = MeshRouter.builder(mesh.ca.issueSite("tokyo"), mesh.store);
        assertThatThrownBy(() -> builder.maxConnectionsPerOrigin(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxConnectionsPerOrigin: 0 (expected: > 0)");
        assertThatThrownBy(() -> builder.maxPendingRequestsPerOrigin(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxPendingRequestsPerOrigin: -1 (expected: >= 0)");
    }
}
