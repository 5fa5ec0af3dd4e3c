package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.WeightedPool;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The checks that span several objects, shared by every store and front door: the in-memory store
 * runs them under its lock on every write, and a store or admin API that keeps objects elsewhere
 * calls them with the objects it holds before it commits a write. Each object is already valid on
 * its own (its builder checked it); this class checks how objects refer to each other. Pure and
 * stateless; thread-safe.
 *
 * <p>Errors (the write is rejected, nothing changes):
 * <ul>
 *   <li>a load balancer whose default pool or route pool is not an origin pool of its namespace
 *       ({@code loadBalancers[shop].routes[1].pools[0].pool: "gone" (expected: an origin pool in
 *       namespace default)});
 *   <li>a load balancer that claims a domain another load balancer of its namespace already claims
 *       (the same text, wildcards included);
 *   <li>deleting an origin pool that a load balancer uses.
 * </ul>
 *
 * <p>Allowed on purpose:
 * <ul>
 *   <li>a load balancer advertised at a site, or a pool or origin at a site, that is not (yet) in the
 *       store: sites join and leave with their routers, and an object may be written before its
 *       site joins; it takes effect at a site once the site exists;
 *   <li>the same domain in two namespaces: the router resolves a bare short name to the load balancer
 *       in {@code default} first, then by namespace name (see {@code DomainMatcher});
 *   <li>service policy names that name no {@code ServicePolicy}: policies are evaluated by the policy
 *       engine, which treats a missing policy as its own error.
 * </ul>
 *
 * <p>Writing sites, then pools, then load balancers always passes; so does deleting in the reverse
 * order.
 *
 * <pre>{@code
 * List<MeshObject> current = store.snapshot().objects().stream().map(Versioned::object).toList();
 * MeshValidator.checkPut(candidate, current);      // throws ConfigValidationException
 * MeshValidator.checkDelete(poolKey, current);
 * MeshValidator.checkAll(codec.readYaml(text));    // a whole set, e.g. a file
 * }</pre>
 */
public final class MeshValidator {

    private MeshValidator() {}

    /**
     * Checks that {@code candidate} may be written (created or replaced) into a store holding
     * {@code current}.
     *
     * @param candidate the object to write
     * @param current the objects in the store now; an older version of the candidate is ignored
     * @throws ConfigValidationException naming the candidate's bad field and the object it conflicts with
     */
    public static void checkPut(MeshObject candidate, Collection<? extends MeshObject> current) {
        requireNonNull(candidate, "candidate");
        requireNonNull(current, "current");
        if (candidate instanceof LoadBalancer) {
            checkLoadBalancer((LoadBalancer) candidate, current);
        }
    }

    /**
     * Checks that the object with {@code key} may be deleted from a store holding {@code current}.
     *
     * @param key the key of the object to delete
     * @param current the objects in the store now
     * @throws ConfigValidationException naming the object and who still uses it
     */
    public static void checkDelete(ObjectKey key, Collection<? extends MeshObject> current) {
        requireNonNull(key, "key");
        requireNonNull(current, "current");
        if (key.kind() != Kind.ORIGIN_POOL) {
            return;
        }
        List<String> users = new ArrayList<>();
        for (MeshObject object : current) {
            if (object instanceof LoadBalancer && object.key().namespace().equals(key.namespace())
                    && ((LoadBalancer) object).poolNames().contains(key.name())) {
                users.add(MeshObject.pathOf(Kind.LOAD_BALANCER, object.name()));
            }
        }
        if (!users.isEmpty()) {
            throw new ConfigValidationException(MeshObject.pathOf(Kind.ORIGIN_POOL, key.name()),
                    "in use by " + String.join(", ", users) + " in namespace " + key.namespace()
                            + " (expected: no load balancer using the pool; change or delete them first)");
        }
    }

    /**
     * Checks a whole set of objects, as if each were written into a store holding the others.
     *
     * @param objects the objects, each key once
     * @throws ConfigValidationException naming the first bad object's field
     */
    public static void checkAll(Collection<? extends MeshObject> objects) {
        requireNonNull(objects, "objects");
        Map<ObjectKey, MeshObject> byKey = new HashMap<>();
        for (MeshObject object : objects) {
            if (byKey.put(object.key(), object) != null) {
                throw new ConfigValidationException(MeshObject.pathOf(object.kind(), object.name()),
                        "twice in namespace " + object.key().namespace() + " (expected: each object once)");
            }
        }
        for (MeshObject object : objects) {
            checkPut(object, objects);
        }
    }

    /**
     * Orders objects so that writing them one by one never refers to an object not written yet:
     * load balancers (the only kind that refers to others) come last, the rest keep their order.
     * Deleting in the reverse order never leaves a dangling reference either.
     *
     * @param objects the objects
     * @return a new list in write order
     */
    public static List<MeshObject> inWriteOrder(Collection<? extends MeshObject> objects) {
        List<MeshObject> ordered = new ArrayList<>(requireNonNull(objects, "objects"));
        ordered.sort(Comparator.comparingInt(o -> o.kind() == Kind.LOAD_BALANCER ? 1 : 0));
        return ordered;
    }

    private static void checkLoadBalancer(LoadBalancer lb, Collection<? extends MeshObject> current) {
        String path = MeshObject.pathOf(Kind.LOAD_BALANCER, lb.name());
        String namespace = lb.namespace();
        checkPool(lb.defaultPool(), path + ".defaultPool", namespace, current);
        List<Route> routes = lb.routes();
        for (int i = 0; i < routes.size(); i++) {
            if (routes.get(i).action() instanceof RouteAction.Forward) {
                List<WeightedPool> pools = ((RouteAction.Forward) routes.get(i).action()).pools();
                for (int j = 0; j < pools.size(); j++) {
                    checkPool(pools.get(j).pool(), path + ".routes[" + i + "].pools[" + j + "].pool", namespace, current);
                }
            }
        }
        for (MeshObject object : current) {
            if (!(object instanceof LoadBalancer) || object.key().equals(lb.key())
                    || !object.key().namespace().equals(namespace)) {
                continue;
            }
            List<String> claimed = ((LoadBalancer) object).domains();
            for (int i = 0; i < lb.domains().size(); i++) {
                String domain = lb.domains().get(i);
                if (claimed.contains(domain)) {
                    throw new ConfigValidationException(path + ".domains[" + i + ']', Validation.quote(domain)
                            + " (expected: a domain no other load balancer of namespace " + namespace
                            + " claims; claimed by " + MeshObject.pathOf(Kind.LOAD_BALANCER, object.name()) + ')');
                }
            }
        }
    }

    private static void checkPool(String pool, String path, String namespace, Collection<? extends MeshObject> current) {
        ObjectKey key = ObjectKey.of(Kind.ORIGIN_POOL, namespace, pool);
        for (MeshObject object : current) {
            if (object.key().equals(key)) {
                return;
            }
        }
        throw new ConfigValidationException(path, Validation.quote(pool)
                + " (expected: an origin pool in namespace " + namespace + ')');
    }
}
