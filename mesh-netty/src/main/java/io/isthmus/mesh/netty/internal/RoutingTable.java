package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.policy.FirewallEngine;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.isthmus.mesh.snapshot.CompiledRoute;
import io.isthmus.mesh.snapshot.HeaderLookup;
import io.isthmus.mesh.snapshot.MeshSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The immutable routing view one router compiles from the config store at one revision: the {@link
 * MeshSnapshot} (hosts, routes, pools by priority), the service-policy engine of every load balancer,
 * the network firewall that applies at the site, and the sites it knows. Read on the hot path without
 * locks; replaced as a whole when the configuration changes.
 */
public final class RoutingTable {

    private final String localSite;
    private final MeshSnapshot mesh;
    private final DomainIndex local;
    private final Map<ObjectKey, ServicePolicyEngine> policies;
    private final FirewallEngine firewall;
    private final Map<String, Site> sites;

    private RoutingTable(String localSite, MeshSnapshot mesh, DomainIndex local,
            Map<ObjectKey, ServicePolicyEngine> policies, FirewallEngine firewall, Map<String, Site> sites) {
        this.localSite = localSite;
        this.mesh = mesh;
        this.local = local;
        this.policies = policies;
        this.firewall = firewall;
        this.sites = sites;
    }

    /** Returns a table with nothing in it. */
    public static RoutingTable empty(String localSite) {
        return new RoutingTable(localSite, MeshSnapshot.empty(localSite), DomainIndex.EMPTY, Map.of(),
                FirewallEngine.compile(List.of(), Site.of(localSite)), Map.of());
    }

    /** Compiles a table for {@code localSite} from a consistent set of stored objects. */
    public static RoutingTable compile(String localSite, ConfigSnapshot snapshot) {
        return compile(localSite, snapshot.revision(), snapshot.objects(), null);
    }

    /**
     * Compiles a table; the rate limiters of rules that did not change are taken over from {@code
     * previous}, so a config change does not refill every bucket.
     */
    static RoutingTable compile(String localSite, long revision, Collection<Versioned<MeshObject>> objects,
            @Nullable RoutingTable previous) {
        List<MeshObject> all = new ArrayList<>(objects.size());
        Map<String, Site> sites = new HashMap<>();
        Map<ObjectKey, ServicePolicy> servicePolicies = new HashMap<>();
        List<NetworkFirewall> firewalls = new ArrayList<>();
        for (Versioned<MeshObject> v : objects) {
            MeshObject object = v.object();
            all.add(object);
            if (object instanceof Site) {
                sites.put(object.name(), (Site) object);
            } else if (object instanceof ServicePolicy) {
                servicePolicies.put(object.key(), (ServicePolicy) object);
            } else if (object instanceof NetworkFirewall) {
                firewalls.add((NetworkFirewall) object);
            }
        }
        MeshSnapshot mesh = MeshSnapshot.compile(localSite, revision, all);
        DomainIndex.Builder local = new DomainIndex.Builder();
        Map<ObjectKey, ServicePolicyEngine> engines = new HashMap<>();
        for (CompiledLoadBalancer c : mesh.loadBalancers().values()) {
            LoadBalancer lb = c.loadBalancer();
            CompiledPool pool = mesh.pool(lb.defaultPoolKey());
            if (pool != null && pool.pool().sites().contains(localSite) && lb.type() == LoadBalancer.Type.HTTP) {
                local.add(lb);
            }
            ServicePolicyEngine.Builder engine = ServicePolicyEngine.builder(lb.namespace(), lb.servicePolicies(),
                    servicePolicies::get);
            ServicePolicyEngine before = previous == null ? null : previous.policies.get(lb.key());
            if (before != null) {
                engine.reuseRateLimitersOf(before);
            }
            engines.put(lb.key(), engine.build());
        }
        Site self = sites.getOrDefault(localSite, Site.of(localSite));
        return new RoutingTable(localSite, mesh, local.build(), Map.copyOf(engines),
                FirewallEngine.compile(firewalls, self), Map.copyOf(sites));
    }

    /** @return the store revision this table was compiled from */
    public long revision() {
        return mesh.revision();
    }

    /** @return the site this table routes for */
    public String localSite() {
        return localSite;
    }

    /** @return the compiled snapshot */
    MeshSnapshot mesh() {
        return mesh;
    }

    /**
     * Routes a request received at the ingress.
     *
     * @return the decision, or {@code null} when no load balancer advertised here serves the host
     */
    @Nullable CompiledRoute route(String host, String method, String pathAndQuery, HeaderLookup headers) {
        return mesh.route(host, method, pathAndQuery, headers);
    }

    /** Finds the load balancer advertised at this site that serves a Host, or {@code null}. */
    public @Nullable LoadBalancer findLoadBalancer(String hostHeader) {
        CompiledLoadBalancer lb = mesh.loadBalancerForHost(hostHeader);
        return lb == null ? null : lb.loadBalancer();
    }

    /** Finds the load balancer whose default pool has origins at this site and that serves a Host. */
    public @Nullable LoadBalancer findLocalLoadBalancer(String hostHeader) {
        return local.find(hostHeader);
    }

    /** @return the compiled pool with that key, or {@code null} */
    /** Pools and load balancers by {@code namespace/name}, as tunnel streams name them; filled as asked for. */
    private final Map<String, CompiledPool> poolsByName = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, CompiledLoadBalancer> loadBalancersByName = new java.util.concurrent.ConcurrentHashMap<>();

    /** @return the origin pool named {@code namespace/name}, or {@code null} */
    @Nullable CompiledPool poolNamed(String namespacedName) {
        CompiledPool pool = poolsByName.get(namespacedName);
        if (pool == null) {
            ObjectKey key = key(io.isthmus.mesh.model.Kind.ORIGIN_POOL, namespacedName);
            pool = key == null ? null : pool(key);
            if (pool != null) {
                poolsByName.put(namespacedName, pool);
            }
        }
        return pool;
    }

    /** @return the load balancer named {@code namespace/name}, or {@code null} */
    @Nullable CompiledLoadBalancer loadBalancerNamed(String namespacedName) {
        CompiledLoadBalancer lb = loadBalancersByName.get(namespacedName);
        if (lb == null) {
            ObjectKey key = key(io.isthmus.mesh.model.Kind.LOAD_BALANCER, namespacedName);
            lb = key == null ? null : loadBalancer(key);
            if (lb != null) {
                loadBalancersByName.put(namespacedName, lb);
            }
        }
        return lb;
    }

    private static @Nullable ObjectKey key(io.isthmus.mesh.model.Kind kind, String namespacedName) {
        int slash = namespacedName.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        try {
            return ObjectKey.of(kind, namespacedName.substring(0, slash), namespacedName.substring(slash + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Nullable CompiledPool pool(ObjectKey key) {
        return mesh.pool(key);
    }

    /** @return the compiled load balancer with that key, advertised here or not, or {@code null} */
    @Nullable CompiledLoadBalancer loadBalancer(ObjectKey key) {
        return mesh.loadBalancer(key);
    }

    /** @return the policy engine of a load balancer (allowing everything when it is unknown) */
    ServicePolicyEngine policies(ObjectKey loadBalancer) {
        ServicePolicyEngine engine = policies.get(loadBalancer);
        return engine == null ? ALLOW_ALL : engine;
    }

    private static final ServicePolicyEngine ALLOW_ALL = ServicePolicyEngine.compile(List.of());

    /** @return the network firewall that applies at this site */
    FirewallEngine firewall() {
        return firewall;
    }

    /** @return the site with that name, or {@code null} */
    public @Nullable Site site(String name) {
        return sites.get(name);
    }

    /** Returns the origins of a pool at this site, of the most preferred priority that has any. */
    List<Origin> localOrigins(CompiledPool pool) {
        for (CompiledPool.PriorityGroup group : pool.priorities()) {
            if (group.sites().contains(localSite)) {
                List<Origin> found = new ArrayList<>(group.origins().size());
                for (Origin origin : group.origins()) {
                    if (origin.siteIn(pool.pool()).equals(localSite)) {
                        found.add(origin);
                    }
                }
                return found;
            }
        }
        return List.of();
    }
}
