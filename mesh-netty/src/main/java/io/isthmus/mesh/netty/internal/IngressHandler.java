package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Serves one application connection on the ingress port: matches each request's Host to a load
 * balancer advertised at this site and sends it to the pool, straight to an origin when the pool is
 * local, through a tunnel to the pool's site otherwise.
 */
final class IngressHandler extends ProxyHandler {

    private final OriginConnector origins;
    private final TunnelClient tunnels;
    /** Serves one HTTP/2 stream of an h2c connection rather than an HTTP/1.1 connection. */
    private final boolean http2;

    IngressHandler(RouterContext router, OriginConnector origins, TunnelClient tunnels, boolean http2) {
        super(router, http2 ? 0 : router.settings.requestHeaderTimeoutMillis);
        this.origins = origins;
        this.tunnels = tunnels;
        this.http2 = http2;
    }

    @Override
    AccessRecord newRecord(ChannelHandlerContext ctx) {
        AccessRecord record = new AccessRecord("ingress", router.site);
        record.protocol = http2 ? "HTTP/2" : "HTTP/1.1";
        java.net.SocketAddress remote = ctx.channel().remoteAddress();
        if (remote instanceof java.net.InetSocketAddress) {
            record.client = ((java.net.InetSocketAddress) remote).getAddress().getHostAddress();
        }
        return record;
    }

    @Override
    Upstream route(ChannelHandlerContext ctx, HttpRequest request, AccessRecord record) {
        toOriginForm(request);
        record.path = request.uri();
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty()) {
            throw new RouteException(HttpResponseStatus.BAD_REQUEST, "no_host", "request has no Host header");
        }
        RoutingTable table = router.config.current();
        LoadBalancer lb = table.findLoadBalancer(host);
        if (lb == null) {
            throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_host",
                    "no load balancer serves host \"" + host + "\" at site " + router.site);
        }
        record.loadBalancer = lb.namespace() + '/' + lb.name();
        record.route = "default";
        OriginPool pool = table.pool(lb.defaultPoolKey());
        if (pool == null) {
            throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "pool_not_configured", "load balancer "
                    + lb.namespace() + '/' + lb.name() + ": origin pool " + lb.namespace() + '/' + lb.defaultPool()
                    + " is not configured");
        }
        record.pool = pool.namespace() + '/' + pool.name();
        record.poolSite = pool.site();
        Headers.removeHopByHop(request);
        Headers.addIngressHeaders(request, ctx.channel().remoteAddress(), router.site, http2);
        if (pool.site().equals(router.site)) {
            Headers.setKeepAlive(request, true);
            return origins.upstream(pool);
        }
        Site site = table.site(pool.site());
        if (site == null) {
            throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "unknown_site", "origin pool "
                    + pool.namespace() + '/' + pool.name() + " is at site " + pool.site()
                    + ", which is not a site of this mesh");
        }
        request.headers().set(Headers.POOL, pool.namespace() + '/' + pool.name());
        return tunnels.upstream(site);
    }

    /**
     * Turns an absolute-form request target ({@code GET http://osaka-app/orders}, sent by clients
     * that use the router as their HTTP proxy) into origin-form; its authority replaces the Host
     * header (RFC 9112 section 3.2.2).
     */
    static void toOriginForm(HttpRequest request) {
        String uri = request.uri();
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd <= 0 || uri.charAt(0) == '/') {
            return;
        }
        int authorityStart = schemeEnd + 3;
        int pathStart = authorityStart;
        while (pathStart < uri.length() && "/?#".indexOf(uri.charAt(pathStart)) < 0) {
            pathStart++;
        }
        String authority = uri.substring(authorityStart, pathStart);
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            authority = authority.substring(at + 1);
        }
        String rest = uri.substring(pathStart);
        request.setUri(rest.isEmpty() || rest.charAt(0) != '/' ? '/' + rest : rest);
        if (!authority.isEmpty()) {
            request.headers().set(HttpHeaderNames.HOST, authority);
        }
    }

    @Override
    void prepareResponse(HttpResponse response, boolean keepAlive) {
        Headers.removeHopByHop(response);
        if (http2) {
            return;
        }
        if (!HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response)
                && response.status().code() != 204 && response.status().code() != 304) {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        Headers.setKeepAlive(response, keepAlive);
    }

    @Override
    boolean persistent() {
        return !http2;
    }
}
