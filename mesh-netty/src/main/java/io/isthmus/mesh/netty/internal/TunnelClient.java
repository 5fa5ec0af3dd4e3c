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
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
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
 */
final class TunnelClient {

    private static final Logger logger = LoggerFactory.getLogger(TunnelClient.class);

    /** HTTP/2 windows sized for streaming bodies over a high-bandwidth, high-latency link. */
    static final int STREAM_WINDOW = 1 << 20;
    static final int CONNECTION_WINDOW = 16 << 20;
    private static final long PING_INTERVAL_SECONDS = 30;

    private final RouterContext router;
    private final FastThreadLocal<Map<String, Future<Channel>>> connections = new FastThreadLocal<>() {
        @Override
        protected Map<String, Future<Channel>> initialValue() {
            return new HashMap<>();
        }
    };

    TunnelClient(RouterContext router) {
        this.router = router;
    }

    Upstream upstream(Site site) {
        return new TunnelUpstream(site);
    }

    private Future<Channel> connection(EventLoop loop, Site site) {
        Map<String, Future<Channel>> bySite = connections.get();
        Future<Channel> existing = bySite.get(site.name());
        if (existing != null && (!existing.isDone() || existing.isSuccess() && existing.getNow().isActive())) {
            return existing;
        }
        Future<Channel> dialled = dial(loop, site);
        bySite.put(site.name(), dialled);
        dialled.addListener(f -> {
            if (!f.isSuccess()) {
                bySite.remove(site.name(), dialled);
            } else {
                dialled.getNow().closeFuture().addListener(c -> bySite.remove(site.name(), dialled));
            }
        });
        return dialled;
    }

    private Future<Channel> dial(EventLoop loop, Site site) {
        Promise<Channel> ready = loop.newPromise();
        List<Endpoint> endpoints = site.tunnelEndpoints();
        if (endpoints.isEmpty()) {
            return ready.setFailure(new IllegalStateException("site " + site.name() + " has no tunnel endpoint"));
        }
        Endpoint endpoint = endpoints.get(0);
        SpiffeId expected = SpiffeId.ofSite(router.trustDomain, site.name());
        new Bootstrap()
                .group(loop)
                .channel(router.transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, router.connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        SslHandler ssl = router.tunnelClientTls.newHandler(ch.alloc(),
                                site.name() + '.' + router.trustDomain, endpoint.port());
                        ssl.setHandshakeTimeoutMillis(router.connectTimeoutMillis);
                        ch.pipeline().addLast(ssl, new Negotiation(expected, ready));
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

        Negotiation(SpiffeId expected, Promise<Channel> ready) {
            super("");
            this.expected = expected;
            this.ready = ready;
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
            io.netty.handler.codec.http2.Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                    .initialSettings(settings)
                    .autoAckPingFrame(true)
                    .build();
            ctx.pipeline().addLast(
                    new Keepalive(),
                    codec,
                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            try {
                codec.connection().local().flowController().incrementWindowSize(
                        codec.connection().connectionStream(), CONNECTION_WINDOW - 65_535);
            } catch (io.netty.handler.codec.http2.Http2Exception e) {
                logger.debug("could not widen the connection window", e);
            }
            router.listener.tunnelEstablished(peer, ch.remoteAddress(), true);
            ch.closeFuture().addListener(f -> router.listener.tunnelClosed(peer, ch.remoteAddress(), true));
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

    private final class TunnelUpstream implements Upstream {

        private final Site site;

        TunnelUpstream(Site site) {
            this.site = site;
        }

        @Override
        public Future<Channel> acquire(EventLoop loop) {
            Promise<Channel> stream = loop.newPromise();
            Future<Channel> parent = connection(loop, site);
            if (parent.isDone()) {
                openStream(parent, stream);
            } else {
                parent.addListener(f -> openStream(parent, stream));
            }
            return stream;
        }

        private void openStream(Future<Channel> parent, Promise<Channel> stream) {
            if (!parent.isSuccess()) {
                stream.setFailure(parent.cause());
                return;
            }
            new Http2StreamChannelBootstrap(parent.getNow())
                    .handler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel ch) {
                            ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new UpstreamHandler());
                        }
                    })
                    .open()
                    .addListener(f -> {
                        if (f.isSuccess()) {
                            stream.setSuccess((Channel) f.getNow());
                        } else {
                            stream.setFailure(f.cause());
                        }
                    });
        }

        @Override
        public void release(Channel channel, boolean reusable) {
            // A stream carries one exchange; closing a finished stream sends nothing, an unfinished one is reset.
            channel.close();
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
