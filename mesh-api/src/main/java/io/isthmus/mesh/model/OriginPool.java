package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An origin pool: the origins that serve an application, how requests are spread over them, and how
 * their health is judged. Immutable.
 *
 * <p>Routers of other sites never connect to the origins; they send requests through a tunnel to the
 * origin's site, whose router forwards them. Each origin sits at the pool's {@link #site()} unless it
 * names its own, so one pool can prefer one site and fail over to another:
 *
 * <pre>{@code
 * OriginPool pool = OriginPool.builder("orders")
 *         .site("osaka")
 *         .origin(Origin.builder().kubernetesService("orders", "shop", 8080).build())          // osaka, priority 0
 *         .origin(Origin.builder().kubernetesService("orders", "shop", 8080).site("kyoto").priority(1).build())
 *         .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.cookie("session"))
 *         .healthCheck(HealthCheck.builder().path("/healthz").build())
 *         .outlierDetection(OutlierDetection.builder().consecutive5xx(5).build())
 *         .tls(OriginTls.system())
 *         .build();
 * }</pre>
 *
 * <p>The shorthand {@code endpoint(Endpoint)} adds a static origin at the pool's site with weight 1,
 * priority 0.
 */
public final class OriginPool implements MeshObject {

    private final ObjectKey key;
    private final String site;
    private final List<Origin> origins;
    private final List<Endpoint> endpoints;
    private final LoadBalancingAlgorithm algorithm;
    private final @Nullable HashKey hashKey;
    private final @Nullable HealthCheck healthCheck;
    private final @Nullable OutlierDetection outlierDetection;
    private final @Nullable OriginTls tls;

    private OriginPool(Builder b) {
        String path = MeshObject.pathOf(Kind.ORIGIN_POOL, b.name);
        String name = Validation.dnsLabel(b.name, path + ".name");
        String namespace = Validation.dnsLabel(b.namespace, path + ".namespace");
        this.key = ObjectKey.of(Kind.ORIGIN_POOL, namespace, name);
        this.site = Validation.dnsLabel(b.site, path + ".site");
        if (b.origins.isEmpty()) {
            throw new ConfigValidationException(path + ".origins", "[] (expected: at least one origin)");
        }
        for (int i = 0; i < b.origins.size(); i++) {
            Origin origin = b.origins.get(i);
            for (int j = 0; j < i; j++) {
                Origin other = b.origins.get(j);
                if (other.endpoint().equals(origin.endpoint()) && other.siteIn(site).equals(origin.siteIn(site))) {
                    throw new ConfigValidationException(path + ".origins[" + i + ']', Validation.quote(origin.address())
                            + " at site " + origin.siteIn(site) + " (expected: each origin once per site)");
                }
            }
        }
        this.origins = List.copyOf(b.origins);
        this.endpoints = origins.stream().map(Origin::endpoint).toList();
        this.algorithm = b.algorithm;
        if (algorithm == LoadBalancingAlgorithm.CONSISTENT_HASH && b.hashKey == null) {
            throw new ConfigValidationException(path + ".hashKey", "is required (expected: a header, cookie or"
                    + " source IP for CONSISTENT_HASH)");
        }
        if (algorithm != LoadBalancingAlgorithm.CONSISTENT_HASH && b.hashKey != null) {
            throw new ConfigValidationException(path + ".hashKey", b.hashKey + " (expected: none for " + algorithm + ')');
        }
        this.hashKey = b.hashKey;
        this.healthCheck = b.healthCheck;
        this.outlierDetection = b.outlierDetection;
        this.tls = b.tls;
    }

    /**
     * Returns a builder for a pool in the {@value MeshObject#DEFAULT_NAMESPACE} namespace.
     *
     * @param name the pool's name, a lowercase DNS label
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
     * Returns the site where the pool's origins live unless they name their own.
     *
     * @return the site name
     */
    public String site() {
        return site;
    }

    /**
     * Returns the addresses of all origins, in declaration order: static endpoints as given,
     * Kubernetes services as their cluster DNS names.
     *
     * @return the endpoints, never empty
     */
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /**
     * Returns the origins, in declaration order.
     *
     * @return the origins, never empty
     */
    public List<Origin> origins() {
        return origins;
    }

    /**
     * Returns the origins grouped by priority, the preferred (lowest number) group first; within a
     * group, origins keep their declaration order.
     *
     * @return the groups, never empty, none empty
     */
    public List<List<Origin>> originsByPriority() {
        TreeMap<Integer, List<Origin>> groups = new TreeMap<>();
        for (Origin origin : origins) {
            groups.computeIfAbsent(origin.priority(), p -> new ArrayList<>()).add(origin);
        }
        return groups.values().stream().map(List::copyOf).toList();
    }

    /**
     * Returns the sites where this pool has origins, in order of first appearance.
     *
     * @return the site names
     */
    public List<String> sites() {
        return origins.stream().map(o -> o.siteIn(site)).distinct().toList();
    }

    /** @return the load-balancing algorithm (default {@link LoadBalancingAlgorithm#ROUND_ROBIN}) */
    public LoadBalancingAlgorithm algorithm() {
        return algorithm;
    }

    /** @return what is hashed for {@link LoadBalancingAlgorithm#CONSISTENT_HASH}, otherwise {@code null} */
    public @Nullable HashKey hashKey() {
        return hashKey;
    }

    /** @return the active health check, or {@code null} for none */
    public @Nullable HealthCheck healthCheck() {
        return healthCheck;
    }

    /** @return the outlier detection settings, or {@code null} for none */
    public @Nullable OutlierDetection outlierDetection() {
        return outlierDetection;
    }

    /** @return TLS to the origins, or {@code null} for plain text */
    public @Nullable OriginTls tls() {
        return tls;
    }

    /**
     * Returns a builder initialised with this pool's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).namespace(namespace()).site(site).origins(origins).algorithm(algorithm);
        b.hashKey = hashKey;
        b.healthCheck = healthCheck;
        b.outlierDetection = outlierDetection;
        b.tls = tls;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OriginPool)) {
            return false;
        }
        OriginPool that = (OriginPool) o;
        return key.equals(that.key) && site.equals(that.site) && origins.equals(that.origins)
                && algorithm == that.algorithm && Objects.equals(hashKey, that.hashKey)
                && Objects.equals(healthCheck, that.healthCheck) && Objects.equals(outlierDetection, that.outlierDetection)
                && Objects.equals(tls, that.tls);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + origins.hashCode();
    }

    @Override
    public String toString() {
        return "OriginPool{" + key.qualifiedName() + ", site=" + site + ", origins=" + origins
                + (algorithm == LoadBalancingAlgorithm.ROUND_ROBIN ? "" : ", algorithm=" + algorithm)
                + (hashKey == null ? "" : ", hashKey=" + hashKey) + (healthCheck == null ? "" : ", " + healthCheck)
                + (outlierDetection == null ? "" : ", " + outlierDetection) + (tls == null ? "" : ", " + tls) + '}';
    }

    /** Builds an {@link OriginPool}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private @Nullable String namespace = DEFAULT_NAMESPACE;
        private @Nullable String site;
        private final List<Origin> origins = new ArrayList<>();
        private LoadBalancingAlgorithm algorithm = LoadBalancingAlgorithm.ROUND_ROBIN;
        private @Nullable HashKey hashKey;
        private @Nullable HealthCheck healthCheck;
        private @Nullable OutlierDetection outlierDetection;
        private @Nullable OriginTls tls;

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
         * Sets the site where the origins live unless they name their own.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder site(String site) {
            this.site = requireNonNull(site, "site");
            return this;
        }

        /**
         * Adds a static origin at the pool's site, weight 1, priority 0.
         *
         * @param endpoint a host and port at the pool's site
         * @return this builder
         */
        public Builder endpoint(Endpoint endpoint) {
            return origin(Origin.of(requireNonNull(endpoint, "endpoint")));
        }

        /**
         * Adds static origins at the pool's site, weight 1, priority 0.
         *
         * @param endpoints hosts and ports at the pool's site
         * @return this builder
         */
        public Builder endpoints(List<Endpoint> endpoints) {
            endpoints.forEach(this::endpoint);
            return this;
        }

        /**
         * Adds an origin.
         *
         * @param origin the origin
         * @return this builder
         */
        public Builder origin(Origin origin) {
            origins.add(requireNonNull(origin, "origin"));
            return this;
        }

        /**
         * Adds origins.
         *
         * @param origins the origins
         * @return this builder
         */
        public Builder origins(List<Origin> origins) {
            origins.forEach(this::origin);
            return this;
        }

        /**
         * Sets the load-balancing algorithm (default {@link LoadBalancingAlgorithm#ROUND_ROBIN}).
         *
         * @param algorithm the algorithm
         * @return this builder
         */
        public Builder algorithm(LoadBalancingAlgorithm algorithm) {
            this.algorithm = requireNonNull(algorithm, "algorithm");
            return this;
        }

        /**
         * Sets what {@link LoadBalancingAlgorithm#CONSISTENT_HASH} hashes; required for it, refused
         * otherwise.
         *
         * @param hashKey the key
         * @return this builder
         */
        public Builder hashKey(HashKey hashKey) {
            this.hashKey = requireNonNull(hashKey, "hashKey");
            return this;
        }

        /**
         * Sets the active health check.
         *
         * @param healthCheck the health check
         * @return this builder
         */
        public Builder healthCheck(HealthCheck healthCheck) {
            this.healthCheck = requireNonNull(healthCheck, "healthCheck");
            return this;
        }

        /**
         * Sets the outlier detection.
         *
         * @param outlierDetection the settings
         * @return this builder
         */
        public Builder outlierDetection(OutlierDetection outlierDetection) {
            this.outlierDetection = requireNonNull(outlierDetection, "outlierDetection");
            return this;
        }

        /**
         * Connects to the origins with TLS.
         *
         * @param tls the TLS settings
         * @return this builder
         */
        public Builder tls(OriginTls tls) {
            this.tls = requireNonNull(tls, "tls");
            return this;
        }

        /**
         * Validates the values and builds the pool.
         *
         * @return the pool
         * @throws ConfigValidationException naming the first bad field
         */
        public OriginPool build() {
            return new OriginPool(this);
        }
    }
}
