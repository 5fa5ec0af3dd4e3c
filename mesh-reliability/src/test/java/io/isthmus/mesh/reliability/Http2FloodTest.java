package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.RawHttp2;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.IOException;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/2 floods against the h2c ingress: one attacker keeps opening connections that alternate a
 * rapid-reset flood (500 HEADERS each followed by RST_STREAM) and a CONTINUATION flood (320 kB of
 * header block on one stream). Every flood connection must end in GOAWAY and nothing may reach the
 * origin. The latency criterion, tagged {@code pending-hardening} as the data plane does not meet it
 * yet: a well-behaved client's p99 latency over {@value #MEASURED} requests under the flood must stay within 10% of its p99
 * without it plus {@value #ALLOWANCE_MILLIS} ms (an absolute allowance: the machine's two cores are
 * shared by the attacker, the router, the origin and the client).
 */
class Http2FloodTest {

    private static final int WARM_UP = 300;
    private static final int MEASURED = 500;
    private static final long ALLOWANCE_MILLIS = 2;
    private static final int MAX_FLOOD_CONNECTIONS = 5_000;
    private static final AtomicInteger brokenPipes = new AtomicInteger();

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void everyFloodConnectionEndsInGoawayAndNothingReachesTheOrigin() throws Exception {
        try (Mesh mesh = new Mesh(); CountingOrigin origin = new CountingOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.maxConcurrentStreams(50).maxHeaderSize(8192));
            mesh.loadBalancer("app", "tokyo", "tokyo", Mesh.endpoint(origin.address()));
            mesh.awaitApplied(tokyo);
            int goaways = 0;
            for (int i = 0; i < 20; i++) {
                List<RawHttp2.Frame> frames = i % 2 == 0 ? rapidReset(tokyo) : continuationFlood(tokyo);
                assertThat(frames).as("flood connection %d", i).isNotEmpty();
                assertThat(frames.get(frames.size() - 1).type()).as("flood connection %d", i)
                        .isEqualTo(RawHttp2.GOAWAY);
                goaways++;
            }
            System.out.printf("h2-floods: 20 flood connections, %d ended in GOAWAY%n", goaways);
            assertThat(origin.requestsTo("/flood")).isZero();
            assertThat(Mesh.get(tokyo, "http://app/after").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Not met yet: a flood connection holds the event loop it shares with well-behaved connections
     * long enough to put a few of their requests past 100 ms. Measured on the two-core build machine:
     * p99 4.2 ms without and 200-276 ms under the flood with one I/O thread; 21 ms without and 51 ms
     * under it with two.
     */
    @Test
    @Tag("pending-hardening")
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void floodsBarelyMoveAWellBehavedClientsP99() throws Exception {
        try (Mesh mesh = new Mesh(); CountingOrigin origin = new CountingOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.ioThreads(2).maxConcurrentStreams(50).maxHeaderSize(8192));
            mesh.loadBalancer("app", "tokyo", "tokyo", Mesh.endpoint(origin.address()));
            mesh.awaitApplied(tokyo);
            HttpClient client = Mesh.clientOf(tokyo);
            measure(client, WARM_UP, "warm-up");
            long[] baseline = measure(client, MEASURED, "baseline");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger floods = new AtomicInteger();
            AtomicInteger goaways = new AtomicInteger();
            ExecutorService attacker = Executors.newSingleThreadExecutor();
            long[] underFlood;
            try {
                Future<?> attack = attacker.submit(() -> {
                    for (int i = 0; i < MAX_FLOOD_CONNECTIONS && !stop.get(); i++) {
                        List<RawHttp2.Frame> frames = i % 2 == 0 ? rapidReset(tokyo) : continuationFlood(tokyo);
                        floods.incrementAndGet();
                        if (!frames.isEmpty() && frames.get(frames.size() - 1).type() == RawHttp2.GOAWAY) {
                            goaways.incrementAndGet();
                        }
                    }
                    return null;
                });
                underFlood = measure(client, MEASURED, "flood");
                stop.set(true);
                attack.get(30, TimeUnit.SECONDS);
            } finally {
                attacker.shutdownNow();
            }
            double baseP99 = p99Millis(baseline);
            double floodP99 = p99Millis(underFlood);
            double bound = baseP99 * 1.10 + ALLOWANCE_MILLIS;
            System.out.printf("h2-floods-latency: %d flood connections (rapid reset and CONTINUATION alternating), %d ended in "
                    + "GOAWAY (%d closed while the flood was still being written); well-behaved p99 %.2f ms without, %.2f ms under the flood (bound %.2f ms); "
                    + "p50 %.2f -> %.2f ms, max %.2f -> %.2f ms, %d -> %d requests over 100 ms%n",
                    floods.get(), goaways.get(), brokenPipes.get(), baseP99, floodP99, bound, percentileMillis(baseline, 0.5),
                    percentileMillis(underFlood, 0.5), percentileMillis(baseline, 1), percentileMillis(underFlood, 1),
                    Arrays.stream(baseline).filter(n -> n > 100_000_000).count(),
                    Arrays.stream(underFlood).filter(n -> n > 100_000_000).count());
            assertThat(floods.get()).isPositive();
            assertThat(goaways.get()).as("flood connections ending in GOAWAY").isEqualTo(floods.get());
            assertThat(floodP99).as("p99 under the flood, ms").isLessThanOrEqualTo(bound);
            assertThat(origin.requestsTo("/flood")).isZero();
        }
    }

    private static long[] measure(HttpClient client, int count, String label) throws Exception {
        long[] nanos = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://app/" + label + "/" + i))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            nanos[i] = System.nanoTime() - start;
            assertThat(response.statusCode()).as("%s request %d", label, i).isEqualTo(200);
        }
        return nanos;
    }

    private static double p99Millis(long[] nanos) {
        return percentileMillis(nanos, 0.99);
    }

    private static double percentileMillis(long[] nanos, double quantile) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(sorted.length * quantile) - 1)] / 1e6;
    }

    private static List<RawHttp2.Frame> rapidReset(MeshRouter router) throws Exception {
        try (RawHttp2 attack = new RawHttp2(router.ingressAddress())) {
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/flood")
                    .authority("app");
            for (int i = 0; i < 500; i++) {
                int stream = 1 + 2 * i;
                attack.frame(RawHttp2.HEADERS, 0x4, stream, attack.encode(stream, headers));
                attack.frame(RawHttp2.RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8});
            }
            return flushAndRead(attack);
        }
    }

    /**
     * Sends the flood and reads the answer. When the router closes the connection while the flood is
     * still being written (a broken pipe), what it sent before closing is read all the same.
     */
    private static List<RawHttp2.Frame> flushAndRead(RawHttp2 attack) throws IOException {
        try {
            attack.flush();
        } catch (SocketException closedByTheRouter) {
            brokenPipes.incrementAndGet();
        }
        return attack.readUntil(RawHttp2.GOAWAY);
    }

    private static List<RawHttp2.Frame> continuationFlood(MeshRouter router) throws Exception {
        try (RawHttp2 attack = new RawHttp2(router.ingressAddress())) {
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/flood")
                    .authority("app");
            attack.frame(RawHttp2.HEADERS, 0x0, 1, attack.encode(1, headers));
            byte[] junk = new byte[16_000];
            for (int i = 0; i < junk.length; i += 8) {
                System.arraycopy(new byte[] {0x00, 0x02, 'a', 'b', 0x03, 'x', 'y', 'z'}, 0, junk, i, 8);
            }
            for (int i = 0; i < 20; i++) {
                attack.frame(RawHttp2.CONTINUATION, 0x0, 1, junk);
            }
            return flushAndRead(attack);
        }
    }
}
