package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.pki.SpiffeId;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.jspecify.annotations.Nullable;

/**
 * Serves one stream of an accepted tunnel: the request names the origin pool the sending site chose;
 * this router checks that the pool is one of its own site and forwards to one of its origins.
 */
final class TunnelStreamHandler extends ProxyHandler {

    private final OriginConnector origins;
    private final SpiffeId peer;

    TunnelStreamHandler(RouterContext router, OriginConnector origins, SpiffeId peer) {
        super(router, 0);
        this.origins = origins;
        this.peer = peer;
    }

    @Override
    AccessRecord newRecord(ChannelHandlerContext ctx) {
        AccessRecord record = new AccessRecord("tunnel", router.site);
        record.protocol = "HTTP/2";
        record.client = peer.toString();
        return record;
    }

    @Override
    Upstream route(ChannelHandlerContext ctx, HttpRequest request, AccessRecord record) {
        RoutingTable table = router.config.current();
        String poolName = request.headers().get(Headers.POOL);
        OriginPool pool;
        if (poolName != null) {
            pool = findPool(table, poolName);
            if (pool == null) {
                throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_pool",
                        "origin pool " + poolName + " is not configured at site " + router.site);
            }
            if (!pool.site().equals(router.site)) {
                throw new RouteException(HttpResponseStatus.MISDIRECTED_REQUEST, "pool_at_other_site",
                        "origin pool " + poolName + " is at site " + pool.site() + ", not " + router.site);
            }
        } else {
            // The peer addressed a load balancer by domain: serve it when its pool is at this site.
            String host = request.headers().get(HttpHeaderNames.HOST, "");
            LoadBalancer lb = table.findLocalLoadBalancer(host);
            pool = lb == null ? null : table.pool(lb.defaultPoolKey());
            if (pool == null) {
                throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_host",
                        "no load balancer with a pool at site " + router.site + " serves host \"" + host + "\"");
            }
        }
        record.pool = pool.namespace() + '/' + pool.name();
        record.poolSite = pool.site();
        Headers.removeHopByHop(request);
        request.headers().remove(Headers.POOL);
        Headers.setKeepAlive(request, true);
        return origins.upstream(pool);
    }

    private static @Nullable OriginPool findPool(RoutingTable table, String namespacedName) {
        int slash = namespacedName.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        try {
            return table.pool(ObjectKey.of(Kind.ORIGIN_POOL, namespacedName.substring(0, slash),
                    namespacedName.substring(slash + 1)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    void prepareResponse(HttpResponse response, boolean keepAlive) {
        Headers.removeHopByHop(response);
    }

    @Override
    boolean persistent() {
        return false;
    }
}
