package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.internal.policy.PolicyValidation;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How a service policy rule matches a request path (without the query string). Immutable.
 *
 * <pre>{@code
 * PathMatch.exact("/healthz");          // only /healthz
 * PathMatch.prefix("/api/");            // /api/ and everything below it
 * PathMatch.regex("/orders/[0-9]+");    // the whole path must match
 * }</pre>
 */
public final class PathMatch {

    /** The kinds of path match. */
    public enum Type {
        /** The path equals the value. */
        EXACT,
        /** The path starts with the value. */
        PREFIX,
        /** The whole path matches the value as a Java regular expression. */
        REGEX
    }

    private final Type type;
    private final String value;
    private final @Nullable Pattern pattern;

    private PathMatch(Type type, String value) {
        this.type = type;
        if (type == Type.REGEX) {
            this.pattern = PolicyValidation.regex(value, "regex");
        } else {
            this.pattern = null;
            if (!value.startsWith("/")) {
                throw new ConfigValidationException(type == Type.EXACT ? "exact" : "prefix",
                        Validation.quote(value) + " (expected: a path starting with \"/\")");
            }
        }
        this.value = value;
    }

    /**
     * Matches exactly one path.
     *
     * @param path a path starting with {@code /}
     * @return the match
     * @throws ConfigValidationException when the path does not start with {@code /}
     */
    public static PathMatch exact(String path) {
        return new PathMatch(Type.EXACT, requireNonNull(path, "path"));
    }

    /**
     * Matches the paths that start with a prefix.
     *
     * @param prefix a prefix starting with {@code /}
     * @return the match
     * @throws ConfigValidationException when the prefix does not start with {@code /}
     */
    public static PathMatch prefix(String prefix) {
        return new PathMatch(Type.PREFIX, requireNonNull(prefix, "prefix"));
    }

    /**
     * Matches the paths that a regular expression matches as a whole.
     *
     * @param regex a Java regular expression
     * @return the match
     * @throws ConfigValidationException when the expression does not compile
     */
    public static PathMatch regex(String regex) {
        return new PathMatch(Type.REGEX, requireNonNull(regex, "regex"));
    }

    /**
     * Returns the kind of match.
     *
     * @return the type
     */
    public Type type() {
        return type;
    }

    /**
     * Returns the path, prefix or regular expression.
     *
     * @return the value
     */
    public String value() {
        return value;
    }

    /**
     * Returns whether a path matches. Thread-safe.
     *
     * @param path a request path without the query string
     * @return {@code true} when it matches
     */
    public boolean matches(String path) {
        switch (type) {
            case EXACT:
                return path.equals(value);
            case PREFIX:
                return path.startsWith(value);
            default:
                return requireNonNull(pattern).matcher(path).matches();
        }
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof PathMatch && ((PathMatch) o).type == type && ((PathMatch) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + value.hashCode();
    }

    /**
     * Returns the match as {@code exact:/healthz}, {@code prefix:/api/} or {@code regex:/orders/[0-9]+}.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return type.name().toLowerCase(java.util.Locale.ROOT) + ':' + value;
    }
}
