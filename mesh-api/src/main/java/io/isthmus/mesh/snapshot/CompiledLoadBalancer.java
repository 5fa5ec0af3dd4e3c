package io.isthmus.mesh.snapshot;

import io.isthmus.mesh.model.LoadBalancer;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A load balancer ready for routing: its routes in order, each compiled, and the default route to its
 * default pool. Immutable and thread-safe.
 *
 * <pre>{@code
 * CompiledRoute decision = compiled.select("GET", "/api/orders?id=42", HeaderLookup.NONE);
 * }</pre>
 */
public final class CompiledLoadBalancer {

    private final LoadBalancer loadBalancer;
    private final List<CompiledRoute> routes;
    private final CompiledRoute defaultRoute;

    CompiledLoadBalancer(LoadBalancer loadBalancer, List<CompiledRoute> routes, CompiledRoute defaultRoute) {
        this.loadBalancer = loadBalancer;
        this.routes = List.copyOf(routes);
        this.defaultRoute = defaultRoute;
    }

    /** @return the load balancer as configured */
    public LoadBalancer loadBalancer() {
        return loadBalancer;
    }

    /** @return the compiled routes, in order */
    public List<CompiledRoute> routes() {
        return routes;
    }

    /** @return the route to the default pool, for requests no route matches */
    public CompiledRoute defaultRoute() {
        return defaultRoute;
    }

    /**
     * Returns the first route that matches a request, or the default route.
     *
     * @param method the upper-case method
     * @param pathAndQuery the request target: path, optionally {@code ?query}
     * @param headers the request's headers
     * @return the decision, never {@code null}
     */
    public CompiledRoute select(String method, String pathAndQuery, HeaderLookup headers) {
        int queryStart = pathAndQuery.indexOf('?');
        String path = queryStart < 0 ? pathAndQuery : pathAndQuery.substring(0, queryStart);
        for (int i = 0; i < routes.size(); i++) {
            CompiledRoute route = routes.get(i);
            if (route.matches(method, path, pathAndQuery, queryStart, headers)) {
                return route;
            }
        }
        return defaultRoute;
    }

    /**
     * Returns the route with a name.
     *
     * @param name the route's name
     * @return the route, or {@code null}
     */
    public @Nullable CompiledRoute route(String name) {
        for (CompiledRoute route : routes) {
            if (route.route() != null && name.equals(route.route().name())) {
                return route;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "CompiledLoadBalancer{" + loadBalancer.key() + ", routes=" + routes.size() + '}';
    }
}
