package io.isthmus.mesh.snapshot;

import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.RetryPolicy;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.StringMatch;
import java.time.Duration;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A routing decision: the load balancer and route that matched a request and what to do with it. A
 * load balancer's routes and its default route (for requests no route matches) are compiled once per
 * snapshot, so routing returns one of these without allocating. Immutable and thread-safe.
 *
 * <pre>{@code
 * CompiledRoute decision = snapshot.route(host, "GET", "/api/orders?id=42", headers::get);
 * if (decision == null) { ... 404: no load balancer for this host ... }
 * else if (decision.action() instanceof RouteAction.Forward) {
 *     CompiledPool pool = decision.pickPool(ThreadLocalRandom.current());
 *     ...
 * }
 * }</pre>
 */
public final class CompiledRoute {

    private final LoadBalancer loadBalancer;
    private final @Nullable Route route;
    private final int index;
    private final RouteAction action;
    private final WeightedChoice<CompiledPool> pools;

    CompiledRoute(LoadBalancer loadBalancer, @Nullable Route route, int index, RouteAction action,
            WeightedChoice<CompiledPool> pools) {
        this.loadBalancer = loadBalancer;
        this.route = route;
        this.index = index;
        this.action = action;
        this.pools = pools;
    }

    /** @return the load balancer the request's host belongs to */
    public LoadBalancer loadBalancer() {
        return loadBalancer;
    }

    /** @return the route that matched, or {@code null} when the default pool serves the request */
    public @Nullable Route route() {
        return route;
    }

    /** @return the index of the route in the load balancer, or {@code -1} for the default route */
    public int index() {
        return index;
    }

    /** @return whether no route matched and the default pool serves the request */
    public boolean isDefault() {
        return route == null;
    }

    /** @return what to do: forward (the default route forwards to the default pool), redirect, answer */
    public RouteAction action() {
        return action;
    }

    /**
     * Returns the pools to forward to, weighted; pools missing from the snapshot are left out.
     *
     * @return the choice; empty for a redirect, a direct response, or when no named pool exists
     */
    public WeightedChoice<CompiledPool> pools() {
        return pools;
    }

    /**
     * Picks a pool in proportion to the weights.
     *
     * @param random the source of randomness
     * @return the pool, or {@code null} when there is none to forward to
     */
    public @Nullable CompiledPool pickPool(RandomGenerator random) {
        return pools.isEmpty() ? null : pools.pick(random);
    }

    /** @return the route's timeout, or {@code null} for the router's default */
    public @Nullable Duration timeout() {
        return route == null ? null : route.timeout();
    }

    /** @return the route's retry policy, or {@code null} for none */
    public @Nullable RetryPolicy retry() {
        return route == null ? null : route.retry();
    }

    boolean matches(String method, String path, String pathAndQuery, int queryStart, HeaderLookup headers) {
        if (route == null) {
            return true;
        }
        RouteMatch match = route.match();
        if (!match.methods().isEmpty() && !match.methods().contains(method)) {
            return false;
        }
        StringMatch pathMatch = match.path();
        if (pathMatch != null && !pathMatch.matches(path)) {
            return false;
        }
        for (Map.Entry<String, StringMatch> header : match.headers().entrySet()) {
            if (!header.getValue().matches(headers.header(header.getKey()))) {
                return false;
            }
        }
        for (Map.Entry<String, StringMatch> param : match.queryParams().entrySet()) {
            if (!param.getValue().matches(queryParam(pathAndQuery, queryStart, param.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Returns the first raw value of a query parameter ("" for {@code ?flag}), or {@code null}. */
    static @Nullable String queryParam(String pathAndQuery, int queryStart, String name) {
        if (queryStart < 0) {
            return null;
        }
        int end = pathAndQuery.indexOf('#', queryStart);
        end = end < 0 ? pathAndQuery.length() : end;
        int i = queryStart + 1;
        while (i <= end) {
            int amp = pathAndQuery.indexOf('&', i);
            int segmentEnd = amp < 0 || amp > end ? end : amp;
            int eq = pathAndQuery.indexOf('=', i);
            int nameEnd = eq < 0 || eq > segmentEnd ? segmentEnd : eq;
            if (nameEnd - i == name.length() && pathAndQuery.regionMatches(i, name, 0, name.length())) {
                return nameEnd == segmentEnd ? "" : pathAndQuery.substring(nameEnd + 1, segmentEnd);
            }
            i = segmentEnd + 1;
        }
        return null;
    }

    @Override
    public String toString() {
        return "CompiledRoute{" + loadBalancer.key() + (route == null ? ", default" : ", routes[" + index + ']')
                + ", " + action + '}';
    }
}
