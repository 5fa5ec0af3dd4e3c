package io.isthmus.mesh.reliability;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Overload, two ways. A slow origin (a socket server that answers each request after {@value
 * #SLOW_MILLIS} ms) behind a router that admits {@value #ORIGIN_CONNECTIONS} connections to it and
 * {@value #ORIGIN_PENDING} waiting requests, called by ten times as many concurrent clients: requests
 * beyond the queue get a fast 503 {@code origin_overloaded}, the origin never sees more than the
 * limits, descriptors and heap stay bounded, and service is normal once the load stops. And the
 * listener's connection limit: a connection beyond {@value #MAX_CONNECTIONS} is closed at once,
 * without a response.
 */
class OverloadTest {

    private static final int SLOW_MILLIS = 500;
    private static final int ORIGIN_CONNECTIONS = 10;
    private static final int ORIGIN_PENDING = 10;
    private static final int OVERLOAD_CLIENTS = 10 * (ORIGIN_CONNECTIONS + ORIGIN_PENDING);
    private static final long OVERLOAD_MILLIS = 4_000;

    private static final int DELAY_MILLIS = 200;
    private static final int MAX_CONNECTIONS = 10;
    private static final int CLIENTS = 10 * MAX_CONNECTIONS;
    private static final int REQUESTS_PER_CLIENT = 20;

    /** How one raw HTTP/1.1 request through the ingress ended. */
    record Outcome(String statusLine, long nanos, boolean originOverloaded) {
        boolean served() {
            return statusLine.startsWith("HTTP/1.1 200");
        }

        boolean overloaded() {
            return statusLine.startsWith("HTTP/1.1 503") && originOverloaded;
        }

        boolean refused() {
            return statusLine.isEmpty();
        }
    }

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void aSlowOriginUnderTenTimesTheAdmittedLoadGetsNoMoreThanTheLimitsAndTheRestFast503s() throws Exception {
        try (MeshFixture mesh = new MeshFixture(); SlowOrigin slow = new SlowOrigin(SLOW_MILLIS)) {
            MeshRouter tokyo = mesh.site("tokyo", b -> b.maxConnectionsPerOrigin(ORIGIN_CONNECTIONS)
                    .maxPendingRequestsPerOrigin(ORIGIN_PENDING));
            mesh.loadBalancer("slow", "tokyo", "tokyo", MeshFixture.endpoint(slow.address()));
            mesh.awaitApplied(tokyo);
            assertThat(request(tokyo.ingressAddress(), 0).served()).isTrue();
            long fdsBefore = openFileDescriptors();
            long heapBefore = usedHeapAfterGc();
            int originRequestsBefore = slow.requests.get();

            ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
            AtomicLong maxFds = new AtomicLong(fdsBefore);
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(OVERLOAD_MILLIS);
            ExecutorService clients = Executors.newFixedThreadPool(OVERLOAD_CLIENTS + 1);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < OVERLOAD_CLIENTS; c++) {
                    long offsetNanos = TimeUnit.MILLISECONDS.toNanos(SLOW_MILLIS) * c / OVERLOAD_CLIENTS;
                    running.add(clients.submit(() -> {
                        // Each client keeps one connection and sends one request per origin delay (or as
                        // soon as the previous one is answered, if later), the clients' schedules spread
                        // over one delay: 200 clients offer ten times the 20 requests the limits admit.
                        try (KeepAliveClient client = new KeepAliveClient(tokyo.ingressAddress())) {
                            long next = start + offsetNanos;
                            for (int i = 0; next - deadline < 0; i++) {
                                long wait = TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime());
                                if (wait > 0) {
                                    Thread.sleep(wait);
                                }
                                Outcome outcome = client.get("/overload/" + i);
                                outcomes.add(outcome);
                                next = Math.max(next + TimeUnit.MILLISECONDS.toNanos(SLOW_MILLIS), System.nanoTime());
                            }
                        }
                        return null;
                    }));
                }
                Future<?> sampler = clients.submit(() -> {
                    while (System.nanoTime() - deadline < 0) {
                        maxFds.accumulateAndGet(openFileDescriptors(), Math::max);
                        Thread.sleep(50);
                    }
                    return null;
                });
                for (Future<?> client : running) {
                    client.get(60, TimeUnit.SECONDS);
                }
                sampler.get(10, TimeUnit.SECONDS);
            } finally {
                clients.shutdownNow();
            }
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            List<Outcome> all = List.copyOf(outcomes);
            List<Outcome> served = all.stream().filter(Outcome::served).toList();
            List<Outcome> overloaded = all.stream().filter(Outcome::overloaded).toList();
            List<Outcome> other = all.stream().filter(o -> !o.served() && !o.overloaded()).toList();
            await().atMost(Duration.ofSeconds(10)).until(() -> openFileDescriptors() <= fdsBefore + 20);
            long fdsAfter = openFileDescriptors();
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            int originRequests = slow.requests.get() - originRequestsBefore;
            long normalStart = System.nanoTime();
            Outcome after = request(tokyo.ingressAddress(), -1);
            long normalMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - normalStart);
            System.out.printf("overload-origin: %d requests from %d clients in %d ms against a %d ms origin (limits %d "
                    + "connections, %d waiting): %d served (p50 %d ms, p99 %d ms), %d answered 503 origin_overloaded "
                    + "(p50 %d ms, p99 %d ms, max %d ms), %d other %s; at the origin %d requests, at most %d at once on "
                    + "at most %d connections; fds %d -> max %d -> %d, heap %+d KiB; after the load a request took %d ms%n",
                    all.size(), OVERLOAD_CLIENTS, elapsedMillis, SLOW_MILLIS, ORIGIN_CONNECTIONS, ORIGIN_PENDING,
                    served.size(), percentileMillis(served, 0.5), p99Millis(served), overloaded.size(),
                    percentileMillis(overloaded, 0.5), p99Millis(overloaded), percentileMillis(overloaded, 1.0),
                    other.size(), other.stream().map(Outcome::statusLine).distinct().limit(3).toList(),
                    originRequests, slow.maxInFlight.get(), slow.maxConnections.get(),
                    fdsBefore, maxFds.get(), fdsAfter, heapGrowth / 1024, normalMillis);
            assertThat(other).as("answers other than 200 or 503 origin_overloaded").isEmpty();
            assertThat(served).isNotEmpty();
            assertThat(overloaded).isNotEmpty();
            assertThat(slow.maxInFlight.get()).as("requests at the origin at once").isLessThanOrEqualTo(ORIGIN_CONNECTIONS);
            assertThat(slow.maxConnections.get()).as("origin connections at once").isLessThanOrEqualTo(ORIGIN_CONNECTIONS);
            assertThat(originRequests).as("requests at the origin: the served ones")
                    .isEqualTo(served.size());
            // Fast: a typical 503 an order of magnitude sooner than the origin answers, even the tail sooner.
            assertThat(percentileMillis(overloaded, 0.5)).as("median of the 503s, ms").isLessThan(SLOW_MILLIS / 10);
            assertThat(p99Millis(overloaded)).as("p99 of the 503s, ms").isLessThan(SLOW_MILLIS);
            // A served request waited behind at most ORIGIN_PENDING / ORIGIN_CONNECTIONS others per connection.
            assertThat(p99Millis(served)).as("p99 of served requests, ms")
                    .isLessThan((ORIGIN_PENDING / ORIGIN_CONNECTIONS + 1) * SLOW_MILLIS + 1_000);
            assertThat(maxFds.get()).as("open descriptors during the load")
                    .isLessThan(fdsBefore + 2L * OVERLOAD_CLIENTS + 2L * ORIGIN_CONNECTIONS + 50);
            assertThat(heapGrowth).as("heap growth, bytes").isLessThan(64L << 20);
            assertThat(after.served()).as("a request after the load").isTrue();
            assertThat(normalMillis).as("a request after the load, ms").isLessThan(SLOW_MILLIS + 1_000);
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void answersOrRefusesEveryRequestFastAndStaysBounded() throws Exception {
        WireMockServer slow = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        slow.start();
        slow.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("slow")
                .withFixedDelay(DELAY_MILLIS)));
        try (MeshFixture mesh = new MeshFixture()) {
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
            return new Outcome(end < 0 ? response : response.substring(0, end), System.nanoTime() - start,
                    response.contains("is overloaded"));
        } catch (java.net.SocketException reset) {
            return new Outcome("", System.nanoTime() - start, false);
        }
    }

    private static long p99Millis(List<Outcome> outcomes) {
        return percentileMillis(outcomes, 0.99);
    }

    private static long percentileMillis(List<Outcome> outcomes, double quantile) {
        if (outcomes.isEmpty()) {
            return 0;
        }
        long[] nanos = outcomes.stream().mapToLong(Outcome::nanos).sorted().toArray();
        return nanos[Math.max(0, Math.min(nanos.length - 1, (int) Math.ceil(nanos.length * quantile) - 1))] / 1_000_000;
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

    /** An HTTP/1.1 client on one keep-alive connection through the ingress; reconnects if it is closed. */
    static final class KeepAliveClient implements AutoCloseable {

        private final InetSocketAddress ingress;
        private Socket socket;

        KeepAliveClient(InetSocketAddress ingress) throws IOException {
            this.ingress = ingress;
            this.socket = connect();
        }

        private Socket connect() throws IOException {
            Socket s = new Socket(ingress.getAddress(), ingress.getPort());
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            return s;
        }

        /** Sends a GET for {@code path} at the slow load balancer and reads the whole response. */
        Outcome get(String path) throws IOException {
            long start = System.nanoTime();
            try {
                socket.getOutputStream().write(("GET http://slow" + path + " HTTP/1.1\r\nHost: slow\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = socket.getInputStream();
                StringBuilder head = new StringBuilder();
                int b;
                while (!head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0) {
                    head.append((char) b);
                }
                String text = head.toString();
                int length = 0;
                for (String line : text.split("\r\n")) {
                    if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                String body = new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
                int end = text.indexOf("\r\n");
                if (text.toLowerCase(java.util.Locale.ROOT).contains("connection: close") || end < 0) {
                    socket.close();
                    socket = connect();
                }
                return new Outcome(end < 0 ? text : text.substring(0, end), System.nanoTime() - start,
                        body.contains("is overloaded"));
            } catch (java.net.SocketException reset) {
                socket.close();
                socket = connect();
                return new Outcome("", System.nanoTime() - start, false);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * An origin on 127.0.0.1 that answers every request after a delay, and counts the requests and
     * connections it has at once.
     */
    static final class SlowOrigin implements AutoCloseable {

        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger maxConnections = new AtomicInteger();
        private final AtomicInteger inFlight = new AtomicInteger();
        private final AtomicInteger connections = new AtomicInteger();
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel server;

        SlowOrigin(long delayMillis) {
            server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            maxConnections.accumulateAndGet(connections.incrementAndGet(), Math::max);
                            ch.closeFuture().addListener(f -> connections.decrementAndGet());
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                            requests.incrementAndGet();
                                            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                                            boolean keepAlive = HttpUtil.isKeepAlive(request);
                                            ctx.executor().schedule(() -> {
                                                inFlight.decrementAndGet();
                                                FullHttpResponse response = new DefaultFullHttpResponse(
                                                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                                        Unpooled.copiedBuffer("slow\n", StandardCharsets.US_ASCII));
                                                HttpUtil.setContentLength(response, response.content().readableBytes());
                                                HttpUtil.setKeepAlive(response, keepAlive);
                                                ctx.writeAndFlush(response);
                                            }, delayMillis, TimeUnit.MILLISECONDS);
                                        }
                                    });
                        }
                    })
                    .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.localAddress();
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
