package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.isthmus.mesh.snapshot.CompiledRoute;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Serves one application connection on the ingress port: matches each request's Host to a load
 * balancer advertised at this site and sends it to the pool, straight to an origin when the pool is
 * local, through a tunnel to the pool's site otherwise. On the dedicated port of HTTP load balancers
 * only the load balancers with that port are matched; every other Host gets 404.
 */
final class IngressHandler extends ProxyHandler {

    private final OriginConnector origins;
    private final TunnelClient tunnels;
    /** Serves one HTTP/2 stream of an h2c connection rather than an HTTP/1.1 connection. */
    private final boolean http2;
    /** The dedicated load balancer port this handler serves, or 0 for the shared ingress port. */
    private final int dedicatedPort;
    /** The client's address and its text, found once per connection. */
    private @Nullable InetAddress client;
    private @Nullable String clientText;
    private Headers.@Nullable Client forwardingClient;
    private final String listenerName;
    /** Where policies are enforced, for their log lines. */
    private final String enforcedAt;
    /** This router's {@code via} entry. */
    private final String via;
    /** Whether the first request of this HTTP/1.1 connection was seen (and, if it did not upgrade, the upgrade check removed). */
    private boolean firstRequestSeen;

    IngressHandler(RouterContext router, OriginConnector origins, TunnelClient tunnels, boolean http2,
            int dedicatedPort) {
        super(router, http2 ? 0 : router.settings.requestHeaderTimeoutMillis);
        this.origins = origins;
        this.tunnels = tunnels;
        this.http2 = http2;
        this.dedicatedPort = dedicatedPort;
        this.listenerName = dedicatedPort == 0 ? "ingress" : "ingress:" + dedicatedPort;
        this.enforcedAt = "site " + router.site + " ingress";
        this.via = Headers.via(router.site, http2);
    }

    @Override
    AccessRecord newRecord() {
        AccessRecord record = new AccessRecord(listenerName,
                router.site);
        record.protocol = http2 ? "HTTP/2" : "HTTP/1.1";
        record.client = clientText();
        return record;
    }

    @Override
    Upstream route(HttpRequest request, AccessRecord record) {
        ChannelHandlerContext ctx = context();
        if (!http2 && !firstRequestSeen) {
            firstRequestSeen = true;
            dropUpgradeCheck(ctx, request);
        }
        toOriginForm(request);
        record.path = request.uri();
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty()) {
            throw new RouteException(HttpResponseStatus.BAD_REQUEST, "no_host", "request has no Host header");
        }
        RoutingTable table = router.config.current();
        HttpHeaders headers = request.headers();
        CompiledRoute decision = table.route(host, request.method().name(), request.uri(), headers::get);
        if (decision == null || dedicatedPort != 0 && decision.loadBalancer().port() != dedicatedPort) {
            throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_host",
                    "no load balancer serves host \"" + host + "\""
                    + (dedicatedPort == 0 ? "" : " on port " + dedicatedPort) + " at site " + router.site);
        }
        LoadBalancer lb = decision.loadBalancer();
        String lbName = lb.key().qualifiedName();
        record.loadBalancer = lbName;
        Route route = decision.route();
        record.route = route == null ? "default" : route.name() != null ? route.name() : "routes[" + decision.index() + ']';
        InetAddress clientIp = clientIp();
        Enforcement.enforce(table.policies(lb.key()), request, host, clientIp, router.site,
                router.credentials.spiffeId().toString(), enforcedAt);
        RouteAction action = decision.action();
        if (action instanceof RouteAction.Redirect) {
            throw RouteException.redirect(((RouteAction.Redirect) action).status(),
                    location((RouteAction.Redirect) action, host, request.uri()));
        }
        if (action instanceof RouteAction.DirectResponse) {
            RouteAction.DirectResponse direct = (RouteAction.DirectResponse) action;
            throw RouteException.direct(direct.status(), direct.body());
        }
        CompiledPool pool = decision.pickPool(ThreadLocalRandom.current());
        if (pool == null) {
            throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "pool_not_configured", "load balancer "
                    + lbName + ", " + record.route + ": none of its origin pools "
                    + ((RouteAction.Forward) action).pools().stream().map(p -> p.pool()).toList()
                    + " is configured in namespace " + lb.namespace());
        }
        OriginPool model = pool.pool();
        record.pool = model.key().qualifiedName();
        Duration timeout = decision.timeout();
        if (timeout != null) {
            requestTimeoutMillis = timeout.toMillis();
        }
        Headers.removeHopByHop(request);
        Headers.addIngressHeaders(request, client(), via);
        String site = Failover.chooseSite(router, tunnels, table, pool);
        record.poolSite = site;
        if (site.equals(router.site)) {
            Headers.setKeepAlive(request, true);
            return origins.upstream(router, pool, request, clientIp);
        }
        Site remote = table.site(site);
        if (remote == null) {
            throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "unknown_site", "origin pool "
                    + record.pool + " has origins at site " + site + ", which is not a site of this mesh");
        }
        headers.set(Headers.POOL, record.pool);
        headers.set(Headers.LOAD_BALANCER, lbName);
        if (clientIp != null) {
            headers.set(Headers.CLIENT_IP, clientText());
        }
        if (timeout != null) {
            headers.set(Headers.TIMEOUT, Long.toString(timeout.toMillis()));
        }
        return Failover.observe(router, tunnels, table, tunnels.upstream(remote), site, pool, record);
    }

    /**
     * A client switches to h2c with the first request of a connection; when that request does not ask
     * to, the later ones need not be checked for it.
     */
    private static void dropUpgradeCheck(ChannelHandlerContext ctx, HttpRequest request) {
        if (!request.headers().contains(HttpHeaderNames.UPGRADE)
                && ctx.pipeline().get(io.netty.handler.codec.http.HttpServerUpgradeHandler.class) != null) {
            ctx.pipeline().remove(io.netty.handler.codec.http.HttpServerUpgradeHandler.class);
        }
    }

    /** The client of this connection, as forwarding headers name it. */
    private Headers.Client client() {
        Headers.Client c = forwardingClient;
        if (c == null) {
            c = Headers.Client.of(clientIp());
            forwardingClient = c;
        }
        return c;
    }

    private @Nullable InetAddress clientIp() {
        if (client == null) {
            SocketAddress remote = context().channel().remoteAddress();
            client = remote instanceof InetSocketAddress ? ((InetSocketAddress) remote).getAddress() : null;
        }
        return client;
    }

    private @Nullable String clientText() {
        if (clientText == null) {
            InetAddress address = clientIp();
            clientText = address == null ? null : address.getHostAddress();
        }
        return clientText;
    }

    /** Builds a redirect's {@code Location}: the request's URL with the parts the redirect sets replaced. */
    static String location(RouteAction.Redirect redirect, String host, String uri) {
        String scheme = redirect.scheme() != null ? redirect.scheme() : "http";
        String authority = redirect.host() != null ? redirect.host() : host;
        int query = uri.indexOf('?');
        String path = redirect.path() != null ? redirect.path() : query < 0 ? uri : uri.substring(0, query);
        return scheme + "://" + authority + path + (query < 0 ? "" : uri.substring(query));
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
