package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request to evaluate against the mesh's policies without sending it: the question of
 * {@link MeshAdmin#explain(ExplainRequest)}. Immutable.
 *
 * <pre>{@code
 * ExplainRequest request = ExplainRequest.builder().host("osaka-app").method("GET").path("/orders")
 *         .header("x-team", "checkout").clientIp("10.1.2.3").sourceSite("tokyo").build();
 * }</pre>
 */
public final class ExplainRequest {

    private final @Nullable String host;
    private final @Nullable String loadBalancer;
    private final String method;
    private final String path;
    private final Map<String, String> headers;
    private final @Nullable String clientIp;
    private final @Nullable String sourceSite;

    private ExplainRequest(Builder b) {
        host = b.host;
        loadBalancer = b.loadBalancer;
        method = b.method;
        path = b.path;
        headers = Map.copyOf(b.headers);
        clientIp = b.clientIp;
        sourceSite = b.sourceSite;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the Host the request is sent with, or {@code null} when a load balancer is named instead */
    public @Nullable String host() {
        return host;
    }

    /** @return the load balancer as {@code namespace/name}, or {@code null} when a host is given instead */
    public @Nullable String loadBalancer() {
        return loadBalancer;
    }

    /** @return the method, upper case */
    public String method() {
        return method;
    }

    /** @return the path, starting with {@code /} */
    public String path() {
        return path;
    }

    /** @return the request headers, names in lower case */
    public Map<String, String> headers() {
        return headers;
    }

    /** @return the client's IP address, or {@code null} when not given */
    public @Nullable String clientIp() {
        return clientIp;
    }

    /** @return the site the request comes from, or {@code null} when not given */
    public @Nullable String sourceSite() {
        return sourceSite;
    }

    @Override
    public String toString() {
        return method + ' ' + (host != null ? host : loadBalancer) + path;
    }

    /** Builds an {@link ExplainRequest}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String host;
        private @Nullable String loadBalancer;
        private String method = "GET";
        private String path = "/";
        private final Map<String, String> headers = new LinkedHashMap<>();
        private @Nullable String clientIp;
        private @Nullable String sourceSite;

        private Builder() {}

        /**
         * Sets the Host the request is sent with, e.g. {@code osaka-app}.
         *
         * @param host the host
         * @return this builder
         */
        public Builder host(String host) {
            requireNonNull(host, "host");
            Preconditions.checkArgument(!host.isBlank(), "host: \"%s\" (expected: non-blank)", host);
            this.host = host;
            return this;
        }

        /**
         * Names the load balancer directly instead of a host.
         *
         * @param namespace the load balancer's namespace
         * @param name the load balancer's name
         * @return this builder
         */
        public Builder loadBalancer(String namespace, String name) {
            requireNonNull(namespace, "namespace");
            requireNonNull(name, "name");
            Preconditions.checkArgument(!namespace.isBlank() && !name.isBlank(),
                    "loadBalancer: \"%s/%s\" (expected: a non-blank namespace and name)", namespace, name);
            loadBalancer = namespace + '/' + name;
            return this;
        }

        /**
         * Sets the method; default {@code GET}.
         *
         * @param method the method, e.g. {@code POST}
         * @return this builder
         */
        public Builder method(String method) {
            requireNonNull(method, "method");
            Preconditions.checkArgument(method.matches("[A-Za-z]+"), "method: \"%s\" (expected: letters only, e.g. GET)",
                    method);
            this.method = method.toUpperCase(Locale.ROOT);
            return this;
        }

        /**
         * Sets the path; default {@code /}.
         *
         * @param path the path, starting with {@code /}, optionally with a query
         * @return this builder
         */
        public Builder path(String path) {
            requireNonNull(path, "path");
            Preconditions.checkArgument(path.startsWith("/"), "path: \"%s\" (expected: starting with /)", path);
            this.path = path;
            return this;
        }

        /**
         * Adds a request header; a later value for the same name replaces an earlier one.
         *
         * @param name the name
         * @param value the value
         * @return this builder
         */
        public Builder header(String name, String value) {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
            Preconditions.checkArgument(name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+"),
                    "header name: \"%s\" (expected: an HTTP token, e.g. x-team)", name);
            headers.put(name.toLowerCase(Locale.ROOT), value);
            return this;
        }

        /**
         * Sets the client's IP address.
         *
         * @param clientIp an IPv4 or IPv6 address
         * @return this builder
         */
        public Builder clientIp(String clientIp) {
            requireNonNull(clientIp, "clientIp");
            Preconditions.checkArgument(clientIp.matches("[0-9A-Fa-f:.]+") && (clientIp.contains(".") || clientIp.contains(":")),
                    "clientIp: \"%s\" (expected: an IPv4 or IPv6 address, e.g. 10.1.2.3)", clientIp);
            this.clientIp = clientIp;
            return this;
        }

        /**
         * Sets the site the request comes from.
         *
         * @param sourceSite the site name
         * @return this builder
         */
        public Builder sourceSite(String sourceSite) {
            requireNonNull(sourceSite, "sourceSite");
            Preconditions.checkArgument(!sourceSite.isBlank(), "sourceSite: \"%s\" (expected: non-blank)", sourceSite);
            this.sourceSite = sourceSite;
            return this;
        }

        /**
         * Builds the request.
         *
         * @return the request
         * @throws IllegalArgumentException unless exactly one of a host and a load balancer was given
         */
        public ExplainRequest build() {
            Preconditions.checkArgument((host == null) != (loadBalancer == null),
                    "host: %s, loadBalancer: %s (expected: exactly one of them)", host, loadBalancer);
            return new ExplainRequest(this);
        }
    }
}
