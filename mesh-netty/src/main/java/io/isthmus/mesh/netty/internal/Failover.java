package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Chooses the site that serves a request to a pool: the first priority group (lowest number first)
 * with a place that can take it, where a place is this site when one of its origins in the group is
 * healthy, or another site whose tunnel is up, whose circuit is closed and that has not recently
 * answered that it has no healthy origin for the pool. Within a group of several sites, the site of an
 * origin picked by weight is preferred.
 */
final class Failover {

    /** The reason the pool's site gives when none of its origins may take a request. */
    static final String NO_HEALTHY_ORIGIN = "no_healthy_origin";

    private Failover() {}

    static String chooseSite(RouterContext router, TunnelClient tunnels, RoutingTable table, CompiledPool pool) {
        for (CompiledPool.PriorityGroup group : pool.priorities()) {
            String site = pick(router, tunnels, pool, group, null);
            if (site != null) {
                return site;
            }
        }
        // Nothing is known to be healthy: try the preferred group, so that the answer says why it failed.
        CompiledPool.PriorityGroup first = pool.priorities().get(0);
        return first.sites().contains(router.site) ? router.site : first.sites().get(0);
    }

    /**
     * Returns another remote site that can serve the pool after {@code failed} could not be reached,
     * or {@code null}: the request can then move on without the client seeing the failure.
     */
    static @Nullable String alternative(RouterContext router, TunnelClient tunnels, CompiledPool pool, String failed) {
        for (CompiledPool.PriorityGroup group : pool.priorities()) {
            String site = pick(router, tunnels, pool, group, failed);
            if (site != null) {
                return site.equals(router.site) ? null : site;
            }
        }
        return null;
    }

    private static @Nullable String pick(RouterContext router, TunnelClient tunnels, CompiledPool pool,
            CompiledPool.PriorityGroup group, @Nullable String excluded) {
        if (group.sites().size() == 1) {
            String site = group.sites().get(0);
            return !site.equals(excluded) && usable(router, tunnels, pool, group, site) ? site : null;
        }
        if (router.localSiteFirst && group.sites().contains(router.site)
                && usable(router, tunnels, pool, group, router.site)) {
            return router.site;
        }
        Origin picked = group.choice().pick(ThreadLocalRandom.current());
        String preferred = picked.siteIn(pool.pool());
        if (!preferred.equals(excluded) && usable(router, tunnels, pool, group, preferred)) {
            return preferred;
        }
        for (String site : group.sites()) {
            if (!site.equals(preferred) && !site.equals(excluded) && usable(router, tunnels, pool, group, site)) {
                return site;
            }
        }
        return null;
    }

    private static boolean usable(RouterContext router, TunnelClient tunnels, CompiledPool pool,
            CompiledPool.PriorityGroup group, String site) {
        if (site.equals(router.site)) {
            for (Origin origin : group.origins()) {
                if (origin.siteIn(pool.pool()).equals(site)) {
                    for (io.isthmus.mesh.model.Endpoint endpoint : router.endpoints.of(origin)) {
                        if (router.health.healthy(endpoint)) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }
        return tunnels.available(site) && router.health.remoteHealthy(site, pool.pool().key());
    }

    /**
     * Wraps the tunnel upstream of a request to a remote site: when the site cannot be reached, the
     * request goes to the next remote site that can serve the pool (the client does not see the
     * failure), and a "no healthy origin" answer passes the site over for the pool for a while.
     */
    static Upstream observe(RouterContext router, TunnelClient tunnels, RoutingTable table, Upstream tunnel,
            String site, CompiledPool pool, AccessRecord record) {
        return new Upstream() {
            private Upstream current = tunnel;
            private String currentSite = site;

            @Override
            public Future<UpstreamLink> acquire(EventLoop loop) {
                Future<UpstreamLink> first = current.acquire(loop);
                if (first.isSuccess()) {
                    return first;
                }
                Promise<UpstreamLink> promise = loop.newPromise();
                first.addListener(f -> {
                    if (f.isSuccess()) {
                        promise.setSuccess(first.getNow());
                        return;
                    }
                    String next = alternative(router, tunnels, pool, currentSite);
                    io.isthmus.mesh.model.Site remote = next == null ? null : table.site(next);
                    if (remote == null) {
                        promise.setFailure(f.cause());
                        return;
                    }
                    Upstream nextUpstream;
                    try {
                        nextUpstream = tunnels.upstream(remote);
                    } catch (RouteException e) {
                        promise.setFailure(f.cause());
                        return;
                    }
                    // The failed site's breaker counts the failure; the request moves on.
                    current.outcome(Boolean.FALSE);
                    current = nextUpstream;
                    currentSite = next;
                    record.poolSite = next;
                    Future<UpstreamLink> second = nextUpstream.acquire(loop);
                    second.addListener(g -> {
                        if (g.isSuccess()) {
                            promise.setSuccess(second.getNow());
                        } else {
                            promise.setFailure(g.cause());
                        }
                    });
                });
                return promise;
            }

            @Override
            public String describe() {
                return current.describe();
            }

            @Override
            public void outcome(@Nullable Boolean success) {
                current.outcome(success);
            }

            @Override
            public void responded(HttpResponse response) {
                current.responded(response);
                if (response.status().code() == 503) {
                    String error = response.headers().get(Responses.ERROR_HEADER);
                    if (error != null && error.contains("no healthy origin")) {
                        router.health.remoteUnhealthy(currentSite, pool.pool().key());
                    }
                }
            }

            @Override
            public HttpResponseStatus unreachableStatus() {
                return current.unreachableStatus();
            }
        };
    }
}
