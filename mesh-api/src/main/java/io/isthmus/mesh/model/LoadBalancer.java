package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A load balancer: the domains an application is reachable at, the sites where it is advertised,
 * the routes that pick an action per request, and the origin pool that serves what no route matches.
 * Immutable.
 *
 * <p>At every advertised site the router answers requests whose Host is one of the domains and
 * carries them to the pool's site through a tunnel (or straight to the origin when the pool is
 * local). A domain may be a wildcard ({@code *.shop.example}: one or more leading labels) or a
 * Kubernetes short name ({@code osaka-app}, which also answers {@code osaka-app.<namespace>} and
 * {@code osaka-app.<namespace>.svc.cluster.local}). A load balancer is advertised at the sites it
 * names and at every site whose labels include all of its {@linkplain #advertiseSelector() selector}.
 *
 * <pre>{@code
 * LoadBalancer lb = LoadBalancer.builder("osaka-app")
 *         .domain("osaka-app")
 *         .domain("*.shop.example")
 *         .advertiseAt("tokyo")
 *         .advertiseSelector(Map.of("region", "kanto"))
 *         .route(Route.builder()
 *                 .match(RouteMatch.builder().path(StringMatch.prefix("/api/")).build())
 *                 .forward(WeightedPool.of("osaka-pool", 90), WeightedPool.of("kyoto-pool", 10))
 *                 .timeout(Duration.ofSeconds(5))
 *                 .build())
 *         .defaultPool("osaka-pool")
 *         .servicePolicy("only-tokyo-clients")
 *         .build();
 *
 * LoadBalancer db = LoadBalancer.builder("orders-db").type(LoadBalancer.Type.TCP).port(5432)
 *         .domain("orders-db").advertiseAt("tokyo").defaultPool("db-pool").build();
 * }</pre>
 */
public final class LoadBalancer implements MeshObject {

    /** The protocol a load balancer serves. */
    public enum Type {
        /** HTTP/1.1 and HTTP/2, routed per request by Host, path, method, headers and query. */
        HTTP,
        /** TCP connections, all forwarded to the default pool. */
        TCP
    }

    /** The listener port of an HTTP load balancer that does not name one. */
    public static final int DEFAULT_HTTP_PORT = 80;

    private final ObjectKey key;
    private final Type type;
    private final int port;
    private final List<String> domains;
    private final List<String> advertiseSites;
    private final Map<String, String> advertiseSelector;
    private final List<Route> routes;
    private final String defaultPool;
    private final List<String> servicePolicies;

    private LoadBalancer(Builder b) {
        String path = MeshObject.pathOf(Kind.LOAD_BALANCER, b.name);
        String name = Validation.dnsLabel(b.name, path + ".name");
        String namespace = Validation.dnsLabel(b.namespace, path + ".namespace");
        this.key = ObjectKey.of(Kind.LOAD_BALANCER, namespace, name);
        if (b.domains.isEmpty()) {
            throw new ConfigValidationException(path + ".domains", "[] (expected: at least one domain)");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < b.domains.size(); i++) {
            String domain = Validation.domain(b.domains.get(i), path + ".domains[" + i + ']');
            if (!seen.add(domain)) {
                throw new ConfigValidationException(path + ".domains[" + i + ']', Validation.quote(domain) + " (expected: each domain once)");
            }
        }
        this.domains = List.copyOf(b.domains);
        for (int i = 0; i < b.advertiseSites.size(); i++) {
            Validation.dnsLabel(b.advertiseSites.get(i), path + ".advertiseSites[" + i + ']');
        }
        this.advertiseSites = List.copyOf(new LinkedHashSet<>(b.advertiseSites));
        for (Map.Entry<String, String> label : b.advertiseSelector.entrySet()) {
            if (label.getKey().isEmpty() || label.getKey().length() > 63) {
                throw new ConfigValidationException(path + ".advertiseSelector", Validation.quote(label.getKey())
                        + " (expected: a key of 1-63 characters)");
            }
        }
        this.advertiseSelector = Collections.unmodifiableMap(new TreeMap<>(b.advertiseSelector));
        this.type = b.type;
        if (b.port == null) {
            if (type == Type.TCP) {
                throw new ConfigValidationException(path + ".port", "is required (expected: 1-65535 for a TCP load balancer)");
            }
            this.port = DEFAULT_HTTP_PORT;
        } else {
            this.port = Validation.port(b.port, path + ".port");
        }
        if (type == Type.TCP && !b.routes.isEmpty()) {
            throw new ConfigValidationException(path + ".routes", b.routes.size()
                    + " routes (expected: none for a TCP load balancer; it forwards to its default pool)");
        }
        Set<String> routeNames = new HashSet<>();
        for (int i = 0; i < b.routes.size(); i++) {
            String routeName = b.routes.get(i).name();
            if (routeName != null && !routeNames.add(routeName)) {
                throw new ConfigValidationException(path + ".routes[" + i + "].name", Validation.quote(routeName)
                        + " (expected: each route name once)");
            }
        }
        this.routes = List.copyOf(b.routes);
        this.defaultPool = Validation.dnsLabel(b.defaultPool, path + ".defaultPool");
        for (int i = 0; i < b.servicePolicies.size(); i++) {
            String policy = Validation.dnsLabel(b.servicePolicies.get(i), path + ".servicePolicies[" + i + ']');
            if (b.servicePolicies.indexOf(policy) != i) {
                throw new ConfigValidationException(path + ".servicePolicies[" + i + ']', Validation.quote(policy)
                        + " (expected: each policy once)");
            }
        }
        this.servicePolicies = List.copyOf(b.servicePolicies);
    }

    /**
     * Returns a builder for a load balancer in the {@value MeshObject#DEFAULT_NAMESPACE} namespace.
     *
     * @param name the load balancer's name, a lowercase DNS label
     * @return a new builder
     */
    public static Builder builder(String name) {
        return new Builder().name(name);
    }

    @Override
    public ObjectKey key() {
        return key;
    }

    /** @return the namespace */
    public String namespace() {
        return key.namespace();
    }

    /**
     * Returns the protocol.
     *
     * @return {@link Type#HTTP} unless set
     */
    public Type type() {
        return type;
    }

    /**
     * Returns the listener port at advertised sites.
     *
     * @return the port; {@value #DEFAULT_HTTP_PORT} for an HTTP load balancer that does not set one
     */
    public int port() {
        return port;
    }

    /**
     * Returns the routes, tried in order; the first that matches a request handles it.
     *
     * @return the routes, empty for a TCP load balancer
     */
    public List<Route> routes() {
        return routes;
    }

    /**
     * Returns the names of the {@code ServicePolicy} objects, in this load balancer's namespace, that
     * it applies, in order.
     *
     * @return the policy names
     */
    public List<String> servicePolicies() {
        return servicePolicies;
    }

    /**
     * Returns the site labels that advertise this load balancer: a site whose labels include all of
     * them is advertised, besides the sites named in {@link #advertiseSites()}.
     *
     * @return the selector, sorted by key; empty to select no site by label
     */
    public Map<String, String> advertiseSelector() {
        return advertiseSelector;
    }

    /**
     * Returns whether this load balancer is reachable at a site, by name or by the site's labels.
     *
     * @param site a site
     * @return {@code true} when the site is named or its labels match the selector
     */
    public boolean isAdvertisedAt(Site site) {
        if (advertiseSites.contains(site.name())) {
            return true;
        }
        return !advertiseSelector.isEmpty() && site.labels().entrySet().containsAll(advertiseSelector.entrySet());
    }

    /**
     * Returns the names of every pool this load balancer uses: the default pool and those of its
     * routes, each once.
     *
     * @return the pool names, the default pool first
     */
    public Set<String> poolNames() {
        Set<String> names = new LinkedHashSet<>();
        names.add(defaultPool);
        routes.forEach(r -> names.addAll(r.poolNames()));
        return Collections.unmodifiableSet(names);
    }

    /**
     * Returns the domains this load balancer serves, in declaration order. A domain may start with
     * {@code *.} to match any one or more leading labels.
     *
     * @return the domains, never empty
     */
    public List<String> domains() {
        return domains;
    }

    /**
     * Returns the sites where this load balancer is reachable.
     *
     * @return the advertised site names
     */
    public List<String> advertiseSites() {
        return advertiseSites;
    }

    /**
     * Returns whether this load balancer names a site in {@link #advertiseSites()}. A site selected
     * by its labels is only known with its labels: see {@link #isAdvertisedAt(Site)}.
     *
     * @param site a site name
     * @return {@code true} when the site is advertised by name
     */
    public boolean isAdvertisedAt(String site) {
        return advertiseSites.contains(site);
    }

    /**
     * Returns the name of the origin pool (in the same namespace) that serves requests.
     *
     * @return the default pool's name
     */
    public String defaultPool() {
        return defaultPool;
    }

    /**
     * Returns the key of the default pool.
     *
     * @return the pool's key
     */
    public ObjectKey defaultPoolKey() {
        return ObjectKey.of(Kind.ORIGIN_POOL, namespace(), defaultPool);
    }

    /**
     * Returns a builder initialised with this load balancer's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).namespace(namespace()).type(type).defaultPool(defaultPool);
        if (type == Type.TCP || port != DEFAULT_HTTP_PORT) {
            b.port(port);
        }
        domains.forEach(b::domain);
        advertiseSites.forEach(b::advertiseAt);
        b.advertiseSelector(advertiseSelector);
        routes.forEach(b::route);
        servicePolicies.forEach(b::servicePolicy);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LoadBalancer)) {
            return false;
        }
        LoadBalancer that = (LoadBalancer) o;
        return key.equals(that.key) && type == that.type && port == that.port && domains.equals(that.domains)
                && advertiseSites.equals(that.advertiseSites) && advertiseSelector.equals(that.advertiseSelector)
                && routes.equals(that.routes) && defaultPool.equals(that.defaultPool)
                && servicePolicies.equals(that.servicePolicies);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + domains.hashCode();
    }

    @Override
    public String toString() {
        return "LoadBalancer{" + key.qualifiedName() + (type == Type.HTTP ? "" : ", type=" + type)
                + (port == DEFAULT_HTTP_PORT ? "" : ", port=" + port) + ", domains=" + domains + ", advertiseSites="
                + advertiseSites + (advertiseSelector.isEmpty() ? "" : ", advertiseSelector=" + advertiseSelector)
                + (routes.isEmpty() ? "" : ", routes=" + routes) + ", defaultPool=" + defaultPool
                + (servicePolicies.isEmpty() ? "" : ", servicePolicies=" + servicePolicies) + '}';
    }

    /** Builds a {@link LoadBalancer}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private @Nullable String namespace = DEFAULT_NAMESPACE;
        private final List<String> domains = new ArrayList<>();
        private final List<String> advertiseSites = new ArrayList<>();
        private final Map<String, String> advertiseSelector = new LinkedHashMap<>();
        private final List<Route> routes = new ArrayList<>();
        private final List<String> servicePolicies = new ArrayList<>();
        private Type type = Type.HTTP;
        private @Nullable Integer port;
        private @Nullable String defaultPool;

        private Builder() {}

        /**
         * Sets the name.
         *
         * @param name a lowercase DNS label
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Sets the namespace (default {@value MeshObject#DEFAULT_NAMESPACE}).
         *
         * @param namespace a lowercase DNS label
         * @return this builder
         */
        public Builder namespace(String namespace) {
            this.namespace = requireNonNull(namespace, "namespace");
            return this;
        }

        /**
         * Adds a domain.
         *
         * @param domain a lowercase DNS name, optionally starting with {@code *.}
         * @return this builder
         */
        public Builder domain(String domain) {
            domains.add(requireNonNull(domain, "domain"));
            return this;
        }

        /**
         * Adds domains.
         *
         * @param domains lowercase DNS names, optionally starting with {@code *.}
         * @return this builder
         */
        public Builder domains(List<String> domains) {
            domains.forEach(this::domain);
            return this;
        }

        /**
         * Advertises the load balancer at a site.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder advertiseAt(String site) {
            advertiseSites.add(requireNonNull(site, "site"));
            return this;
        }

        /**
         * Advertises the load balancer at sites.
         *
         * @param sites site names
         * @return this builder
         */
        public Builder advertiseAt(List<String> sites) {
            sites.forEach(this::advertiseAt);
            return this;
        }

        /**
         * Sets the origin pool, in the same namespace, that serves requests.
         *
         * @param pool the pool's name
         * @return this builder
         */
        public Builder defaultPool(String pool) {
            this.defaultPool = requireNonNull(pool, "pool");
            return this;
        }

        /**
         * Sets the protocol (default {@link Type#HTTP}).
         *
         * @param type the protocol
         * @return this builder
         */
        public Builder type(Type type) {
            this.type = requireNonNull(type, "type");
            return this;
        }

        /**
         * Sets the listener port; required for TCP, {@value LoadBalancer#DEFAULT_HTTP_PORT} by default for HTTP.
         *
         * @param port 1-65535
         * @return this builder
         */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /**
         * Advertises the load balancer at every site whose labels include this one (together with any
         * other selector label).
         *
         * @param key the label key
         * @param value the label value
         * @return this builder
         */
        public Builder advertiseSelector(String key, String value) {
            advertiseSelector.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
            return this;
        }

        /**
         * Adds site labels to the advertise selector.
         *
         * @param labels label keys and values
         * @return this builder
         */
        public Builder advertiseSelector(Map<String, String> labels) {
            labels.forEach(this::advertiseSelector);
            return this;
        }

        /**
         * Appends a route; routes are tried in the order they are added.
         *
         * @param route the route
         * @return this builder
         */
        public Builder route(Route route) {
            routes.add(requireNonNull(route, "route"));
            return this;
        }

        /**
         * Appends routes.
         *
         * @param routes the routes
         * @return this builder
         */
        public Builder routes(List<Route> routes) {
            routes.forEach(this::route);
            return this;
        }

        /**
         * Applies a {@code ServicePolicy} of the load balancer's namespace.
         *
         * @param name the policy's name
         * @return this builder
         */
        public Builder servicePolicy(String name) {
            servicePolicies.add(requireNonNull(name, "name"));
            return this;
        }

        /**
         * Applies {@code ServicePolicy} objects of the load balancer's namespace, in order.
         *
         * @param names the policies' names
         * @return this builder
         */
        public Builder servicePolicies(List<String> names) {
            names.forEach(this::servicePolicy);
            return this;
        }

        /**
         * Validates the values and builds the load balancer.
         *
         * @return the load balancer
         * @throws ConfigValidationException naming the first bad field
         */
        public LoadBalancer build() {
            return new LoadBalancer(this);
        }
    }
}
