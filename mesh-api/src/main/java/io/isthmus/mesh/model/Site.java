package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A site that joins the mesh: a Kubernetes cluster or any host running an Isthmus router. Other
 * sites reach it through its tunnel endpoints. Immutable.
 *
 * <pre>{@code
 * Site osaka = Site.builder("osaka")
 *         .tunnelEndpoint(Endpoint.of("203.0.113.10", 4443))
 *         .label("region", "kansai")
 *         .build();
 * }</pre>
 */
public final class Site implements MeshObject {

    private final ObjectKey key;
    private final List<Endpoint> tunnelEndpoints;
    private final Map<String, String> labels;

    private Site(Builder b) {
        String path = MeshObject.pathOf(Kind.SITE, b.name);
        this.key = ObjectKey.of(Kind.SITE, Validation.dnsLabel(b.name, path + ".name"));
        this.tunnelEndpoints = List.copyOf(b.tunnelEndpoints);
        Map<String, String> labels = new LinkedHashMap<>();
        b.labels.forEach((k, v) -> {
            if (k.isEmpty() || k.length() > 63) {
                throw new ConfigValidationException(path + ".labels", Validation.quote(k) + " (expected: a key of 1-63 characters)");
            }
            labels.put(k, v);
        });
        this.labels = Collections.unmodifiableMap(labels);
    }

    /**
     * Returns a site with no tunnel endpoints yet (it can call other sites but not be called).
     *
     * @param name the site name, a lowercase DNS label
     * @return the site
     */
    public static Site of(String name) {
        return builder(name).build();
    }

    /**
     * Returns a builder for a site.
     *
     * @param name the site name, a lowercase DNS label
     * @return a new builder
     */
    public static Builder builder(String name) {
        return new Builder().name(name);
    }

    @Override
    public ObjectKey key() {
        return key;
    }

    /**
     * Returns where other sites' routers reach this site's tunnel listeners.
     *
     * @return the tunnel endpoints, possibly empty
     */
    public List<Endpoint> tunnelEndpoints() {
        return tunnelEndpoints;
    }

    /**
     * Returns the site's labels, used by load balancers that select sites by label.
     *
     * @return the labels
     */
    public Map<String, String> labels() {
        return labels;
    }

    /**
     * Returns a copy of this site with other tunnel endpoints.
     *
     * @param endpoints the new tunnel endpoints
     * @return the copy
     */
    public Site withTunnelEndpoints(List<Endpoint> endpoints) {
        return toBuilder().tunnelEndpoints(endpoints).build();
    }

    /**
     * Returns a builder initialised with this site's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).tunnelEndpoints(tunnelEndpoints);
        labels.forEach(b::label);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Site && ((Site) o).key.equals(key) && ((Site) o).tunnelEndpoints.equals(tunnelEndpoints)
                && ((Site) o).labels.equals(labels);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + tunnelEndpoints.hashCode();
    }

    @Override
    public String toString() {
        return "Site{name=" + name() + ", tunnelEndpoints=" + tunnelEndpoints + ", labels=" + labels + '}';
    }

    /** Builds a {@link Site}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private final List<Endpoint> tunnelEndpoints = new ArrayList<>();
        private final Map<String, String> labels = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets the site name.
         *
         * @param name a lowercase DNS label
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Adds a tunnel endpoint.
         *
         * @param endpoint where a router of this site accepts tunnels
         * @return this builder
         */
        public Builder tunnelEndpoint(Endpoint endpoint) {
            tunnelEndpoints.add(requireNonNull(endpoint, "endpoint"));
            return this;
        }

        /**
         * Replaces the tunnel endpoints.
         *
         * @param endpoints where the routers of this site accept tunnels
         * @return this builder
         */
        public Builder tunnelEndpoints(List<Endpoint> endpoints) {
            tunnelEndpoints.clear();
            endpoints.forEach(this::tunnelEndpoint);
            return this;
        }

        /**
         * Sets a label.
         *
         * @param key the label key
         * @param value the label value
         * @return this builder
         */
        public Builder label(String key, String value) {
            labels.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
            return this;
        }

        /**
         * Validates the values and builds the site.
         *
         * @return the site
         * @throws ConfigValidationException naming the first bad field
         */
        public Site build() {
            return new Site(this);
        }
    }
}
