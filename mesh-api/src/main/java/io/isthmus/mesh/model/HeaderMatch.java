package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.policy.PolicyValidation;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How a service policy rule matches a request header: present, with an exact value, or with a value
 * matching a regular expression; optionally inverted. Header names are compared ignoring case.
 * Immutable.
 *
 * <p>When a header occurs several times, the match succeeds if any of its values matches; an inverted
 * match succeeds exactly when the plain match fails (so an inverted "present" match means "absent").
 *
 * <pre>{@code
 * HeaderMatch.present("authorization");
 * HeaderMatch.exact("x-env", "prod").inverted();       // x-env absent or not "prod"
 * HeaderMatch.regex("user-agent", ".*curl.*");
 * }</pre>
 */
public final class HeaderMatch {

    /** The kinds of header match. */
    public enum Type {
        /** The header is present, with any value. */
        PRESENT,
        /** One of the header's values equals the value. */
        EXACT,
        /** One of the header's values matches the regular expression as a whole. */
        REGEX
    }

    private final String name;
    private final Type type;
    private final @Nullable String value;
    private final @Nullable Pattern pattern;
    private final boolean invert;

    private HeaderMatch(String name, Type type, @Nullable String value, boolean invert) {
        this.name = PolicyValidation.headerName(name, "name");
        this.type = type;
        this.value = value;
        this.pattern = type == Type.REGEX ? PolicyValidation.regex(value, "regex") : null;
        this.invert = invert;
    }

    /**
     * Matches requests that carry a header.
     *
     * @param name the header name, any case
     * @return the match
     * @throws io.isthmus.mesh.config.ConfigValidationException when the name is not a header name
     */
    public static HeaderMatch present(String name) {
        return new HeaderMatch(requireNonNull(name, "name"), Type.PRESENT, null, false);
    }

    /**
     * Matches requests with a header value equal to {@code value} (case-sensitive).
     *
     * @param name the header name, any case
     * @param value the value
     * @return the match
     * @throws io.isthmus.mesh.config.ConfigValidationException when the name is not a header name
     */
    public static HeaderMatch exact(String name, String value) {
        return new HeaderMatch(requireNonNull(name, "name"), Type.EXACT, requireNonNull(value, "value"), false);
    }

    /**
     * Matches requests with a header value that a regular expression matches as a whole.
     *
     * @param name the header name, any case
     * @param regex a Java regular expression
     * @return the match
     * @throws io.isthmus.mesh.config.ConfigValidationException when the name is bad or the expression does
     *     not compile
     */
    public static HeaderMatch regex(String name, String regex) {
        return new HeaderMatch(requireNonNull(name, "name"), Type.REGEX, requireNonNull(regex, "regex"), false);
    }

    /**
     * Returns the inverted match: it succeeds exactly when this one fails.
     *
     * @return a new match; inverting twice gives back an equal match
     */
    public HeaderMatch inverted() {
        return new HeaderMatch(name, type, value, !invert);
    }

    /**
     * Returns the header name, in lower case.
     *
     * @return the name
     */
    public String name() {
        return name;
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
     * Returns the exact value or the regular expression; {@code null} for a {@link Type#PRESENT} match.
     *
     * @return the value, or {@code null}
     */
    public @Nullable String value() {
        return value;
    }

    /**
     * Returns whether the match is inverted.
     *
     * @return {@code true} when inverted
     */
    public boolean invert() {
        return invert;
    }

    /**
     * Returns whether the values of this match's header satisfy it. Thread-safe.
     *
     * @param values the header's values, empty when the header is absent
     * @return {@code true} when it matches (inversion applied)
     */
    public boolean matches(List<String> values) {
        return matchesPlain(values) != invert;
    }

    private boolean matchesPlain(List<String> values) {
        if (type == Type.PRESENT) {
            return !values.isEmpty();
        }
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            if (type == Type.EXACT ? v.equals(value) : requireNonNull(pattern).matcher(v).matches()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof HeaderMatch)) {
            return false;
        }
        HeaderMatch that = (HeaderMatch) o;
        return that.name.equals(name) && that.type == type && java.util.Objects.equals(that.value, value)
                && that.invert == invert;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, type, value, invert);
    }

    /**
     * Returns the match as e.g. {@code x-env == "prod"}, {@code !(authorization present)}.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        String plain;
        switch (type) {
            case PRESENT:
                plain = name + " present";
                break;
            case EXACT:
                plain = name + " == \"" + value + '"';
                break;
            default:
                plain = name + " ~ /" + value + '/';
                break;
        }
        return invert ? "!(" + plain + ')' : plain;
    }
}
