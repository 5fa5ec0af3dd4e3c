package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@code CONNECT} stream of an accepted tunnel: it carries one TCP connection of a TCP load
 * balancer (its {@code :authority} is {@code name.namespace:port}) and is piped to an origin of the
 * pool at this site. {@link TunnelStreamHandler} hands such a stream over on its first HEADERS frame.
 */
final class TcpTunnelStream extends TcpRelay.StreamSide {

    private static final Logger logger = LoggerFactory.getLogger(TcpTunnelStream.class);

    private final RouterContext router;
    private final OriginConnector origins;
    private final SpiffeId peer;
    private boolean decided;

    TcpTunnelStream(RouterContext router, OriginConnector origins, SpiffeId peer) {
        this.router = router;
        this.origins = origins;
        this.peer = peer;
    }

    @Override
    void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
        if (decided) {
            ReferenceCountUtil.release(frame);
            return;
        }
        decided = true;
        Channel stream = ctx.channel();
        CharSequence authority = frame.headers().authority();
        ReferenceCountUtil.release(frame);
        CompiledLoadBalancer lb = authority == null ? null : find(router.config.current(), authority.toString());
        if (lb == null) {
            refuse(stream, "404", "no TCP load balancer " + authority + " at site " + router.site);
            return;
        }
        CompiledPool pool = router.config.current().pool(lb.loadBalancer().defaultPoolKey());
        Endpoint endpoint;
        try {
            if (pool == null) {
                throw new RouteException(io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "pool_not_configured", "origin pool " + lb.loadBalancer().defaultPool() + " is not configured");
            }
            endpoint = origins.endpoint(router, pool, null, null);
        } catch (RouteException e) {
            refuse(stream, Integer.toString(e.status().code()), e.getMessage());
            return;
        }
        stream.config().setAutoRead(false);
        ChannelFuture connect = TcpRelay.connect(origins, stream, endpoint, true);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                refuse(stream, "502", "origin " + endpoint + " of TCP load balancer " + authority
                        + " is unreachable: " + Exchange.describe(f.cause()));
                return;
            }
            Channel socket = connect.channel();
            peer(socket);
            stream.closeFuture().addListener(x -> socket.close());
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
            logger.debug("site {}: TCP connection for {} from {} piped to {}", router.site, authority, peer, endpoint);
            TcpRelay.start(stream, socket);
        });
    }

    private void refuse(Channel stream, String status, String reason) {
        logger.debug("site {}: CONNECT from {} refused: {} {}", router.site, peer, status, reason);
        Http2Headers headers = new DefaultHttp2Headers().status(status);
        headers.set(Responses.ERROR_HEADER, status + " " + reason.replace('\n', ' '));
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true));
    }

    /** Finds a TCP load balancer by its CONNECT authority, {@code name.namespace:port}. */
    static @Nullable CompiledLoadBalancer find(RoutingTable table, String authority) {
        int colon = authority.lastIndexOf(':');
        String host = colon < 0 ? authority : authority.substring(0, colon);
        int dot = host.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        try {
            CompiledLoadBalancer lb = table.loadBalancer(
                    ObjectKey.of(Kind.LOAD_BALANCER, host.substring(dot + 1), host.substring(0, dot)));
            return lb != null && lb.loadBalancer().type() == LoadBalancer.Type.TCP ? lb : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The CONNECT authority of a TCP load balancer. */
    static String authority(LoadBalancer lb) {
        return lb.name() + '.' + lb.namespace() + ':' + lb.port();
    }
}
