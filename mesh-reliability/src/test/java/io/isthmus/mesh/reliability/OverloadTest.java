package io.isthmus.mesh.reliability;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.netty.MeshRouter;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Overload: an origin that takes {@value #DELAY_MILLIS} ms per request behind a router that keeps at
 * most {@value #MAX_CONNECTIONS} ingress connections, called by {@value #CLIENTS} concurrent clients
 * (ten times what the router admits). The router's bound is its connection limit: a connection beyond
 * it is closed at once, without a response. Every request ends (served or refused) within a bound, the
 * refused ones fast, the admitted ones in about the origin's delay, and file descriptors and heap stay
 * bounded.
 */
class OverloadTest {

    private static final int DELAY_MILLIS = 200;
    private static final int MAX_CONNECTIONS = 10;
    private static final int CLIENTS = 10 * MAX_CONNECTIONS;
    private static final int REQUESTS_PER_CLIENT = 20;

    /** How one raw HTTP/1.1 request through the ingress ended. */
    record Outcome(String statusLine, long nanos) {
        boolean served() {
            return statusLine.startsWith("HTTP/1.1 200");
        }

        boolean refused() {
            return statusLine.isEmpty();
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void answersOrRefusesEveryRequestFastAndStaysBounded() throws Exception {
        WireMockServer slow = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        slow.start();
        slow.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("slow")
                .withFixedDelay(DELAY_MILLIS)));
        try (Mesh mesh = new Mesh()) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.maxConnections(MAX_CONNECTIONS));
            mesh.loadBalancer("slow", "tokyo", "tokyo", Endpoint.of("127.0.0.1", slow.port()));
            mesh.awaitApplied(tokyo);
            assertThat(request(tokyo.ingressAddress(), 0).served()).isTrue();
            long fdsBefore = openFileDescriptors();
            long heapBefore = usedHeapAfterGc();

            ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
            long start = System.nanoTime();
            long deadline = start + TimeUnit.SECONDS.toNanos(60);
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    running.add(clients.submit(() -> {
                        for (int i = 0; i < REQUESTS_PER_CLIENT && System.nanoTime() - deadline < 0; i++) {
                            outcomes.add(request(tokyo.ingressAddress(), i));
                        }
                        return null;
                    }));
                }
                for (Future<?> client : running) {
                    client.get(90, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            List<Outcome> all = List.copyOf(outcomes);
            List<Outcome> served = all.stream().filter(Outcome::served).toList();
            List<Outcome> refused = all.stream().filter(Outcome::refused).toList();
            List<Outcome> other = all.stream().filter(o -> !o.served() && !o.refused()).toList();
            long servedP99 = p99Millis(served);
            long refusedP99 = p99Millis(refused);
            long slowest = all.stream().mapToLong(Outcome::nanos).max().orElse(0) / 1_000_000;
            await().atMost(Duration.ofSeconds(10)).until(() -> openFileDescriptors() <= fdsBefore + 20);
            long fdsAfter = openFileDescriptors();
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            System.out.printf("overload: %d requests from %d clients in %d ms, %d served (p99 %d ms), %d refused at "
                    + "the connection limit (p99 %d ms), %d other %s, slowest %d ms, fds %d -> %d, heap %+d KiB%n",
                    all.size(), CLIENTS, elapsedMillis, served.size(), servedP99, refused.size(), refusedP99,
                    other.size(), other.stream().map(Outcome::statusLine).distinct().limit(3).toList(), slowest,
                    fdsBefore, fdsAfter, heapGrowth / 1024);
            assertThat(all).hasSize(CLIENTS * REQUESTS_PER_CLIENT);
            assertThat(other).as("answers other than 200 or a refused connection").isEmpty();
            assertThat(served).isNotEmpty();
            assertThat(refused).isNotEmpty();
            assertThat(slowest).as("slowest request, ms").isLessThan(10_000);
            assertThat(refusedP99).as("p99 of refused connections, ms").isLessThan(1_000);
            assertThat(servedP99).as("p99 of served requests, ms").isLessThan(DELAY_MILLIS + 2_000);
            assertThat(heapGrowth).as("heap growth, bytes").isLessThan(64L << 20);
        } finally {
            slow.stop();
        }
    }

    private static Outcome request(InetSocketAddress ingress, int i) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = new Socket(ingress.getAddress(), ingress.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET http://slow/overload/" + i + " HTTP/1.1\r\nHost: slow\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String response;
            try {
                response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException reset) {
                response = "";
            }
            int end = response.indexOf("\r\n");
            return new Outcome(end < 0 ? response : response.substring(0, end), System.nanoTime() - start);
        } catch (java.net.SocketException reset) {
            return new Outcome("", System.nanoTime() - start);
        }
    }

    private static long p99Millis(List<Outcome> outcomes) {
        if (outcomes.isEmpty()) {
            return 0;
        }
        long[] nanos = outcomes.stream().mapToLong(Outcome::nanos).sorted().toArray();
        return nanos[Math.min(nanos.length - 1, (int) Math.ceil(nanos.length * 0.99) - 1)] / 1_000_000;
    }

    static long openFileDescriptors() {
        String[] fds = new File("/proc/self/fd").list();
        return Arrays.stream(Objects.requireNonNull(fds, "/proc/self/fd")).count();
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        System.gc();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
