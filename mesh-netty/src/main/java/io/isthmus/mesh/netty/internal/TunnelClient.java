package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SpiffeId;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dials tunnels to other sites and opens one HTTP/2 stream per request. Each event loop keeps one
 * tunnel connection per remote site, so a site's tunnels form a small pool (one per I/O thread) and a
 * stream always runs on the thread of the request it carries.
 *
 * <p>HTTP exchanges and TCP connections travel on tunnels of their own: the streams of an HTTP
 * exchange are carried without a channel each ({@link TunnelExchanges}), those of a TCP connection are
 * stream channels ({@code CONNECT}), and Netty's stream multiplexer expects a channel for every stream
 * of its connection. A site gets its TCP tunnels when its first TCP connection needs one.
 */
final class TunnelClient {

    private static final Logger logger = LoggerFactory.getLogger(TunnelClient.class);

    /** HTTP/2 windows sized for streaming bodies over a high-bandwidth, high-latency link. */
    static final int STREAM_WINDOW = 1 << 20;
    static final int CONNECTION_WINDOW = 16 << 20;
    private static final long PING_INTERVAL_SECONDS = 30;

    private final RouterContext router;
    /** Per event loop and remote site: the slots of its small pool of tunnel connections for HTTP exchanges. */
    private final FastThreadLocal<Map<String, Slots>> connections = new FastThreadLocal<>() {
        @Override
        protected Map<String, Slots> initialValue() {
            return new HashMap<>();
        }
    };
    /** The same for the tunnel connections of TCP connections ({@code CONNECT} streams). */
    private final FastThreadLocal<Map<String, Slots>> tcpConnections = new FastThreadLocal<>() {
        @Override
        protected Map<String, Slots> initialValue() {
            return new HashMap<>();
        }
    };
    /** Per remote site, shared by all event loops: dial failures and when the next dial may start. */
    private final Map<String, Backoff> backoffs = new java.util.concurrent.ConcurrentHashMap<>();

    /** The first re-dial delay after a failed dial; doubled per failure up to {@link #MAX_BACKOFF_MILLIS}. */
    static final long BASE_BACKOFF_MILLIS = 100;
    static final long MAX_BACKOFF_MILLIS = 10_000;

    private static final class Slots {
        final Future<?>[] connections;
        int next;

        Slots(int size) {
            connections = new Future<?>[size];
        }
    }

    /** Jittered exponential backoff of one site's dials. */
    static final class Backoff {
        private int failures;
        private long nextDialNanos;
        private String lastError = "";

        synchronized long millisUntilNextDial() {
            return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nextDialNanos - System.nanoTime()));
        }

        synchronized String lastError() {
            return lastError;
        }

        synchronized void failed(String error) {
            failures = Math.min(failures + 1, 30);
            long ceiling = Math.min(MAX_BACKOFF_MILLIS, BASE_BACKOFF_MILLIS << Math.min(failures - 1, 16));
            // Full jitter in the upper half: spreads the re-dials of many routers without making them wait 0.
            long delay = ceiling / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
            nextDialNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
            lastError = error;
        }

        synchronized void succeeded() {
            failures = 0;
            nextDialNanos = 0;
        }
    }

    /** Every tunnel this client has dialled and that is still open, on any event loop. */
    private final java.util.Set<Channel> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Bumped when credentials change: connections of an older generation take no new streams. */
    private volatile int generation;

    private final io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry breakers;

    TunnelClient(RouterContext router) {
        this.router = router;
        this.breakers = io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry.of(
                io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom()
                        .slidingWindowType(io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                        .slidingWindowSize(20)
                        .minimumNumberOfCalls(5)
                        .failureRateThreshold(50)
                        .waitDurationInOpenState(java.time.Duration.ofMillis(router.settings.circuitOpenMillis))
                        .permittedNumberOfCallsInHalfOpenState(2)
                        .automaticTransitionFromOpenToHalfOpenEnabled(false)
                        .build());
    }

    /**
     * The breakers by site, found with one lookup per request (the registry's own lookup builds a
     * supplier each time).
     */
    private final Map<String, io.github.resilience4j.circuitbreaker.CircuitBreaker> breakerBySite =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The circuit breaker of a remote site, shared by all event loops. */
    io.github.resilience4j.circuitbreaker.CircuitBreaker breaker(String site) {
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker = breakerBySite.get(site);
        return breaker != null ? breaker : breakerBySite.computeIfAbsent(site, breakers::circuitBreaker);
    }

    /** @return 0 when the site's circuit is closed, 1 when open, 2 when half-open */
    int stateCode(String site) {
        switch (breaker(site).getState()) {
            case CLOSED:
                return 0;
            case HALF_OPEN:
                return 2;
            default:
                return 1;
        }
    }

    /**
     * Whether requests to a site can be expected to get through: its circuit is not open and its
     * tunnel is not waiting out a backoff after a failed dial.
     */
    boolean available(String site) {
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker = breaker(site);
        if (breaker.getState() == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN) {
            // Once the open period is over, asking for a permission moves the breaker to half-open, so
            // that the site is probed again; the permission is given back for the request to take.
            if (!breaker.tryAcquirePermission()) {
                return false;
            }
            breaker.releasePermission();
        }
        Backoff backoff = backoffs.get(site);
        return backoff == null || backoff.millisUntilNextDial() <= 0;
    }

    /** New streams go to new tunnels (made with the current credentials); open streams finish on the old. */
    void retireConnections() {
        generation++;
        for (Channel ch : open) {
            ch.eventLoop().execute(() -> closeWhenIdle(ch));
        }
    }

    /** Closes a tunnel gracefully (GOAWAY, then close once its streams are done). */
    private void closeWhenIdle(Channel ch) {
        io.netty.handler.codec.http2.Http2FrameCodec codec = ch.pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class);
        if (codec != null) {
            codec.gracefulShutdownTimeoutMillis(router.drainMillis());
        }
        ch.close();
    }

    /** Closes every tunnel gracefully; completes when all are closed. */
    java.util.concurrent.CompletableFuture<Void> drain() {
        List<java.util.concurrent.CompletableFuture<Void>> closed = new java.util.ArrayList<>();
        generation++;
        for (Channel ch : open) {
            java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
            ch.closeFuture().addListener(x -> f.complete(null));
            closed.add(f);
            ch.eventLoop().execute(() -> closeWhenIdle(ch));
        }
        return java.util.concurrent.CompletableFuture.allOf(closed.toArray(java.util.concurrent.CompletableFuture<?>[]::new));
    }

    /** Closes every tunnel now. */
    void closeAll() {
        for (Channel ch : open) {
            ch.close();
        }
    }

    /** @return the tunnels open now, by remote site */
    Map<String, Integer> openBySite() {
        Map<String, Integer> counts = new HashMap<>();
        for (Channel ch : open) {
            String site = ch.attr(SITE).get();
            if (site != null) {
                counts.merge(site, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static final io.netty.util.AttributeKey<String> SITE = io.netty.util.AttributeKey.valueOf("isthmus.site");
    /** The HTTP/2 codec of a tunnel, set once it is up. */
    private static final io.netty.util.AttributeKey<io.netty.handler.codec.http2.Http2FrameCodec> CODEC =
            io.netty.util.AttributeKey.valueOf("isthmus.codec");
    /** Opens the stream channels of a tunnel (for TCP connections), set once it is up. */
    private static final io.netty.util.AttributeKey<Http2StreamChannelBootstrap> STREAMS =
            io.netty.util.AttributeKey.valueOf("isthmus.streams");
    /** Carries the HTTP exchanges of a tunnel, set once it is up. */
    private static final io.netty.util.AttributeKey<TunnelExchanges> EXCHANGES =
            io.netty.util.AttributeKey.valueOf("isthmus.exchanges");
    private static final io.netty.util.AttributeKey<Integer> GENERATION =
            io.netty.util.AttributeKey.valueOf("isthmus.generation");

    /**
     * Returns the upstream for one request to a remote site.
     *
     * @throws RouteException with 503 while the site's circuit breaker is open
     */
    TunnelUpstream upstream(Site site) {
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker = breaker(site.name());
        if (!breaker.tryAcquirePermission()) {
            throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "circuit_open", "site " + site.name()
                    + " is failing: its circuit breaker is open, requests fail fast until it is probed again");
        }
        return new TunnelUpstream(site, breaker);
    }

    /**
     * Returns a tunnel connection to {@code site} on {@code loop}: the next slot of the loop's pool,
     * dialled when it is empty or dead. While the site is in backoff after a failed dial, a live
     * connection of another slot is used, or the request fails at once.
     */
    @SuppressWarnings("unchecked")
    private Future<Channel> connection(EventLoop loop, Site site, boolean forTcp) {
        Slots slots = (forTcp ? tcpConnections : connections).get().computeIfAbsent(site.name(),
                name -> new Slots(router.settings.tunnelConnectionsPerSite));
        int size = slots.connections.length;
        int first = Math.floorMod(slots.next++, size);
        Future<Channel> candidate = (Future<Channel>) slots.connections[first];
        if (candidate != null && (!candidate.isDone() || candidate.isSuccess() && usable(candidate.getNow()))) {
            return candidate;
        }
        Backoff backoff = backoffs.computeIfAbsent(site.name(), n -> new Backoff());
        long wait = backoff.millisUntilNextDial();
        if (wait > 0) {
            for (int i = 1; i < size; i++) {
                Future<Channel> other = (Future<Channel>) slots.connections[(first + i) % size];
                if (other != null && other.isSuccess() && usable(other.getNow())) {
                    return other;
                }
            }
            return loop.newFailedFuture(new IllegalStateException("tunnel to site " + site.name()
                    + " is down (" + backoff.lastError() + "); next dial in " + wait + " ms"));
        }
        Future<Channel> dialled = dial(loop, site, forTcp);
        slots.connections[first] = dialled;
        dialled.addListener(f -> {
            if (f.isSuccess()) {
                backoff.succeeded();
            } else {
                backoff.failed(Exchange.describe(f.cause()));
                if (slots.connections[first] == dialled) {
                    slots.connections[first] = null;
                }
            }
        });
        return dialled;
    }

    private boolean usable(Channel ch) {
        Integer dialled = ch.attr(GENERATION).get();
        if (!ch.isActive() || dialled == null || dialled != generation) {
            return false;
        }
        io.netty.handler.codec.http2.Http2FrameCodec codec = ch.attr(CODEC).get();
        return codec == null || !codec.connection().goAwayReceived() && !codec.connection().goAwaySent();
    }

    private Future<Channel> dial(EventLoop loop, Site site, boolean forTcp) {
        Promise<Channel> ready = loop.newPromise();
        List<Endpoint> endpoints = site.tunnelEndpoints();
        if (endpoints.isEmpty()) {
            return ready.setFailure(new IllegalStateException("site " + site.name() + " has no tunnel endpoint"));
        }
        Endpoint endpoint = endpoints.get(0);
        SpiffeId expected = SpiffeId.ofSite(router.trustDomain, site.name());
        int dialGeneration = generation;
        new Bootstrap()
                .group(loop)
                .channel(router.transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, router.connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.attr(SITE).set(site.name());
                        ch.attr(GENERATION).set(dialGeneration);
                        SslHandler ssl = router.tunnelClientTls.newHandler(ch.alloc(),
                                site.name() + '.' + router.trustDomain, endpoint.port());
                        ssl.setHandshakeTimeoutMillis(router.connectTimeoutMillis);
                        ch.pipeline().addLast(ssl, new Negotiation(expected, ready, forTcp));
                    }
                })
                .connect(endpoint.host(), endpoint.port())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        ready.tryFailure(f.cause());
                    }
                });
        return ready;
    }

    /** Checks the peer's identity once TLS is up, then switches the connection to HTTP/2. */
    private final class Negotiation extends ApplicationProtocolNegotiationHandler {

        private final SpiffeId expected;
        private final Promise<Channel> ready;
        private final boolean forTcp;

        Negotiation(SpiffeId expected, Promise<Channel> ready, boolean forTcp) {
            super("");
            this.expected = expected;
            this.ready = ready;
            this.forTcp = forTcp;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            SpiffeId peer;
            try {
                peer = PeerIdentity.of(ctx.pipeline().get(SslHandler.class), router.trustDomain);
                if (!peer.equals(expected)) {
                    throw new MeshIdentityException("peer presented " + peer + " (expected: " + expected + ")");
                }
                if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    throw new MeshIdentityException("peer negotiated ALPN \"" + protocol + "\" (expected: h2)");
                }
            } catch (MeshIdentityException e) {
                refuse(ctx, e.getMessage());
                return;
            }
            Channel ch = ctx.channel();
            Http2Settings settings = Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).pushEnabled(false);
            io.netty.handler.codec.http2.Http2FrameCodec codec = FrameCodecBuilder.connecting()
                    .initialSettings(settings)
                    .autoAckPingFrame(true)
                    .headerSensitivityDetector(IngressInitializer.NOT_INDEXED)
                    .build();
            ctx.pipeline().addLast(new Keepalive(), codec);
            if (forTcp) {
                ctx.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                ch.attr(STREAMS).set(new Http2StreamChannelBootstrap(ch));
            } else {
                TunnelExchanges exchanges = new TunnelExchanges(codec.connection());
                ctx.pipeline().addLast(exchanges);
                ch.attr(EXCHANGES).set(exchanges);
            }
            try {
                codec.connection().local().flowController().incrementWindowSize(
                        codec.connection().connectionStream(), CONNECTION_WINDOW - 65_535);
            } catch (io.netty.handler.codec.http2.Http2Exception e) {
                logger.debug("could not widen the connection window", e);
            }
            ch.attr(CODEC).set(codec);
            router.listener.tunnelEstablished(peer, ch.remoteAddress(), true);
            open.add(ch);
            ch.closeFuture().addListener(f -> {
                open.remove(ch);
                router.listener.tunnelClosed(peer, ch.remoteAddress(), true);
            });
            logger.info("tunnel to site {} up: {} at {}", expected.site(), peer, ch.remoteAddress());
            ready.trySuccess(ch);
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            // The SslHandler sends the TLS alert and closes the connection itself.
            fail(ctx, "TLS handshake failed: " + Exchange.describe(cause));
        }

        private void refuse(ChannelHandlerContext ctx, String reason) {
            fail(ctx, reason);
            ctx.close();
        }

        private void fail(ChannelHandlerContext ctx, String reason) {
            String message = "tunnel to site " + expected.site() + " at " + ctx.channel().remoteAddress()
                    + " refused: " + reason;
            logger.warn(message);
            router.listener.tunnelRejected(ctx.channel().remoteAddress(), reason, true);
            ready.tryFailure(new MeshIdentityException(message));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            ready.tryFailure(new IllegalStateException("tunnel to site " + expected.site() + " closed during the handshake"));
            super.channelInactive(ctx);
        }
    }

    /**
     * Sends a PING when nothing arrived on the tunnel for a while and closes it when nothing at all
     * arrives for three intervals. Sits right after the TLS handler, so every read counts; it adds
     * nothing to the write path.
     */
    private static final class Keepalive extends ChannelInboundHandlerAdapter {

        private long lastRead = System.nanoTime();
        private io.netty.util.concurrent.@org.jspecify.annotations.Nullable ScheduledFuture<?> task;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            task = ctx.executor().scheduleAtFixedRate(() -> check(ctx), PING_INTERVAL_SECONDS,
                    PING_INTERVAL_SECONDS, TimeUnit.SECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (task != null) {
                task.cancel(false);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastRead = System.nanoTime();
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            handlerRemoved(ctx);
            ctx.fireChannelInactive();
        }

        private void check(ChannelHandlerContext ctx) {
            long silentSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lastRead);
            if (silentSeconds >= PING_INTERVAL_SECONDS * 3) {
                logger.warn("tunnel {} silent for {} s; closing it", ctx.channel().remoteAddress(), silentSeconds);
                ctx.close();
            } else if (silentSeconds >= PING_INTERVAL_SECONDS) {
                ctx.pipeline().writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()));
            }
        }
    }

    /** The streams of one request or TCP connection to a remote site, counted by the site's breaker. */
    final class TunnelUpstream implements Upstream {

        private final Site site;
        private final io.github.resilience4j.circuitbreaker.CircuitBreaker breaker;
        private final long start = System.nanoTime();
        private boolean reported;

        TunnelUpstream(Site site, io.github.resilience4j.circuitbreaker.CircuitBreaker breaker) {
            this.site = site;
            this.breaker = breaker;
        }

        @Override
        public void outcome(@org.jspecify.annotations.Nullable Boolean success) {
            if (reported) {
                return;
            }
            reported = true;
            if (success == null) {
                breaker.releasePermission();
            } else if (success) {
                breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            } else {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS,
                        new IllegalStateException("site " + site.name() + " failed"));
            }
        }

        @Override
        public Future<UpstreamLink> acquire(EventLoop loop) {
            Future<Channel> tunnel = connection(loop, site, false);
            if (tunnel.isSuccess()) {
                return loop.newSucceededFuture(tunnel.getNow().attr(EXCHANGES).get().open());
            }
            return whenDone(loop, tunnel, parent -> {
                if (!parent.isSuccess()) {
                    return loop.newFailedFuture(parent.cause());
                }
                return loop.newSucceededFuture(parent.getNow().attr(EXCHANGES).get().open());
            });
        }

        /** A stream channel without handlers, for a TCP connection carried by a {@code CONNECT} stream. */
        Future<Http2StreamChannel> acquireChannel(EventLoop loop) {
            return whenDone(loop, connection(loop, site, true), parent -> {
                if (!parent.isSuccess()) {
                    return loop.newFailedFuture(parent.cause());
                }
                return parent.getNow().attr(STREAMS).get().open();
            });
        }

        /** {@code next} of {@code future}: at once when it is done already, otherwise once it completes. */
        private <T, R> Future<R> whenDone(EventLoop loop, Future<T> future,
                java.util.function.Function<Future<T>, Future<R>> next) {
            if (future.isDone()) {
                return next.apply(future);
            }
            Promise<R> result = loop.newPromise();
            future.addListener(f -> io.netty.util.concurrent.PromiseNotifier.cascade(next.apply(future), result));
            return result;
        }

        @Override
        public String describe() {
            return "site " + site.name();
        }

        @Override
        public HttpResponseStatus unreachableStatus() {
            return HttpResponseStatus.SERVICE_UNAVAILABLE;
        }
    }
}
