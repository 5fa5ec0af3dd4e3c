package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The conditions under which a {@link Route} applies: a path match, a set of methods, header and query
 * parameter matches. Every condition that is set must hold; an empty match matches every request.
 * Immutable.
 *
 * <pre>{@code
 * RouteMatch match = RouteMatch.builder()
 *         .path(StringMatch.prefix("/api/"))
 *         .methods("GET", "HEAD")
 *         .header("x-canary", StringMatch.exact("1"))
 *         .queryParam("debug", StringMatch.present())
 *         .build();
 * }</pre>
 */
public final class RouteMatch {

    private static final Pattern METHOD = Pattern.compile("[A-Z]{1,20}");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}");
    private static final RouteMatch ANY = builder().build();

    private final @Nullable StringMatch path;
    private final Set<String> methods;
    private final Map<String, StringMatch> headers;
    private final Map<String, StringMatch> queryParams;

    private RouteMatch(Builder b) {
        if (b.path != null) {
            if (b.path.type() == StringMatch.Type.PRESENT) {
                throw new ConfigValidationException("path", "present (expected: exact, prefix or regex)");
            }
            if (b.path.type() != StringMatch.Type.REGEX && !b.path.value().startsWith("/")) {
                throw new ConfigValidationException("path", Validation.quote(b.path.value())
                        + " (expected: a path starting with \"/\")");
            }
        }
        this.path = b.path;
        for (int i = 0; i < b.methods.size(); i++) {
            String method = b.methods.get(i);
            if (!METHOD.matcher(method).matches()) {
                throw new ConfigValidationException("methods[" + i + ']', Validation.quote(method)
                        + " (expected: an upper-case HTTP method such as GET)");
            }
        }
        this.methods = Collections.unmodifiableSet(new LinkedHashSet<>(b.methods));
        this.headers = names(b.headers, "headers", true);
        this.queryParams = names(b.queryParams, "queryParams", false);
    }

    private static Map<String, StringMatch> names(Map<String, StringMatch> in, String field, boolean lowerCase) {
        Map<String, StringMatch> out = new LinkedHashMap<>();
        for (Map.Entry<String, StringMatch> e : in.entrySet()) {
            String name = e.getKey();
            if (!TOKEN.matcher(name).matches()) {
                throw new ConfigValidationException(field + '[' + name + ']', Validation.quote(name)
                        + " (expected: a name of 1-100 token characters)");
            }
            out.put(lowerCase ? name.toLowerCase(Locale.ROOT) : name, e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Returns a match that matches every request.
     *
     * @return the match
     */
    public static RouteMatch any() {
        return ANY;
    }

    /**
     * Returns a builder of a match.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the path match, or {@code null} for any path */
    public @Nullable StringMatch path() {
        return path;
    }

    /** @return the methods that match, upper case; empty for any method */
    public Set<String> methods() {
        return methods;
    }

    /** @return header matches by lower-case header name, in declaration order */
    public Map<String, StringMatch> headers() {
        return headers;
    }

    /** @return query parameter matches by parameter name, in declaration order */
    public Map<String, StringMatch> queryParams() {
        return queryParams;
    }

    /** @return whether this match has no condition */
    public boolean isAny() {
        return path == null && methods.isEmpty() && headers.isEmpty() && queryParams.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RouteMatch)) {
            return false;
        }
        RouteMatch that = (RouteMatch) o;
        return java.util.Objects.equals(path, that.path) && methods.equals(that.methods) && headers.equals(that.headers)
                && queryParams.equals(that.queryParams);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(path, methods, headers, queryParams);
    }

    @Override
    public String toString() {
        return "RouteMatch{path=" + path + ", methods=" + methods + ", headers=" + headers + ", queryParams="
                + queryParams + '}';
    }

    /** Builds a {@link RouteMatch}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable StringMatch path;
        private final List<String> methods = new ArrayList<>();
        private final Map<String, StringMatch> headers = new LinkedHashMap<>();
        private final Map<String, StringMatch> queryParams = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets the path match (exact, prefix or regex), compared with the path without the query.
         *
         * @param path the path match
         * @return this builder
         */
        public Builder path(StringMatch path) {
            this.path = requireNonNull(path, "path");
            return this;
        }

        /**
         * Adds methods that match.
         *
         * @param methods upper-case HTTP methods
         * @return this builder
         */
        public Builder methods(String... methods) {
            for (String method : methods) {
                this.methods.add(requireNonNull(method, "method"));
            }
            return this;
        }

        /**
         * Adds methods that match.
         *
         * @param methods upper-case HTTP methods
         * @return this builder
         */
        public Builder methods(List<String> methods) {
            return methods(methods.toArray(new String[0]));
        }

        /**
         * Adds a header condition; header names are compared ignoring case.
         *
         * @param name the header name
         * @param match how its value must match
         * @return this builder
         */
        public Builder header(String name, StringMatch match) {
            headers.put(requireNonNull(name, "name"), requireNonNull(match, "match"));
            return this;
        }

        /**
         * Adds a query parameter condition; the first value of the parameter is compared, undecoded.
         *
         * @param name the parameter name
         * @param match how its value must match
         * @return this builder
         */
        public Builder queryParam(String name, StringMatch match) {
            queryParams.put(requireNonNull(name, "name"), requireNonNull(match, "match"));
            return this;
        }

        /**
         * Validates the values and builds the match.
         *
         * @return the match
         * @throws ConfigValidationException naming the bad field relative to the match
         */
        public RouteMatch build() {
            return new RouteMatch(this);
        }
    }
}
