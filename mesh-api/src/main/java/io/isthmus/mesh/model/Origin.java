package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import org.jspecify.annotations.Nullable;

/**
 * One origin of an {@link OriginPool}: a static endpoint (an IP address or DNS name and a port) or a
 * Kubernetes service ({@code name.namespace:port}) at a site, with a weight and a priority. Immutable.
 *
 * <p>Within a pool, origins of the lowest priority number take all traffic, shared in proportion to
 * their weights (active-active); origins of the next priority take over when none of those is
 * healthy (failover). An origin's {@linkplain #site() site} overrides the pool's, so that one pool can
 * fail over from one site to another.
 *
 * <pre>{@code
 * Origin local = Origin.of(Endpoint.of("10.0.0.7", 8080));
 * Origin kyoto = Origin.builder().kubernetesService("orders", "shop", 8080)
 *         .site("kyoto").priority(1).weight(2).build();
 * }</pre>
 */
public final class Origin {

    /** The kinds of origin. */
    public enum Type {
        /** An IP address or DNS name and a port. */
        STATIC,
        /** A Kubernetes service in a namespace, with a port, at a site. */
        KUBERNETES_SERVICE
    }

    /** The weight of an origin whose weight is not given. */
    public static final int DEFAULT_WEIGHT = 1;

    private final Type type;
    private final Endpoint endpoint;
    private final @Nullable String serviceName;
    private final @Nullable String serviceNamespace;
    private final @Nullable String site;
    private final int weight;
    private final int priority;

    private Origin(Builder b) {
        if (b.type == null) {
            throw new ConfigValidationException("", "no address (expected: an endpoint or a Kubernetes service)");
        }
        this.type = b.type;
        if (type == Type.KUBERNETES_SERVICE) {
            this.serviceName = Validation.dnsLabel(b.serviceName, "service.name");
            this.serviceNamespace = Validation.dnsLabel(b.serviceNamespace, "service.namespace");
            Validation.port(b.servicePort, "service.port");
            this.endpoint = Endpoint.of(serviceName + '.' + serviceNamespace + ".svc.cluster.local", b.servicePort);
        } else {
            this.serviceName = null;
            this.serviceNamespace = null;
            this.endpoint = requireNonNull(b.endpoint);
        }
        this.site = b.site == null ? null : Validation.dnsLabel(b.site, "site");
        this.weight = Validation.range(b.weight, 1, 10_000, "weight");
        this.priority = Validation.range(b.priority, 0, 100, "priority");
    }

    /**
     * Returns a static origin at the pool's site, weight 1, priority 0.
     *
     * @param endpoint the host and port
     * @return the origin
     */
    public static Origin of(Endpoint endpoint) {
        return builder().endpoint(endpoint).build();
    }

    /**
     * Returns a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the type */
    public Type type() {
        return type;
    }

    /**
     * Returns the address to connect to: the static endpoint, or the cluster DNS name of the service
     * ({@code name.namespace.svc.cluster.local:port}).
     *
     * @return the endpoint
     */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** @return the Kubernetes service's name, or {@code null} for a static origin */
    public @Nullable String serviceName() {
        return serviceName;
    }

    /** @return the Kubernetes service's namespace, or {@code null} for a static origin */
    public @Nullable String serviceNamespace() {
        return serviceNamespace;
    }

    /** @return the site of this origin, or {@code null} for the pool's site */
    public @Nullable String site() {
        return site;
    }

    /**
     * Returns the site of this origin in a pool.
     *
     * @param pool the pool that holds this origin
     * @return this origin's site, or else the pool's
     */
    public String siteIn(OriginPool pool) {
        return siteIn(pool.site());
    }

    /**
     * Returns this origin's site, or else a pool's site.
     *
     * @param poolSite the site of the pool that holds this origin
     * @return the site
     */
    public String siteIn(String poolSite) {
        return site == null ? poolSite : site;
    }

    /** @return the relative share of traffic within its priority, 1-10000 */
    public int weight() {
        return weight;
    }

    /** @return the priority, 0 (preferred) to 100 */
    public int priority() {
        return priority;
    }

    /** @return whether this is a static origin at the pool's site with default weight and priority */
    public boolean isPlain() {
        return type == Type.STATIC && site == null && weight == DEFAULT_WEIGHT && priority == 0;
    }

    /**
     * Returns the address as written in documents: {@code host:port} or {@code name.namespace:port}.
     *
     * @return the address
     */
    public String address() {
        return type == Type.STATIC ? endpoint.toString() : serviceName + "." + serviceNamespace + ':' + endpoint.port();
    }

    /**
     * Returns a builder initialised with this origin's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().weight(weight).priority(priority);
        if (type == Type.STATIC) {
            b.endpoint(endpoint);
        } else {
            b.kubernetesService(requireNonNull(serviceName), requireNonNull(serviceNamespace), endpoint.port());
        }
        if (site != null) {
            b.site(site);
        }
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Origin)) {
            return false;
        }
        Origin that = (Origin) o;
        return type == that.type && endpoint.equals(that.endpoint) && java.util.Objects.equals(site, that.site)
                && weight == that.weight && priority == that.priority;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(type, endpoint, site, weight, priority);
    }

    @Override
    public String toString() {
        return (type == Type.STATIC ? "" : "service ") + address() + (site == null ? "" : "@" + site)
                + (weight == DEFAULT_WEIGHT ? "" : " weight=" + weight) + (priority == 0 ? "" : " priority=" + priority);
    }

    /** Builds an {@link Origin}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable Type type;
        private @Nullable Endpoint endpoint;
        private @Nullable String serviceName;
        private @Nullable String serviceNamespace;
        private int servicePort;
        private @Nullable String site;
        private int weight = DEFAULT_WEIGHT;
        private int priority;

        private Builder() {}

        /**
         * Makes this a static origin.
         *
         * @param endpoint an IP address or DNS name and a port
         * @return this builder
         */
        public Builder endpoint(Endpoint endpoint) {
            this.type = Type.STATIC;
            this.endpoint = requireNonNull(endpoint, "endpoint");
            return this;
        }

        /**
         * Makes this a Kubernetes service origin.
         *
         * @param name the service's name
         * @param namespace the service's namespace
         * @param port the service port
         * @return this builder
         */
        public Builder kubernetesService(String name, String namespace, int port) {
            this.type = Type.KUBERNETES_SERVICE;
            this.serviceName = requireNonNull(name, "name");
            this.serviceNamespace = requireNonNull(namespace, "namespace");
            this.servicePort = port;
            return this;
        }

        /**
         * Places the origin at a site other than the pool's.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder site(String site) {
            this.site = requireNonNull(site, "site");
            return this;
        }

        /**
         * Sets the relative share of traffic within its priority (default 1).
         *
         * @param weight 1-10000
         * @return this builder
         */
        public Builder weight(int weight) {
            this.weight = weight;
            return this;
        }

        /**
         * Sets the priority (default 0, the preferred one).
         *
         * @param priority 0-100
         * @return this builder
         */
        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        /**
         * Validates the values and builds the origin.
         *
         * @return the origin
         * @throws ConfigValidationException naming the bad field relative to the origin
         */
        public Origin build() {
            return new Origin(this);
        }
    }
}
