package io.isthmus.mesh.snapshot;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.WeightedPool;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The routing table of one site at one config revision: compiled from the config objects, immutable,
 * and read without locks. A router keeps the current snapshot in an {@code AtomicReference}, compiles a
 * new one when the store changes, and swaps it in; requests in flight finish on the snapshot they
 * started with.
 *
 * <p>Contents: a {@link DomainMatcher host index} of the HTTP load balancers advertised at the site
 * (by name, or by the site's labels when its {@link Site} is among the objects), each load balancer with its routes compiled in order (regexes
 * compiled once), and every origin pool with its origins grouped by priority. Load balancers are
 * compiled in key order, so when two claim the same domain (in different namespaces) the result does
 * not depend on the order objects arrived in.
 *
 * <pre>{@code
 * AtomicReference<MeshSnapshot> current = new AtomicReference<>(MeshSnapshot.empty("tokyo"));
 * current.set(MeshSnapshot.compile("tokyo", store.snapshot()));      // on every change
 *
 * CompiledRoute decision = current.get().route("osaka-app", "GET", "/orders?id=42", headers::get);
 * if (decision != null && decision.action() instanceof RouteAction.Forward) {
 *     CompiledPool pool = decision.pickPool(ThreadLocalRandom.current());
 * }
 * }</pre>
 *
 * <p>Compiling tolerates a set of objects that {@link io.isthmus.mesh.config.MeshValidator} would
 * reject (a store that does not check references): a pool a load balancer names but that is missing
 * is left out of its routes' choices, so {@link CompiledRoute#pickPool} returns {@code null} and the
 * router answers that the pool is not configured.
 */
public final class MeshSnapshot {

    private final String site;
    private final long revision;
    private final DomainMatcher<CompiledLoadBalancer> hosts;
    private final Map<ObjectKey, CompiledLoadBalancer> loadBalancers;
    private final Map<ObjectKey, CompiledPool> pools;
    private final Map<Integer, CompiledLoadBalancer> tcpByPort;

    private MeshSnapshot(String site, long revision, DomainMatcher<CompiledLoadBalancer> hosts,
            Map<ObjectKey, CompiledLoadBalancer> loadBalancers, Map<ObjectKey, CompiledPool> pools,
            Map<Integer, CompiledLoadBalancer> tcpByPort) {
        this.site = site;
        this.revision = revision;
        this.hosts = hosts;
        this.loadBalancers = loadBalancers;
        this.pools = pools;
        this.tcpByPort = tcpByPort;
    }

    /**
     * Returns a snapshot without objects, for a router that has not read its store yet.
     *
     * @param site the site's name
     * @return the snapshot, at revision 0
     */
    public static MeshSnapshot empty(String site) {
        return compile(site, 0, List.of());
    }

    /**
     * Compiles the snapshot of a site from a store's snapshot.
     *
     * @param site the site's name
     * @param config the objects at one revision
     * @return the snapshot
     */
    public static MeshSnapshot compile(String site, ConfigSnapshot config) {
        List<MeshObject> objects = new ArrayList<>(config.objects().size());
        for (Versioned<MeshObject> v : config.objects()) {
            objects.add(v.object());
        }
        return compile(site, config.revision(), objects);
    }

    /**
     * Compiles the snapshot of a site from a set of objects.
     *
     * @param site the site's name
     * @param revision the config revision the objects belong to
     * @param objects the objects; each key once
     * @return the snapshot
     */
    public static MeshSnapshot compile(String site, long revision, Collection<? extends MeshObject> objects) {
        Validation.dnsLabel(site, "site");
        requireNonNull(objects, "objects");
        Site self = null;
        List<LoadBalancer> lbs = new ArrayList<>();
        Map<ObjectKey, CompiledPool> pools = new HashMap<>();
        for (MeshObject object : objects) {
            if (object instanceof Site && object.name().equals(site)) {
                self = (Site) object;
            } else if (object instanceof LoadBalancer) {
                lbs.add((LoadBalancer) object);
            } else if (object instanceof OriginPool) {
                pools.put(object.key(), new CompiledPool((OriginPool) object));
            }
        }
        lbs.sort(Comparator.comparing(LoadBalancer::key));
        DomainMatcher.Builder<CompiledLoadBalancer> hosts = DomainMatcher.builder();
        Map<ObjectKey, CompiledLoadBalancer> compiled = new LinkedHashMap<>();
        Map<Integer, CompiledLoadBalancer> tcp = new HashMap<>();
        for (LoadBalancer lb : lbs) {
            CompiledLoadBalancer c = compile(lb, pools);
            compiled.put(lb.key(), c);
            boolean advertised = self != null ? lb.isAdvertisedAt(self) : lb.isAdvertisedAt(site);
            if (!advertised) {
                continue;
            }
            if (lb.type() == LoadBalancer.Type.TCP) {
                tcp.putIfAbsent(lb.port(), c);
            } else {
                for (String domain : lb.domains()) {
                    hosts.add(domain, lb.namespace(), c);
                }
            }
        }
        return new MeshSnapshot(site, revision, hosts.build(), Map.copyOf(compiled), Map.copyOf(pools), Map.copyOf(tcp));
    }

    private static CompiledLoadBalancer compile(LoadBalancer lb, Map<ObjectKey, CompiledPool> pools) {
        List<CompiledRoute> routes = new ArrayList<>();
        for (int i = 0; i < lb.routes().size(); i++) {
            Route route = lb.routes().get(i);
            routes.add(new CompiledRoute(lb, route, i, route.action(), choice(lb, route.action(), pools)));
        }
        RouteAction toDefault = RouteAction.forward(WeightedPool.of(lb.defaultPool()));
        CompiledRoute defaultRoute = new CompiledRoute(lb, null, -1, toDefault, choice(lb, toDefault, pools));
        return new CompiledLoadBalancer(lb, routes, defaultRoute);
    }

    private static WeightedChoice<CompiledPool> choice(LoadBalancer lb, RouteAction action,
            Map<ObjectKey, CompiledPool> pools) {
        if (!(action instanceof RouteAction.Forward)) {
            return WeightedChoice.of(List.of(), p -> 1);
        }
        List<CompiledPool> found = new ArrayList<>();
        Map<CompiledPool, Integer> weights = new HashMap<>();
        for (WeightedPool wp : ((RouteAction.Forward) action).pools()) {
            CompiledPool pool = pools.get(ObjectKey.of(Kind.ORIGIN_POOL, lb.namespace(), wp.pool()));
            if (pool != null) {
                found.add(pool);
                weights.put(pool, wp.weight());
            }
        }
        return WeightedChoice.of(found, weights::get);
    }

    /** @return the site this snapshot routes for */
    public String site() {
        return site;
    }

    /** @return the config revision it was compiled from */
    public long revision() {
        return revision;
    }

    /**
     * Routes an HTTP request received at this site.
     *
     * @param host the Host (or {@code :authority}), any case, with or without port
     * @param method the upper-case method
     * @param pathAndQuery the request target: path, optionally {@code ?query}
     * @param headers the request's headers
     * @return the decision, or {@code null} when no load balancer advertised here serves the host
     */
    public @Nullable CompiledRoute route(String host, String method, String pathAndQuery, HeaderLookup headers) {
        CompiledLoadBalancer lb = hosts.match(host);
        return lb == null ? null : lb.select(method, pathAndQuery, headers);
    }

    /**
     * Finds the HTTP load balancer advertised at this site that serves a host.
     *
     * @param host the host, any case, with or without port
     * @return the load balancer, or {@code null}
     */
    public @Nullable CompiledLoadBalancer loadBalancerForHost(String host) {
        return hosts.match(host);
    }

    /**
     * Finds the TCP load balancer advertised at this site on a port.
     *
     * @param port the listener port
     * @return the load balancer (the first by key when several claim the port), or {@code null}
     */
    public @Nullable CompiledLoadBalancer tcpLoadBalancer(int port) {
        return tcpByPort.get(port);
    }

    /**
     * Returns any load balancer by key, advertised here or not: the site where a pool's origins live
     * routes requests that arrive through tunnels with it.
     *
     * @param key the load balancer's key
     * @return the load balancer, or {@code null}
     */
    public @Nullable CompiledLoadBalancer loadBalancer(ObjectKey key) {
        return loadBalancers.get(key);
    }

    /**
     * Returns an origin pool by key.
     *
     * @param key the pool's key
     * @return the pool, or {@code null}
     */
    public @Nullable CompiledPool pool(ObjectKey key) {
        return pools.get(key);
    }

    /** @return every compiled load balancer, by key */
    public Map<ObjectKey, CompiledLoadBalancer> loadBalancers() {
        return loadBalancers;
    }

    /** @return every compiled pool, by key */
    public Map<ObjectKey, CompiledPool> pools() {
        return pools;
    }

    @Override
    public String toString() {
        return "MeshSnapshot{site=" + site + ", revision=" + revision + ", loadBalancers=" + loadBalancers.size()
                + ", pools=" + pools.size() + '}';
    }
}
