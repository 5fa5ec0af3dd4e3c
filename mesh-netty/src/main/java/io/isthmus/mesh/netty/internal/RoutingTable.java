package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The immutable routing view one router compiles from the config store: the load balancers it
 * serves at ingress (those advertised at its site), those it serves to other sites' tunnels (those
 * whose pool is at its site), the pools and the sites it knows. Read on the hot path without locks;
 * replaced as a whole when the configuration changes.
 */
public final class RoutingTable {

    private final String localSite;
    private final long revision;
    private final DomainIndex ingress;
    private final DomainIndex local;
    private final Map<ObjectKey, OriginPool> pools;
    private final Map<String, Site> sites;

    private RoutingTable(String localSite, long revision, DomainIndex ingress, DomainIndex local,
            Map<ObjectKey, OriginPool> pools, Map<String, Site> sites) {
        this.localSite = localSite;
        this.revision = revision;
        this.ingress = ingress;
        this.local = local;
        this.pools = pools;
        this.sites = sites;
    }

    /** Returns a table with nothing in it. */
    public static RoutingTable empty(String localSite) {
        return new RoutingTable(localSite, 0, DomainIndex.EMPTY, DomainIndex.EMPTY, Map.of(), Map.of());
    }

    /** Compiles a table for {@code localSite} from a consistent set of stored objects. */
    public static RoutingTable compile(String localSite, ConfigSnapshot snapshot) {
        return compile(localSite, snapshot.revision(), snapshot.objects());
    }

    static RoutingTable compile(String localSite, long revision, Collection<Versioned<MeshObject>> objects) {
        Map<ObjectKey, OriginPool> pools = new HashMap<>();
        Map<String, Site> sites = new HashMap<>();
        List<LoadBalancer> loadBalancers = new ArrayList<>();
        for (Versioned<MeshObject> v : objects) {
            MeshObject object = v.object();
            if (object instanceof Site) {
                sites.put(object.name(), (Site) object);
            } else if (object instanceof OriginPool) {
                pools.put(object.key(), (OriginPool) object);
            } else if (object instanceof LoadBalancer) {
                loadBalancers.add((LoadBalancer) object);
            }
        }
        DomainIndex.Builder ingress = new DomainIndex.Builder();
        DomainIndex.Builder local = new DomainIndex.Builder();
        for (LoadBalancer lb : loadBalancers) {
            if (lb.isAdvertisedAt(localSite)) {
                ingress.add(lb);
            }
            OriginPool pool = pools.get(lb.defaultPoolKey());
            if (pool != null && pool.site().equals(localSite)) {
                local.add(lb);
            }
        }
        return new RoutingTable(localSite, revision, ingress.build(), local.build(), Map.copyOf(pools),
                Map.copyOf(sites));
    }

    /** @return the store revision this table was compiled from */
    public long revision() {
        return revision;
    }

    /** @return the site this table routes for */
    public String localSite() {
        return localSite;
    }

    /** Finds the load balancer advertised at this site that serves a Host, or {@code null}. */
    public @Nullable LoadBalancer findLoadBalancer(String hostHeader) {
        return ingress.find(hostHeader);
    }

    /** Finds the load balancer whose pool is at this site and that serves a Host, or {@code null}. */
    public @Nullable LoadBalancer findLocalLoadBalancer(String hostHeader) {
        return local.find(hostHeader);
    }

    /** @return the pool with that key, or {@code null} */
    public @Nullable OriginPool pool(ObjectKey key) {
        return pools.get(key);
    }

    /** @return the site with that name, or {@code null} */
    public @Nullable Site site(String name) {
        return sites.get(name);
    }
}
