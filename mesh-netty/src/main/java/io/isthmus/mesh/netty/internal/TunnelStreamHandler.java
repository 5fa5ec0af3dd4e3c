package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/**
 * Serves one stream of an accepted tunnel: the request names the origin pool the sending site chose;
 * this router checks that the pool is one of its own site and forwards to one of its origins. Driven
 * by the stream ({@link AcceptedStreams.HttpStream}) without a pipeline; one instance per stream.
 */
final class TunnelStreamHandler extends ProxyHandler {

    private final OriginConnector origins;
    private final SpiffeId peer;
    private final CarriedClient carried;

    /** @param carried the client addresses of the stream's tunnel connection */
    TunnelStreamHandler(RouterContext router, OriginConnector origins, SpiffeId peer, CarriedClient carried) {
        super(router, 0);
        this.origins = origins;
        this.peer = peer;
        this.carried = carried;
    }

    /**
     * The client address the streams of one tunnel connection carried last, parsed, and its text for
     * the access log: most streams of a tunnel carry one of a few clients, so a run of them parses
     * the address once. It also names, once per connection, where the connection's requests are
     * enforced, for policy log lines. Used on the connection's event loop only.
     */
    static final class CarriedClient {
        private final String via;
        /** Where the policies of this connection's requests are enforced, for their log lines. */
        final String enforcedAt;
        private @Nullable String text;
        private @Nullable InetAddress address;
        private @Nullable String description;

        CarriedClient(String site, SpiffeId peer) {
            this.via = " via " + peer;
            this.enforcedAt = "site " + site + " tunnel from " + peer.site();
        }

        /** The address in {@code value}, or {@code null} when absent or not an IP literal. */
        @Nullable InetAddress address(@Nullable String value) {
            if (value == null || !value.equals(text)) {
                InetAddress parsed = Enforcement.parseIp(value);
                text = parsed == null ? null : value;
                address = parsed;
                description = parsed == null ? null : parsed.getHostAddress() + via;
            }
            return address;
        }

        /** How the access log names the client of the address {@link #address} returned last. */
        @Nullable String description() {
            return description;
        }
    }

    @Override
    AccessRecord newRecord() {
        AccessRecord record = new AccessRecord("tunnel", router.site);
        record.protocol = "HTTP/2";
        record.client = peer.toString();
        return record;
    }

    @Override
    Upstream route(HttpRequest request, AccessRecord record) {
        RoutingTable table = router.config.current();
        HttpHeaders headers = request.headers();
        String poolName = headers.get(Headers.POOL);
        String host = headers.get(HttpHeaderNames.HOST, "");
        CompiledPool pool;
        CompiledLoadBalancer lb = null;
        if (poolName != null) {
            pool = table.poolNamed(poolName);
            if (pool == null) {
                throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_pool",
                        "origin pool " + poolName + " is not configured at site " + router.site);
            }
            String lbName = headers.get(Headers.LOAD_BALANCER);
            if (lbName != null) {
                lb = table.loadBalancerNamed(lbName);
                if (lb == null) {
                    throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_load_balancer",
                            "load balancer " + lbName + " is not configured at site " + router.site);
                }
            }
        } else {
            // The peer addressed a load balancer by domain: serve it when its pool has origins at this site.
            LoadBalancer found = table.findLocalLoadBalancer(host);
            lb = found == null ? null : table.loadBalancer(found.key());
            pool = found == null ? null : table.pool(found.defaultPoolKey());
            if (pool == null) {
                throw new RouteException(HttpResponseStatus.NOT_FOUND, "unknown_host",
                        "no load balancer with a pool at site " + router.site + " serves host \"" + host + "\"");
            }
        }
        OriginPool model = pool.pool();
        record.pool = model.key().qualifiedName();
        record.poolSite = router.site;
        InetAddress clientIp = carried.address(headers.get(Headers.CLIENT_IP));
        if (clientIp != null) {
            record.client = carried.description();
        }
        if (lb != null) {
            LoadBalancer l = lb.loadBalancer();
            record.loadBalancer = l.key().qualifiedName();
            // The peer proved its identity in the TLS handshake; it speaks for the client address it carries.
            Enforcement.enforce(table.policies(l.key()), request, host, clientIp, peer.site(), peer.toString(),
                    carried.enforcedAt);
        }
        String timeout = headers.get(Headers.TIMEOUT);
        if (timeout != null) {
            try {
                long millis = Long.parseLong(timeout);
                if (millis > 0 && millis <= Route.MAX_TIMEOUT.toMillis()) {
                    requestTimeoutMillis = millis;
                }
            } catch (NumberFormatException e) {
                // Not from a router of this version: the default applies.
            }
        }
        Headers.removeHopByHop(request);
        Headers.removeInternal(headers);
        Headers.setKeepAlive(request, true);
        return origins.upstream(router, pool, request, clientIp);
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
