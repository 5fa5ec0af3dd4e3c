package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ChannelPromise;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners a router opens per load balancer port, opened and closed as the configuration
 * changes: one per port of a TCP load balancer advertised at this site, and one per dedicated port of
 * the HTTP load balancers advertised here (an HTTP load balancer whose port is not {@value
 * LoadBalancer#DEFAULT_HTTP_PORT}, which stands for the shared ingress port).
 *
 * <p>Each connection accepted on a TCP port passes the network firewall, then goes straight to an
 * origin when the pool's chosen site is this one, or as a {@code CONNECT} stream through the tunnel to
 * the router of the pool's site, which pipes it to an origin there; it ends with one line in the access
 * log. A dedicated HTTP port has the pipeline of the shared ingress port and routes by Host among the
 * load balancers on that port only. A port that cannot be bound (taken by another process, or claimed
 * by both a TCP and an HTTP load balancer) is logged with the load balancer and port, counted, and
 * tried again at the next configuration change; the other listeners are not affected.
 */
final class LoadBalancerListeners implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(LoadBalancerListeners.class);

    private final RouterContext router;
    private final EventLoopGroup group;
    private final EventExecutor control;
    private final OriginConnector origins;
    private final TunnelClient tunnels;
    private final InetAddress bindAddress;
    /** The port of the shared ingress listener: an HTTP load balancer on it is served there. */
    private final int sharedPort;
    /** The open connections of the dedicated HTTP ports, for draining and closing. */
    private final ChannelGroup httpConnections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE, true);
    /** Touched only on {@link #control}. */
    private final Map<Integer, Listening> listening = new HashMap<>();
    private boolean closed;

    /** What one port is wanted for: a TCP load balancer, or the HTTP load balancers with that port. */
    private record Wanted(boolean http, ObjectKey owner) {}

    /** One open listener. */
    private record Listening(Channel channel, Wanted wanted) {}

    LoadBalancerListeners(RouterContext router, EventLoopGroup group, OriginConnector origins, TunnelClient tunnels,
            InetSocketAddress ingress) {
        this.router = router;
        this.group = group;
        this.control = new io.netty.util.concurrent.DefaultEventExecutor(
                new io.netty.util.concurrent.DefaultThreadFactory("isthmus-" + router.site + "-listeners", true));
        this.origins = origins;
        this.tunnels = tunnels;
        this.bindAddress = ingress.getAddress();
        this.sharedPort = ingress.getPort();
    }

    /** Opens the listeners of new load balancer ports, closes those of removed ones, retries failed ones. */
    void reconcile(RoutingTable table) {
        control.execute(() -> apply(table));
    }

    /** The ports wanted by the load balancers advertised here, by port; TCP first, then HTTP by key. */
    private Map<Integer, Wanted> wanted(RoutingTable table) {
        Map<Integer, Wanted> wanted = new HashMap<>();
        List<LoadBalancer> http = new ArrayList<>();
        for (CompiledLoadBalancer c : table.mesh().loadBalancers().values()) {
            LoadBalancer lb = c.loadBalancer();
            if (lb.type() == LoadBalancer.Type.TCP && table.mesh().tcpLoadBalancer(lb.port()) == c) {
                wanted.put(lb.port(), new Wanted(false, lb.key()));
            } else if (lb.type() == LoadBalancer.Type.HTTP && dedicatedHere(table, lb)) {
                http.add(lb);
            }
        }
        http.sort(Comparator.comparing(LoadBalancer::key));
        for (LoadBalancer lb : http) {
            Wanted taken = wanted.get(lb.port());
            if (taken == null) {
                wanted.put(lb.port(), new Wanted(true, lb.key()));
            } else if (!taken.http()) {
                router.listenerFailures.incrementAndGet();
                logger.warn("site {}: HTTP load balancer {} cannot listen on port {}: TCP load balancer {} has it; "
                        + "it is still served on the shared ingress port", router.site, lb.key(), lb.port(),
                        taken.owner());
            }
        }
        return wanted;
    }

    /** Whether an HTTP load balancer is advertised here on a port of its own. */
    private boolean dedicatedHere(RoutingTable table, LoadBalancer lb) {
        if (lb.port() == LoadBalancer.DEFAULT_HTTP_PORT || lb.port() == sharedPort) {
            return false;
        }
        Site self = table.site(router.site);
        return self != null ? lb.isAdvertisedAt(self) : lb.isAdvertisedAt(router.site);
    }

    private void apply(RoutingTable table) {
        if (closed) {
            return;
        }
        Map<Integer, Wanted> wanted = wanted(table);
        for (Map.Entry<Integer, Listening> e : Map.copyOf(listening).entrySet()) {
            Listening l = e.getValue();
            if (!l.channel().isActive() || !l.wanted().equals(wanted.get(e.getKey()))) {
                logger.info("site {}: {} listener on port {} closed", router.site, l.wanted().http() ? "HTTP" : "TCP",
                        e.getKey());
                l.channel().close().syncUninterruptibly();
                listening.remove(e.getKey());
            }
        }
        for (Map.Entry<Integer, Wanted> e : wanted.entrySet()) {
            int port = e.getKey();
            if (listening.containsKey(port)) {
                continue;
            }
            Wanted w = e.getValue();
            ChannelFuture bound = (w.http() ? httpServer(port, w.owner()) : tcpServer(port, w.owner()))
                    .bind(new InetSocketAddress(bindAddress, port))
                    .awaitUninterruptibly();
            if (bound.isSuccess()) {
                listening.put(port, new Listening(bound.channel(), w));
                logger.info("site {}: {} load balancer {} listening on {}", router.site, w.http() ? "HTTP" : "TCP",
                        w.owner(), bound.channel().localAddress());
            } else {
                router.listenerFailures.incrementAndGet();
                logger.warn("site {}: {} load balancer {} cannot listen on port {}: {}; trying again at the next "
                        + "configuration change", router.site, w.http() ? "HTTP" : "TCP", w.owner(), port,
                        Exchange.describe(bound.cause()));
            }
        }
    }

    private ServerBootstrap tcpServer(int port, ObjectKey key) {
        ConnectionLimiter limiter = new ConnectionLimiter("tcp:" + port, router.settings.maxConnections,
                router.config, key);
        limiter.onDenied((remote, reason) -> denied(port, key, remote, reason));
        return new ServerBootstrap()
                .group(group)
                .channel(router.transport.serverChannel())
                .handler(limiter)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ByteCounter(), new Accepted(port));
                    }
                });
    }

    private ServerBootstrap httpServer(int port, ObjectKey key) {
        IngressInitializer ingress = new IngressInitializer(router, origins, tunnels, port);
        return new ServerBootstrap()
                .group(group)
                .channel(router.transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .handler(new ConnectionLimiter("ingress:" + port, router.settings.maxConnections, router.config, key))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        httpConnections.add(ch);
                        ch.pipeline().addLast(ingress);
                    }
                });
    }

    /** @return the open connections of the dedicated HTTP ports */
    ChannelGroup httpConnections() {
        return httpConnections;
    }

    /** Logs and counts a TCP connection the network firewall closed at accept. */
    private void denied(int port, ObjectKey key, InetSocketAddress remote, String reason) {
        AccessRecord record = new AccessRecord("tcp:" + port, router.site);
        record.protocol = "TCP";
        record.client = remote.getAddress().getHostAddress();
        record.loadBalancer = key.qualifiedName();
        record.decision = AccessRecord.DENIED;
        record.reason = "firewall";
        record.endNanos = System.nanoTime();
        if (AccessRecord.ACCESS_LOG.isInfoEnabled()) {
            AccessRecord.ACCESS_LOG.info(record.toJson());
        }
        router.metrics.tcpConnectionEnded(record);
        logger.debug("site {}: TCP connection from {} on port {} denied: {}", router.site, remote, port, reason);
    }

    @Override
    public void close() {
        if (control.isShuttingDown()) {
            return;
        }
        Future<?> done = control.submit(() -> {
            closed = true;
            listening.values().forEach(l -> l.channel().close());
            listening.clear();
        });
        done.awaitUninterruptibly(2_000);
        control.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Counts the bytes a TCP connection receives from its client and sends back to it. */
    private static final class ByteCounter extends ChannelDuplexHandler {
        long received;
        long sent;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.buffer.ByteBuf) {
                received += ((io.netty.buffer.ByteBuf) msg).readableBytes();
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof io.netty.buffer.ByteBuf) {
                sent += ((io.netty.buffer.ByteBuf) msg).readableBytes();
            }
            ctx.write(msg, promise);
        }
    }

    /** Sets up one accepted connection: chooses where it goes and starts piping once connected. */
    private final class Accepted extends ChannelInboundHandlerAdapter {

        private final int port;
        /** Bytes (and the end of input) that arrived before the far side was ready. */
        private final java.util.ArrayDeque<io.netty.buffer.ByteBuf> early = new java.util.ArrayDeque<>(2);
        private boolean inputEnded;
        private long earlyBytes;

        Accepted(int port) {
            this.port = port;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.buffer.ByteBuf) {
                early.add((io.netty.buffer.ByteBuf) msg);
                earlyBytes += ((io.netty.buffer.ByteBuf) msg).readableBytes();
                if (earlyBytes > 256 * 1024) {
                    // The far side is not ready yet: stop reading; the relay starts reading again.
                    ctx.channel().config().setAutoRead(false);
                }
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                inputEnded = true;
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            io.netty.buffer.ByteBuf buf;
            while ((buf = early.poll()) != null) {
                buf.release();
            }
            ctx.fireChannelInactive();
        }

        /** Hands the connection over to the relay towards {@code peer}, with what arrived so far. */
        private void handOver(Channel client, TcpRelay.Peer peer) {
            io.netty.buffer.ByteBuf buf;
            while ((buf = early.poll()) != null) {
                peer.write(buf, client);
            }
            peer.flush();
            boolean ended = inputEnded;
            client.pipeline().replace(this, null, new TcpRelay.SocketSide(peer));
            if (ended) {
                peer.endOutput();
            }
            TcpRelay.start(client, peer);
        }

        /** Ends the connection's access record with a failure and closes the connection. */
        private void fail(Channel client, AccessRecord record, String reason, String message) {
            record.decision = AccessRecord.FAILED;
            record.reason = reason;
            logger.debug("site {}: TCP connection on port {} closed: {}", router.site, port, message);
            client.close();
        }

        /** Writes the access record once the connection has closed. */
        private void logWhenClosed(Channel client, AccessRecord record) {
            client.closeFuture().addListener(f -> {
                record.endNanos = System.nanoTime();
                ByteCounter counter = client.pipeline().get(ByteCounter.class);
                if (counter != null) {
                    record.requestBytes = counter.received;
                    record.responseBytes = counter.sent;
                }
                if (AccessRecord.ACCESS_LOG.isInfoEnabled()) {
                    AccessRecord.ACCESS_LOG.info(record.toJson());
                }
                router.metrics.tcpConnectionEnded(record);
            });
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            AccessRecord record = new AccessRecord("tcp:" + port, router.site);
            record.protocol = "TCP";
            InetAddress clientIp = ((InetSocketAddress) client.remoteAddress()).getAddress();
            record.client = clientIp.getHostAddress();
            logWhenClosed(client, record);
            RoutingTable table = router.config.current();
            CompiledLoadBalancer lb = table.mesh().tcpLoadBalancer(port);
            if (lb == null) {
                fail(client, record, "no_load_balancer", "no TCP load balancer is advertised on it any more");
                return;
            }
            LoadBalancer model = lb.loadBalancer();
            record.loadBalancer = model.key().qualifiedName();
            CompiledPool pool = table.pool(model.defaultPoolKey());
            if (pool == null) {
                fail(client, record, "pool_not_configured", "load balancer " + record.loadBalancer + ": origin pool "
                        + model.defaultPool() + " is not configured");
                return;
            }
            record.pool = pool.pool().key().qualifiedName();
            String site = Failover.chooseSite(router, tunnels, table, pool);
            record.poolSite = site;
            if (site.equals(router.site)) {
                Endpoint endpoint;
                try {
                    endpoint = origins.endpoint(router, pool, null, clientIp);
                } catch (RouteException e) {
                    fail(client, record, e.reason(), e.getMessage());
                    return;
                }
                record.endpoint = endpoint.toString();
                record.upstreamStartNanos = System.nanoTime();
                ChannelFuture connect = TcpRelay.connect(origins, client.eventLoop(), TcpRelay.of(client, false),
                        endpoint);
                connect.addListener(f -> {
                    if (!f.isSuccess()) {
                        fail(client, record, "origin_unreachable", "origin " + endpoint + " unreachable: "
                                + f.cause());
                        return;
                    }
                    Channel socket = connect.channel();
                    client.closeFuture().addListener(x -> socket.close());
                    handOver(client, TcpRelay.of(socket, false));
                });
                return;
            }
            Site remote = table.site(site);
            if (remote == null) {
                fail(client, record, "unknown_site", "origin pool " + record.pool + " has origins at site " + site
                        + ", which is not a site of this mesh");
                return;
            }
            TunnelClient.TunnelUpstream upstream;
            try {
                upstream = tunnels.upstream(remote);
            } catch (RouteException e) {
                fail(client, record, e.reason(), e.getMessage());
                return;
            }
            String authority = AcceptedStreams.authority(model);
            record.upstreamStartNanos = System.nanoTime();
            Future<Http2StreamChannel> opened = upstream.acquireChannel(client.eventLoop());
            opened.addListener(f -> {
                if (!f.isSuccess()) {
                    upstream.outcome(Boolean.FALSE);
                    fail(client, record, "tunnel_unavailable", "no tunnel stream to site " + site + ": " + f.cause());
                    return;
                }
                Channel stream = opened.getNow();
                if (!client.isActive()) {
                    upstream.outcome(null);
                    stream.close();
                    return;
                }
                stream.pipeline().addLast(new TcpRelay.StreamSide() {
                    private boolean answered;

                    @Override
                    void onHeaders(ChannelHandlerContext sctx, Http2HeadersFrame headers) {
                        CharSequence status = headers.headers().status();
                        CharSequence error = headers.headers().get(Responses.ERROR_HEADER);
                        ReferenceCountUtil.release(headers);
                        if (answered) {
                            return;
                        }
                        answered = true;
                        upstream.outcome(Boolean.TRUE);
                        if (status != null && "200".contentEquals(status)) {
                            peer(client);
                            handOver(client, TcpRelay.of(stream, true));
                        } else {
                            fail(client, record, "refused_by_site", "site " + site + " refused a TCP connection for "
                                    + authority + ": " + status + " " + error);
                            stream.close();
                        }
                    }
                });
                client.closeFuture().addListener(x -> stream.close());
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(
                        new DefaultHttp2Headers().method("CONNECT").authority(authority), false));
            });
        }
    }
}
