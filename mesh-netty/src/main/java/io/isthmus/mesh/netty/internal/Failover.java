package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;
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
            String site = pick(router, tunnels, pool, group);
            if (site != null) {
                return site;
            }
        }
        // Nothing is known to be healthy: try the preferred group, so that the answer says why it failed.
        CompiledPool.PriorityGroup first = pool.priorities().get(0);
        return first.sites().contains(router.site) ? router.site : first.sites().get(0);
    }

    private static @Nullable String pick(RouterContext router, TunnelClient tunnels, CompiledPool pool,
            CompiledPool.PriorityGroup group) {
        if (group.sites().size() == 1) {
            String site = group.sites().get(0);
            return usable(router, tunnels, pool, group, site) ? site : null;
        }
        Origin picked = group.choice().pick(ThreadLocalRandom.current());
        String preferred = picked.siteIn(pool.pool());
        if (usable(router, tunnels, pool, group, preferred)) {
            return preferred;
        }
        for (String site : group.sites()) {
            if (!site.equals(preferred) && usable(router, tunnels, pool, group, site)) {
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
     * Wraps the tunnel upstream of a request to a remote site so that a "no healthy origin" answer
     * passes the site over for the pool for a while.
     */
    static Upstream observe(RouterContext router, Upstream tunnel, String site, ObjectKey pool) {
        return new Upstream() {
            @Override
            public Future<Channel> acquire(EventLoop loop) {
                return tunnel.acquire(loop);
            }

            @Override
            public void release(Channel channel, boolean reusable) {
                tunnel.release(channel, reusable);
            }

            @Override
            public String describe() {
                return tunnel.describe();
            }

            @Override
            public String endpoint(Channel channel) {
                return tunnel.endpoint(channel);
            }

            @Override
            public void outcome(@Nullable Boolean success) {
                tunnel.outcome(success);
            }

            @Override
            public void responded(HttpResponse response) {
                tunnel.responded(response);
                if (response.status().code() == 503) {
                    String error = response.headers().get(Responses.ERROR_HEADER);
                    if (error != null && error.contains("no healthy origin")) {
                        router.health.remoteUnhealthy(site, pool);
                    }
                }
            }

            @Override
            public HttpResponseStatus unreachableStatus() {
                return tunnel.unreachableStatus();
            }
        };
    }
}
