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
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners of the TCP load balancers advertised at this site, one per port, opened and closed as
 * the configuration changes. Each accepted connection passes the network firewall, then goes straight
 * to an origin when the pool's chosen site is this one, or as a {@code CONNECT} stream through the
 * tunnel to the router of the pool's site, which pipes it to an origin there.
 */
final class TcpListeners implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(TcpListeners.class);

    private final RouterContext router;
    private final EventLoopGroup group;
    private final EventExecutor control;
    private final OriginConnector origins;
    private final TunnelClient tunnels;
    private final InetAddress bindAddress;
    /** Touched only on {@link #control}. */
    private final Map<Integer, Channel> listening = new HashMap<>();
    private final Map<Integer, ObjectKey> owners = new HashMap<>();
    private boolean closed;

    TcpListeners(RouterContext router, EventLoopGroup group, OriginConnector origins, TunnelClient tunnels,
            InetAddress bindAddress) {
        this.router = router;
        this.group = group;
        this.control = new io.netty.util.concurrent.DefaultEventExecutor(
                new io.netty.util.concurrent.DefaultThreadFactory("isthmus-" + router.site + "-tcp-listeners", true));
        this.origins = origins;
        this.tunnels = tunnels;
        this.bindAddress = bindAddress;
    }

    /** Opens the listeners of new TCP load balancers and closes those of removed ones. */
    void reconcile(RoutingTable table) {
        control.execute(() -> apply(table));
    }

    private void apply(RoutingTable table) {
        if (closed) {
            return;
        }
        Map<Integer, ObjectKey> wanted = new HashMap<>();
        for (CompiledLoadBalancer c : table.mesh().loadBalancers().values()) {
            LoadBalancer lb = c.loadBalancer();
            if (lb.type() == LoadBalancer.Type.TCP && table.mesh().tcpLoadBalancer(lb.port()) == c) {
                wanted.put(lb.port(), lb.key());
            }
        }
        for (Map.Entry<Integer, Channel> e : Map.copyOf(listening).entrySet()) {
            if (!e.getValue().isActive() || !wanted.containsKey(e.getKey())) {
                logger.info("site {}: TCP listener on port {} closed", router.site, e.getKey());
                e.getValue().close();
                listening.remove(e.getKey());
                owners.remove(e.getKey());
            }
        }
        for (Map.Entry<Integer, ObjectKey> e : wanted.entrySet()) {
            int port = e.getKey();
            if (listening.containsKey(port) && e.getValue().equals(owners.get(port))) {
                continue;
            }
            Channel previous = listening.remove(port);
            if (previous != null) {
                previous.close().syncUninterruptibly();
            }
            ObjectKey key = e.getValue();
            ChannelFuture bound = new ServerBootstrap()
                    .group(group)
                    .channel(router.transport.serverChannel())
                    .handler(new ConnectionLimiter("tcp:" + port, router.settings.maxConnections, router.config, key))
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Accepted(port));
                        }
                    })
                    .bind(new InetSocketAddress(bindAddress, port))
                    .awaitUninterruptibly();
            if (bound.isSuccess()) {
                listening.put(port, bound.channel());
                owners.put(port, key);
                logger.info("site {}: TCP load balancer {} listening on {}", router.site, key, bound.channel().localAddress());
            } else {
                logger.warn("site {}: TCP load balancer {} cannot listen on port {}: {}", router.site, key, port,
                        Exchange.describe(bound.cause()));
            }
        }
    }

    @Override
    public void close() {
        if (control.isShuttingDown()) {
            return;
        }
        Future<?> done = control.submit(() -> {
            closed = true;
            listening.values().forEach(Channel::close);
            listening.clear();
        });
        done.awaitUninterruptibly(2_000);
        control.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
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
        private void handOver(Channel client, Channel peer, boolean peerIsStream) {
            io.netty.buffer.ByteBuf buf;
            while ((buf = early.poll()) != null) {
                peer.write(peerIsStream ? new io.netty.handler.codec.http2.DefaultHttp2DataFrame(buf, false) : buf);
            }
            peer.flush();
            boolean ended = inputEnded;
            client.pipeline().replace(this, null, new TcpRelay.SocketSide(peer, peerIsStream));
            if (ended) {
                TcpRelay.endOutput(peer, peerIsStream);
            }
            TcpRelay.start(client, peer);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            RoutingTable table = router.config.current();
            CompiledLoadBalancer lb = table.mesh().tcpLoadBalancer(port);
            CompiledPool pool = lb == null ? null : table.pool(lb.loadBalancer().defaultPoolKey());
            if (pool == null) {
                logger.debug("site {}: TCP connection on port {} has no load balancer or pool; closed", router.site, port);
                client.close();
                return;
            }
            String site = Failover.chooseSite(router, tunnels, table, pool);
            InetAddress clientIp = ((InetSocketAddress) client.remoteAddress()).getAddress();
            if (site.equals(router.site)) {
                Endpoint endpoint;
                try {
                    endpoint = origins.endpoint(router, pool, null, clientIp);
                } catch (RouteException e) {
                    logger.debug("site {}: TCP connection on port {} closed: {}", router.site, port, e.getMessage());
                    client.close();
                    return;
                }
                ChannelFuture connect = TcpRelay.connect(origins, client, endpoint, false);
                connect.addListener(f -> {
                    if (!f.isSuccess()) {
                        logger.debug("site {}: origin {} unreachable: {}", router.site, endpoint, f.cause().toString());
                        client.close();
                        return;
                    }
                    Channel socket = connect.channel();
                    client.closeFuture().addListener(x -> socket.close());
                    handOver(client, socket, false);
                });
                return;
            }
            Site remote = table.site(site);
            if (remote == null) {
                client.close();
                return;
            }
            Upstream upstream;
            try {
                upstream = tunnels.upstream(remote);
            } catch (RouteException e) {
                logger.debug("site {}: TCP connection on port {} closed: {}", router.site, port, e.getMessage());
                client.close();
                return;
            }
            String authority = TcpTunnelStream.authority(lb.loadBalancer());
            upstream.acquire(client.eventLoop()).addListener(f -> {
                if (!f.isSuccess()) {
                    upstream.outcome(Boolean.FALSE);
                    client.close();
                    return;
                }
                Channel stream = (Channel) f.getNow();
                if (!client.isActive()) {
                    upstream.outcome(null);
                    stream.close();
                    return;
                }
                stream.pipeline().remove(Http2StreamFrameToHttpObjectCodec.class);
                stream.pipeline().remove(UpstreamHandler.class);
                stream.pipeline().addLast(new TcpRelay.StreamSide() {
                    private boolean answered;

                    @Override
                    void onHeaders(ChannelHandlerContext sctx, Http2HeadersFrame headers) {
                        CharSequence status = headers.headers().status();
                        ReferenceCountUtil.release(headers);
                        if (answered) {
                            return;
                        }
                        answered = true;
                        if (status != null && "200".contentEquals(status)) {
                            upstream.outcome(Boolean.TRUE);
                            peer(client);
                            handOver(client, stream, true);
                        } else {
                            upstream.outcome(Boolean.TRUE);
                            logger.debug("site {}: site {} refused a TCP connection for {}: {}", router.site, site,
                                    authority, headers.headers().get(Responses.ERROR_HEADER));
                            client.close();
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
