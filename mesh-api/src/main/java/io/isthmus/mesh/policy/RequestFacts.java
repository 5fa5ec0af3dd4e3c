package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a service policy looks at in one HTTP request: where it came from (site, peer identity, client
 * IP) and what it asks for (host, method, path, headers). Immutable and thread-safe.
 *
 * <p>Values are normalised once, when the facts are built, so that evaluation compares them as they
 * are: the host loses its port and trailing dot and is lower-cased, the method is upper-cased, the path
 * loses its query string, header names are lower-cased.
 *
 * <pre>{@code
 * RequestFacts facts = RequestFacts.builder()
 *         .sourceSite("tokyo").sourceIdentity("spiffe://mesh.example/site/tokyo")
 *         .clientIp(InetAddress.getByName("10.1.2.3"))
 *         .host("osaka-app:8080").method("GET").path("/orders?id=42")
 *         .header("authorization", "Bearer ...")
 *         .build();
 * }</pre>
 */
public final class RequestFacts {

    private final @Nullable String sourceSite;
    private final @Nullable String sourceIdentity;
    private final @Nullable InetAddress clientIp;
    final IpBits clientBits;
    private final String host;
    private final String method;
    private final String path;
    private final Map<String, List<String>> headers;

    private RequestFacts(Builder b) {
        this.sourceSite = b.sourceSite;
        this.sourceIdentity = b.sourceIdentity;
        this.clientIp = b.clientIp;
        this.clientBits = IpBits.of(b.clientIp);
        this.host = normalizeHost(b.host);
        this.method = b.method.toUpperCase(Locale.ROOT);
        int query = b.path.indexOf('?');
        this.path = query < 0 ? b.path : b.path.substring(0, query);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        b.headers.forEach((k, v) -> headers.put(k, List.copyOf(v)));
        this.headers = Collections.unmodifiableMap(headers);
    }

    private static String normalizeHost(String host) {
        String h = host;
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            h = close < 0 ? h : h.substring(1, close);
        } else {
            int colon = h.indexOf(':');
            // One colon is host:port; several are an IPv6 literal without brackets.
            if (colon >= 0 && colon == h.lastIndexOf(':')) {
                h = h.substring(0, colon);
            }
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.toLowerCase(Locale.ROOT);
    }

    /**
     * Returns a builder with no source, host {@code ""}, method {@code GET} and path {@code /}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the site the request came from, or {@code null} when unknown */
    public @Nullable String sourceSite() {
        return sourceSite;
    }

    /** @return the SPIFFE id of the peer that sent the request, or {@code null} when unauthenticated */
    public @Nullable String sourceIdentity() {
        return sourceIdentity;
    }

    /** @return the client's IP address, or {@code null} when unknown */
    public @Nullable InetAddress clientIp() {
        return clientIp;
    }

    /** @return the host, lower-cased, without port or trailing dot */
    public String host() {
        return host;
    }

    /** @return the HTTP method, upper-cased */
    public String method() {
        return method;
    }

    /** @return the path, without the query string */
    public String path() {
        return path;
    }

    /** @return the headers by lower-cased name, each with its values in order */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /**
     * Returns the values of a header.
     *
     * @param lowerCaseName the header name in lower case
     * @return the values, empty when the header is absent
     */
    public List<String> header(String lowerCaseName) {
        List<String> values = headers.get(lowerCaseName);
        return values == null ? List.of() : values;
    }

    @Override
    public String toString() {
        return method + ' ' + host + path + " from " + (sourceSite == null ? "unknown site" : "site " + sourceSite)
                + (sourceIdentity == null ? "" : " (" + sourceIdentity + ')')
                + (clientIp == null ? "" : ", client " + clientIp.getHostAddress());
    }

    /** Builds {@link RequestFacts}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String sourceSite;
        private @Nullable String sourceIdentity;
        private @Nullable InetAddress clientIp;
        private String host = "";
        private String method = "GET";
        private String path = "/";
        private final Map<String, List<String>> headers = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets the site the request came from (the local site for requests that did not come through a
         * tunnel).
         *
         * @param site the site name
         * @return this builder
         */
        public Builder sourceSite(String site) {
            this.sourceSite = requireNonNull(site, "site");
            return this;
        }

        /**
         * Sets the SPIFFE id of the authenticated peer.
         *
         * @param spiffeId e.g. {@code spiffe://mesh.example/site/tokyo}
         * @return this builder
         */
        public Builder sourceIdentity(String spiffeId) {
            this.sourceIdentity = requireNonNull(spiffeId, "spiffeId");
            return this;
        }

        /**
         * Sets the client's IP address.
         *
         * @param address the address
         * @return this builder
         */
        public Builder clientIp(InetAddress address) {
            this.clientIp = requireNonNull(address, "address");
            return this;
        }

        /**
         * Sets the host, as in the Host header or {@code :authority}.
         *
         * @param host e.g. {@code osaka-app:8080} or {@code [::1]:8080}
         * @return this builder
         */
        public Builder host(String host) {
            this.host = requireNonNull(host, "host");
            return this;
        }

        /**
         * Sets the HTTP method.
         *
         * @param method e.g. {@code GET}
         * @return this builder
         */
        public Builder method(String method) {
            this.method = requireNonNull(method, "method");
            return this;
        }

        /**
         * Sets the request target's path; a query string is dropped.
         *
         * @param path e.g. {@code /orders?id=42}
         * @return this builder
         */
        public Builder path(String path) {
            this.path = requireNonNull(path, "path");
            return this;
        }

        /**
         * Adds a header value.
         *
         * @param name the header name, any case
         * @param value the value
         * @return this builder
         */
        public Builder header(String name, String value) {
            headers.computeIfAbsent(requireNonNull(name, "name").toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(requireNonNull(value, "value"));
            return this;
        }

        /**
         * Builds the facts.
         *
         * @return the facts
         */
        public RequestFacts build() {
            return new RequestFacts(this);
        }
    }
}
