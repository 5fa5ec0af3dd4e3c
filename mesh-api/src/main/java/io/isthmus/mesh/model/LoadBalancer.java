package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A load balancer: the domains an application is reachable at, the sites where it is advertised,
 * and the origin pool that serves it. Immutable.
 *
 * <p>At every advertised site the router answers requests whose Host is one of the domains and
 * carries them to the pool's site through a tunnel (or straight to the origin when the pool is
 * local).
 *
 * <pre>{@code
 * LoadBalancer lb = LoadBalancer.builder("osaka-app")
 *         .domain("osaka-app")
 *         .advertiseAt("tokyo")
 *         .defaultPool("osaka-pool")
 *         .build();
 * }</pre>
 */
public final class LoadBalancer implements MeshObject {

    private final ObjectKey key;
    private final List<String> domains;
    private final List<String> advertiseSites;
    private final String defaultPool;

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
        this.advertiseSites = List.copyOf(new java.util.LinkedHashSet<>(b.advertiseSites));
        this.defaultPool = Validation.dnsLabel(b.defaultPool, path + ".defaultPool");
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
     * Returns whether this load balancer is reachable at a site.
     *
     * @param site a site name
     * @return {@code true} when the site is advertised
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
        Builder b = new Builder().name(name()).namespace(namespace()).defaultPool(defaultPool);
        domains.forEach(b::domain);
        advertiseSites.forEach(b::advertiseAt);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LoadBalancer)) {
            return false;
        }
        LoadBalancer that = (LoadBalancer) o;
        return key.equals(that.key) && domains.equals(that.domains) && advertiseSites.equals(that.advertiseSites)
                && defaultPool.equals(that.defaultPool);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + domains.hashCode();
    }

    @Override
    public String toString() {
        return "LoadBalancer{" + key.namespace() + '/' + name() + ", domains=" + domains + ", advertiseSites="
                + advertiseSites + ", defaultPool=" + defaultPool + '}';
    }

    /** Builds a {@link LoadBalancer}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private @Nullable String namespace = DEFAULT_NAMESPACE;
        private final List<String> domains = new ArrayList<>();
        private final List<String> advertiseSites = new ArrayList<>();
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
