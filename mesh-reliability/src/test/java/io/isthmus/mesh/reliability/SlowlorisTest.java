package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Slowloris: {@value #CONNECTIONS} connections to the ingress each send their request head one byte
 * every {@value #BYTE_INTERVAL_MILLIS} ms. The request-header timeout ({@value #HEADER_TIMEOUT_MILLIS}
 * ms here) closes every one of them, nothing reaches the origin, a well-behaved request is served
 * meanwhile and afterwards, and the process's file descriptors and heap return to where they were.
 */
class SlowlorisTest {

    private static final int CONNECTIONS = 200;
    private static final long HEADER_TIMEOUT_MILLIS = 1_000;
    private static final long BYTE_INTERVAL_MILLIS = 100;
    private static final byte[] HEAD = ("GET http://app/slow HTTP/1.1\r\nHost: app\r\nX-Padding: "
            + "a".repeat(200) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void requestHeaderTimeoutClosesEverySlowConnection() throws Exception {
        try (MeshFixture mesh = new MeshFixture(); CountingOrigin origin = new CountingOrigin()) {
            MeshRouter tokyo = mesh.site("tokyo",
                    b -> b.requestHeaderTimeout(Duration.ofMillis(HEADER_TIMEOUT_MILLIS)));
            mesh.loadBalancer("app", "tokyo", "tokyo", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo);
            assertThat(MeshFixture.get(tokyo, "http://app/before").statusCode()).isEqualTo(200);
            long fdsBefore = OverloadTest.openFileDescriptors();
            long heapBefore = usedHeapAfterGc();

            long start = System.nanoTime();
            Map<SocketChannel, Integer> sent = new HashMap<>();
            List<Long> closedAfterMillis = new ArrayList<>();
            int maxBytesSent = 0;
            boolean servedMeanwhile;
            try (Selector selector = Selector.open()) {
                for (int i = 0; i < CONNECTIONS; i++) {
                    SocketChannel channel = SocketChannel.open(tokyo.ingressAddress());
                    channel.configureBlocking(false);
                    channel.register(selector, SelectionKey.OP_READ);
                    sent.put(channel, 0);
                }
                long deadline = start + TimeUnit.MILLISECONDS.toNanos(HEADER_TIMEOUT_MILLIS + 10_000);
                long nextByte = System.nanoTime();
                ByteBuffer discard = ByteBuffer.allocate(4096);
                servedMeanwhile = false;
                // Bounded in time (deadline) and count (at most HEAD.length rounds of bytes).
                while (!sent.isEmpty() && System.nanoTime() - deadline < 0) {
                    if (System.nanoTime() - nextByte >= 0) {
                        for (Map.Entry<SocketChannel, Integer> e : sent.entrySet()) {
                            int next = e.getValue();
                            if (next < HEAD.length - 1) { // never the final byte: the head stays incomplete
                                try {
                                    e.getKey().write(ByteBuffer.wrap(HEAD, next, 1));
                                    e.setValue(next + 1);
                                    maxBytesSent = Math.max(maxBytesSent, next + 1);
                                } catch (IOException closed) {
                                    // Seen as closed by the read below.
                                }
                            }
                        }
                        nextByte += TimeUnit.MILLISECONDS.toNanos(BYTE_INTERVAL_MILLIS);
                    }
                    if (!servedMeanwhile && System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(300)) {
                        servedMeanwhile = MeshFixture.get(tokyo, "http://app/meanwhile").statusCode() == 200;
                    }
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextByte - System.nanoTime())));
                    for (SelectionKey key : selector.selectedKeys()) {
                        SocketChannel channel = (SocketChannel) key.channel();
                        int read;
                        try {
                            discard.clear();
                            read = channel.read(discard);
                        } catch (IOException reset) {
                            read = -1;
                        }
                        if (read < 0) {
                            closedAfterMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                            key.cancel();
                            channel.close();
                            sent.remove(channel);
                        }
                    }
                    selector.selectedKeys().clear();
                }
                for (SocketChannel open : sent.keySet()) {
                    open.close();
                }
            }
            int stillOpen = sent.size();
            long lastClose = closedAfterMillis.stream().mapToLong(Long::longValue).max().orElse(-1);
            long firstClose = closedAfterMillis.stream().mapToLong(Long::longValue).min().orElse(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> OverloadTest.openFileDescriptors() <= fdsBefore + 10);
            long fdsAfter = OverloadTest.openFileDescriptors();
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            System.out.printf("slowloris: %d connections, %d closed by the router between %d and %d ms (header "
                    + "timeout %d ms, up to %d bytes sent each), %d left open, fds %d -> %d, heap %+d KiB%n",
                    CONNECTIONS, closedAfterMillis.size(), firstClose, lastClose, HEADER_TIMEOUT_MILLIS, maxBytesSent,
                    stillOpen, fdsBefore, fdsAfter, heapGrowth / 1024);
            assertThat(stillOpen).as("connections the router left open").isZero();
            assertThat(closedAfterMillis).hasSize(CONNECTIONS);
            assertThat(firstClose).isGreaterThanOrEqualTo(HEADER_TIMEOUT_MILLIS - 50);
            assertThat(lastClose).isLessThan(HEADER_TIMEOUT_MILLIS + 3_000);
            assertThat(servedMeanwhile).as("a well-behaved request during the attack").isTrue();
            assertThat(origin.requestsTo("/slow")).isZero();
            assertThat(heapGrowth).as("heap growth, bytes").isLessThan(32L << 20);
            assertThat(MeshFixture.get(tokyo, "http://app/after").statusCode()).isEqualTo(200);
        }
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        System.gc();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
