package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.RawHttp2;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
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
 * header block on one stream). Every flood connection must end in GOAWAY, and neither a request nor a
 * connection may reach the origin on its behalf. The latency criterion: with one I/O thread (every
 * flood connection shares the event loop of the well-behaved client), a well-behaved client's p99
 * latency under a flood of {@value #FLOOD_CONNECTIONS_PER_SECOND} connections per second must stay
 * within 10% of its p99 without it plus {@value #ALLOWANCE_MILLIS} ms (an absolute allowance: the
 * machine's two cores are shared by the attacker, the router, the origin and the client).
 */
class Http2FloodTest {

    private static final int WARM_UP = 300;
    private static final int MEASURED = 500;
    private static final int ROUNDS = 5;
    /** Alternating rounds run first and not measured, while the JIT still compiles the flood's paths. */
    private static final int WARM_UP_ROUNDS = 4;
    private static final int IO_THREADS = 1;
    private static final long ALLOWANCE_MILLIS = 2;
    private static final int MAX_FLOOD_CONNECTIONS = 5_000;
    /**
     * The attacker's rate in the latency test: every second, 100 rapid-reset connections (50,000
     * streams opened and reset) and 100 CONTINUATION floods (32 MB of header blocks).
     */
    private static final int FLOOD_CONNECTIONS_PER_SECOND = 200;
    private static final AtomicInteger brokenPipes = new AtomicInteger();
    /**
     * The floods' frames, encoded once: every flood connection sends the same bytes (HPACK starts
     * afresh on each connection), and the attacker, which shares this JVM with the router, makes no
     * garbage for the router's collections to pay for.
     */
    private static final byte[] RAPID_RESET = rapidResetFrames();
    private static final byte[] CONTINUATION_FLOOD = continuationFloodFrames();

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void everyFloodConnectionEndsInGoawayAndNothingReachesTheOrigin() throws Exception {
        try (MeshFixture mesh = new MeshFixture(); CountingOrigin origin = new CountingOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.maxConcurrentStreams(50).maxHeaderSize(8192));
            mesh.loadBalancer("app", "tokyo", "tokyo", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo);
            int goaways = 0;
            int connectionsBefore = origin.connections.get();
            for (int i = 0; i < 20; i++) {
                List<RawHttp2.Frame> frames = i % 2 == 0 ? rapidReset(tokyo) : continuationFlood(tokyo);
                assertThat(frames).as("flood connection %d", i).isNotEmpty();
                assertThat(frames.get(frames.size() - 1).type()).as("flood connection %d", i)
                        .isEqualTo(RawHttp2.GOAWAY);
                goaways++;
            }
            System.out.printf("h2-floods: 20 flood connections, %d ended in GOAWAY%n", goaways);
            assertThat(origin.requestsTo("/flood")).isZero();
            // Each rapid-reset connection resets its streams in the read that opened them: none gets as far
            // as acquiring an origin connection (about 100 per flood connection did before).
            assertThat(origin.connections.get() - connectionsBefore).as("origin connections opened for flood streams")
                    .isZero();
            assertThat(MeshFixture.get(tokyo, "http://app/after").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Baseline and flood phases of {@value #MEASURED} requests alternate {@value #ROUNDS} times on the
     * same router and client, and the medians of their p99s are compared: the machine's noise (other
     * builds, GC) moves a single p99 by more than 10%, while it moves the median of several alternating
     * rounds much less. Both conditions are measured warm: the client warms up without and then under
     * the flood, and {@value #WARM_UP_ROUNDS} alternating rounds run unmeasured first (the JIT compiles
     * the flood's paths for several seconds: with fewer, the first measured rounds under the flood often
     * had a p99 of 8-13 ms, the later ones 4-6 ms).
     *
     * <p>The attacker sends {@value #FLOOD_CONNECTIONS_PER_SECOND} flood connections per second, a
     * fixed rate, so that the test measures what the flood costs the router, not what the attacker
     * costs the machine. An attacker that opens connections one after another as fast as the router
     * answers (1,000-2,000 per second here) keeps one of the machine's two cores busy by itself: it
     * moved a client's p99 as much when its flood went to a second router of this JVM, which the
     * measured router never saw (1.9 -> 5.5 ms, 2.4 -> 5.6 ms), as when it went to the measured one
     * (0.8 -> 5.7 ms); no router change can pass a bound of 10% against that on two cores. What the
     * router does against the flood: no routing, upstream or stream channel for a reset stream, a
     * rapid-reset connection ended after 33 streams reset before their response (not after 200
     * RST_STREAM frames), and no more reading from a connection ended by an error.
     *
     * <p>Still tagged {@code pending-hardening}. On a quiet machine the bound is met (4 runs of 4:
     * median p99 0.88-1.46 ms without the flood, 1.65-2.66 ms under it, bounds 2.97-3.61 ms), but the
     * p99 still doubles, well beyond 10% alone, and with a test suite running beside it the bound was
     * missed in 1 run of 2 (2.78 -> 6.37 ms, bound 5.06 ms).
     */
    @Test
    @Tag("pending-hardening")
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void floodsBarelyMoveAWellBehavedClientsP99() throws Exception {
        try (MeshFixture mesh = new MeshFixture(); CountingOrigin origin = new CountingOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.ioThreads(IO_THREADS).maxConcurrentStreams(50).maxHeaderSize(8192));
            mesh.loadBalancer("app", "tokyo", "tokyo", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo);
            HttpClient client = MeshFixture.clientOf(tokyo);
            measure(client, WARM_UP, "warm-up");
            Attacker warmUp = new Attacker(tokyo);
            try {
                warmUp.awaitFirstFlood();
                measure(client, WARM_UP, "warm-up-under-attack");
            } finally {
                warmUp.stop();
            }
            double[] baseP99s = new double[ROUNDS];
            double[] floodP99s = new double[ROUNDS];
            int floods = 0;
            int goaways = 0;
            long slowBase = 0;
            long slowFlood = 0;
            long[] gcBase = new long[2];
            long[] gcFlood = new long[2];
            int connectionsBefore = origin.connections.get();
            for (int round = -WARM_UP_ROUNDS; round < ROUNDS; round++) {
                long[] gcStart = gcCountAndMillis();
                long[] baseline = measure(client, MEASURED, "baseline");
                addSince(gcBase, gcStart);
                Attacker attacker = new Attacker(tokyo);
                long[] underFlood;
                try {
                    attacker.awaitFirstFlood();
                    gcStart = gcCountAndMillis();
                    underFlood = measure(client, MEASURED, "under-attack");
                    addSince(gcFlood, gcStart);
                } finally {
                    attacker.stop();
                }
                floods += attacker.floods.get();
                goaways += attacker.goaways.get();
                if (round < 0) {
                    gcBase[0] = gcBase[1] = gcFlood[0] = gcFlood[1] = 0;
                    continue;
                }
                baseP99s[round] = p99Millis(baseline);
                floodP99s[round] = p99Millis(underFlood);
                slowBase += Arrays.stream(baseline).filter(n -> n > 100_000_000).count();
                slowFlood += Arrays.stream(underFlood).filter(n -> n > 100_000_000).count();
            }
            int floodOriginConnections = origin.connections.get() - connectionsBefore;
            double baseP99 = median(baseP99s);
            double floodP99 = median(floodP99s);
            double bound = baseP99 * 1.10 + ALLOWANCE_MILLIS;
            System.out.printf("h2-floods-latency: %d I/O thread(s), %d rounds (after %d unmeasured) of %d requests without and with the flood; "
                    + "%d flood connections (rapid reset and CONTINUATION alternating), %d ended in GOAWAY (%d closed while "
                    + "the flood was still being written); well-behaved p99 median %.2f ms without, %.2f ms under the flood "
                    + "(bound %.2f ms, 10%% alone %.2f ms); p99 per round %s -> %s ms; %d -> %d requests over 100 ms; "
                    + "origin connections opened meanwhile %d; GC %d pauses (%d ms) -> %d pauses (%d ms)%n",
                    IO_THREADS, ROUNDS, WARM_UP_ROUNDS, MEASURED, floods, goaways, brokenPipes.get(), baseP99, floodP99, bound,
                    baseP99 * 1.10, format(baseP99s), format(floodP99s), slowBase, slowFlood, floodOriginConnections,
                    gcBase[0], gcBase[1], gcFlood[0], gcFlood[1]);
            assertThat(floods).isPositive();
            assertThat(goaways).as("flood connections ending in GOAWAY").isEqualTo(floods);
            assertThat(floodP99).as("median p99 under the flood, ms").isLessThanOrEqualTo(bound);
            assertThat(origin.requestsTo("/flood")).isZero();
        }
    }

    /**
     * Opens {@value #FLOOD_CONNECTIONS_PER_SECOND} flood connections per second, alternating the two
     * floods, until stopped; a flood that takes longer than its interval delays the next one (no
     * catching up in bursts).
     */
    private static final class Attacker {
        final AtomicInteger floods = new AtomicInteger();
        final AtomicInteger goaways = new AtomicInteger();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final ExecutorService thread = Executors.newSingleThreadExecutor();
        private final Future<?> attack;

        Attacker(MeshRouter router) {
            attack = thread.submit(() -> {
                long interval = TimeUnit.SECONDS.toNanos(1) / FLOOD_CONNECTIONS_PER_SECOND;
                long next = System.nanoTime();
                for (int i = 0; i < MAX_FLOOD_CONNECTIONS && !stop.get(); i++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    next = Math.max(next + interval, System.nanoTime());
                    List<RawHttp2.Frame> frames = i % 2 == 0 ? rapidReset(router) : continuationFlood(router);
                    if (!frames.isEmpty() && frames.get(frames.size() - 1).type() == RawHttp2.GOAWAY) {
                        goaways.incrementAndGet();
                    }
                    floods.incrementAndGet();
                }
                return null;
            });
        }

        void awaitFirstFlood() {
            await().atMost(Duration.ofSeconds(10)).until(() -> floods.get() > 0 || attack.isDone());
        }

        void stop() throws Exception {
            stop.set(true);
            try {
                attack.get(30, TimeUnit.SECONDS);
            } finally {
                thread.shutdownNow();
            }
        }
    }

    /** The collections and their total time in this JVM so far. */
    private static long[] gcCountAndMillis() {
        long[] total = new long[2];
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total[0] += Math.max(0, gc.getCollectionCount());
            total[1] += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    private static void addSince(long[] sum, long[] start) {
        long[] now = gcCountAndMillis();
        sum[0] += now[0] - start[0];
        sum[1] += now[1] - start[1];
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String format(double[] values) {
        return Arrays.stream(values).mapToObj(v -> String.format("%.1f", v)).toList().toString();
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
        return flood(router, RAPID_RESET);
    }

    private static List<RawHttp2.Frame> continuationFlood(MeshRouter router) throws Exception {
        return flood(router, CONTINUATION_FLOOD);
    }

    /**
     * Opens a connection, sends a flood and reads the answer. When the router closes the connection
     * while the flood is still being written (a broken pipe), what it sent before closing is read all
     * the same.
     */
    private static List<RawHttp2.Frame> flood(MeshRouter router, byte[] frames) throws Exception {
        try (RawHttp2 attack = new RawHttp2(router.ingressAddress())) {
            try {
                attack.send(frames);
            } catch (SocketException closedByTheRouter) {
                brokenPipes.incrementAndGet();
            }
            return attack.readUntil(RawHttp2.GOAWAY);
        }
    }

    /** 500 HEADERS for {@code /flood}, each followed by its RST_STREAM (CANCEL). */
    private static byte[] rapidResetFrames() {
        try {
            RawHttp2 frames = RawHttp2.recorder();
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/flood")
                    .authority("app");
            for (int i = 0; i < 500; i++) {
                int stream = 1 + 2 * i;
                frames.frame(RawHttp2.HEADERS, 0x4, stream, frames.encode(stream, headers));
                frames.frame(RawHttp2.RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8});
            }
            return frames.queued();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A HEADERS frame without END_HEADERS, then 20 CONTINUATION frames of 16,000 bytes of new header fields. */
    private static byte[] continuationFloodFrames() {
        try {
            RawHttp2 frames = RawHttp2.recorder();
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/flood")
                    .authority("app");
            frames.frame(RawHttp2.HEADERS, 0x0, 1, frames.encode(1, headers));
            byte[] junk = new byte[16_000];
            for (int i = 0; i < junk.length; i += 8) {
                System.arraycopy(new byte[] {0x00, 0x02, 'a', 'b', 0x03, 'x', 'y', 'z'}, 0, junk, i, 8);
            }
            for (int i = 0; i < 20; i++) {
                frames.frame(RawHttp2.CONTINUATION, 0x0, 1, junk);
            }
            return frames.queued();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
