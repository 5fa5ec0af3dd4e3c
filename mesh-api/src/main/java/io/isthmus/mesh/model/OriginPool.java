package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An origin pool: the endpoints that serve an application at one site. Immutable.
 *
 * <p>Routers of other sites never connect to these endpoints; they send requests through a tunnel to
 * the pool's site, whose router forwards them.
 *
 * <pre>{@code
 * OriginPool pool = OriginPool.builder("osaka-pool")
 *         .site("osaka")
 *         .endpoint(Endpoint.of("10.0.0.7", 8080))
 *         .build();
 * }</pre>
 */
public final class OriginPool implements MeshObject {

    private final ObjectKey key;
    private final String site;
    private final List<Endpoint> endpoints;

    private OriginPool(Builder b) {
        String path = MeshObject.pathOf(Kind.ORIGIN_POOL, b.name);
        String name = Validation.dnsLabel(b.name, path + ".name");
        String namespace = Validation.dnsLabel(b.namespace, path + ".namespace");
        this.key = ObjectKey.of(Kind.ORIGIN_POOL, namespace, name);
        this.site = Validation.dnsLabel(b.site, path + ".site");
        if (b.endpoints.isEmpty()) {
            throw new ConfigValidationException(path + ".endpoints", "[] (expected: at least one endpoint)");
        }
        this.endpoints = List.copyOf(b.endpoints);
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
     * Returns the site where the pool's endpoints live.
     *
     * @return the site name
     */
    public String site() {
        return site;
    }

    /**
     * Returns the static endpoints of the pool.
     *
     * @return the endpoints, never empty
     */
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /**
     * Returns a builder initialised with this pool's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).namespace(namespace()).site(site);
        endpoints.forEach(b::endpoint);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OriginPool && ((OriginPool) o).key.equals(key) && ((OriginPool) o).site.equals(site)
                && ((OriginPool) o).endpoints.equals(endpoints);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + endpoints.hashCode();
    }

    @Override
    public String toString() {
        return "OriginPool{" + key.namespace() + '/' + name() + ", site=" + site + ", endpoints=" + endpoints + '}';
    }

    /** Builds an {@link OriginPool}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private @Nullable String namespace = DEFAULT_NAMESPACE;
        private @Nullable String site;
        private final List<Endpoint> endpoints = new ArrayList<>();

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
         * Sets the site where the endpoints live.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder site(String site) {
            this.site = requireNonNull(site, "site");
            return this;
        }

        /**
         * Adds an endpoint.
         *
         * @param endpoint a host and port at the pool's site
         * @return this builder
         */
        public Builder endpoint(Endpoint endpoint) {
            endpoints.add(requireNonNull(endpoint, "endpoint"));
            return this;
        }

        /**
         * Adds endpoints.
         *
         * @param endpoints hosts and ports at the pool's site
         * @return this builder
         */
        public Builder endpoints(List<Endpoint> endpoints) {
            endpoints.forEach(this::endpoint);
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
