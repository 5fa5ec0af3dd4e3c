package io.isthmus.mesh.snapshot;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.model.MeshObject;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Finds the value registered for a request's host: an immutable index of exact domains, Kubernetes
 * short names and wildcards. Lookups are lock-free and allocate at most the normalised host.
 *
 * <p>For a host (lowercased, without port and trailing dot), in order:
 * <ol>
 *   <li>a domain registered exactly as the host;
 *   <li>a Kubernetes short name: a single-label domain {@code app} registered in namespace {@code ns}
 *       also answers {@code app.ns}, {@code app.ns.svc} and {@code app.ns.svc.cluster.local}; the bare
 *       {@code app} goes to namespace {@value MeshObject#DEFAULT_NAMESPACE} if it has one, else to
 *       the first namespace in alphabetical order;
 *   <li>the wildcard with the longest suffix: {@code *.shop.example} matches {@code a.shop.example}
 *       and {@code a.b.shop.example}, not {@code shop.example};
 *   <li>the catch-all {@code *}.
 * </ol>
 * When two values register the same domain, the first registered wins ({@link Builder#add} reports
 * it).
 *
 * <pre>{@code
 * DomainMatcher<String> m = DomainMatcher.<String>builder()
 *         .add("osaka-app", "default", "lb-1")
 *         .add("*.shop.example", "default", "lb-2")
 *         .build();
 * m.match("osaka-app.default.svc.cluster.local:8080");   // "lb-1"
 * m.match("Cart.Shop.Example");                          // "lb-2"
 * }</pre>
 *
 * @param <T> the value type
 */
public final class DomainMatcher<T> {

    private static final String[] SHORT_NAME_SUFFIXES = {"", ".svc", ".svc.cluster.local"};

    private final Map<String, T> exact;
    private final Map<String, T> wildcards;
    private final @Nullable T catchAll;

    private DomainMatcher(Builder<T> b) {
        Map<String, T> all = new HashMap<>(b.shortNames);
        all.putAll(b.exact); // a domain written out exactly beats a short-name expansion
        this.exact = Map.copyOf(all);
        this.wildcards = Map.copyOf(b.wildcards);
        this.catchAll = b.catchAll;
    }

    /**
     * Returns a builder.
     *
     * @param <T> the value type
     * @return a new builder
     */
    public static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /**
     * Finds the value for a host.
     *
     * @param host the request's host, e.g. a Host header: any case, with or without a port
     * @return the value, or {@code null} when no domain matches
     */
    public @Nullable T match(String host) {
        String h = normalize(requireNonNull(host, "host"));
        T found = exact.get(h);
        if (found != null) {
            return found;
        }
        if (!wildcards.isEmpty()) {
            for (int dot = h.indexOf('.'); dot >= 0 && dot < h.length() - 1; dot = h.indexOf('.', dot + 1)) {
                found = wildcards.get(h.substring(dot + 1));
                if (found != null) {
                    return found;
                }
            }
        }
        return catchAll;
    }

    /**
     * Lowercases a host and strips its port and trailing dot; returns the same string when there is
     * nothing to change.
     *
     * @param host the host
     * @return the normalised host
     */
    static String normalize(String host) {
        int end = host.length();
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close < 0 ? host : host.substring(0, close + 1);
        }
        int colon = host.indexOf(':');
        if (colon >= 0 && host.indexOf(':', colon + 1) < 0) {
            end = colon;
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        boolean lower = true;
        for (int i = 0; i < end; i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                lower = false;
                break;
            }
        }
        String h = end == host.length() ? host : host.substring(0, end);
        return lower ? h : h.toLowerCase(Locale.ROOT);
    }

    /**
     * Builds a {@link DomainMatcher}. Not thread-safe.
     *
     * @param <T> the value type
     */
    public static final class Builder<T> {

        private final Map<String, T> exact = new HashMap<>();
        private final Map<String, T> shortNames = new HashMap<>();
        private final Map<String, String> bareNamespaces = new HashMap<>();
        private final Map<String, T> wildcards = new HashMap<>();
        private @Nullable T catchAll;

        private Builder() {}

        /**
         * Registers a domain.
         *
         * @param domain a lowercase DNS name, {@code *.suffix} or {@code *}
         * @param namespace the namespace of the object that claims it, for Kubernetes short names
         * @param value the value to return
         * @return {@code true} when registered, {@code false} when the domain was already taken (for
         *     a short name: in that namespace)
         * @throws io.isthmus.mesh.config.ConfigValidationException when the domain is malformed
         */
        public boolean add(String domain, String namespace, T value) {
            Validation.domain(domain, "domain");
            Validation.dnsLabel(namespace, "namespace");
            requireNonNull(value, "value");
            if (domain.equals("*")) {
                if (catchAll != null) {
                    return false;
                }
                catchAll = value;
                return true;
            }
            if (domain.startsWith("*.")) {
                return wildcards.putIfAbsent(domain.substring(2), value) == null;
            }
            if (domain.indexOf('.') >= 0) {
                return exact.putIfAbsent(domain, value) == null;
            }
            if (shortNames.putIfAbsent(domain + '.' + namespace, value) != null) {
                return false;
            }
            for (String suffix : SHORT_NAME_SUFFIXES) {
                shortNames.putIfAbsent(domain + '.' + namespace + suffix, value);
            }
            String current = bareNamespaces.get(domain);
            if (current == null || preferred(namespace, current)) {
                bareNamespaces.put(domain, namespace);
                shortNames.put(domain, value);
            }
            return true;
        }

        private static boolean preferred(String namespace, String current) {
            if (current.equals(MeshObject.DEFAULT_NAMESPACE)) {
                return false;
            }
            return namespace.equals(MeshObject.DEFAULT_NAMESPACE) || namespace.compareTo(current) < 0;
        }

        /**
         * Builds the matcher.
         *
         * @return the matcher
         */
        public DomainMatcher<T> build() {
            return new DomainMatcher<>(this);
        }
    }
}
