package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How a route matches one string of a request: the path, a header or a query parameter. Immutable;
 * a regex is compiled once, when the match is created.
 *
 * <pre>{@code
 * StringMatch.prefix("/api/");
 * StringMatch.regex("/orders/[0-9]+");
 * StringMatch.exact("canary");
 * StringMatch.present();          // headers and query parameters only
 * }</pre>
 */
public final class StringMatch {

    /** The kinds of match. */
    public enum Type {
        /** The whole value equals the given string. */
        EXACT,
        /** The value starts with the given string. */
        PREFIX,
        /** The whole value matches the given regular expression ({@link java.util.regex.Pattern}). */
        REGEX,
        /** The value is present, whatever it is. */
        PRESENT
    }

    private static final StringMatch PRESENT = new StringMatch(Type.PRESENT, "", null);

    private final Type type;
    private final String value;
    private final @Nullable Pattern pattern;

    private StringMatch(Type type, String value, @Nullable Pattern pattern) {
        this.type = type;
        this.value = value;
        this.pattern = pattern;
    }

    /**
     * Matches a value equal to {@code value}.
     *
     * @param value the expected value
     * @return the match
     */
    public static StringMatch exact(String value) {
        return new StringMatch(Type.EXACT, requireNonNull(value, "value"), null);
    }

    /**
     * Matches a value starting with {@code prefix}.
     *
     * @param prefix the expected prefix, not empty
     * @return the match
     * @throws ConfigValidationException when the prefix is empty
     */
    public static StringMatch prefix(String prefix) {
        requireNonNull(prefix, "prefix");
        if (prefix.isEmpty()) {
            throw new ConfigValidationException("", "\"\" (expected: a non-empty prefix)");
        }
        return new StringMatch(Type.PREFIX, prefix, null);
    }

    /**
     * Matches a value that matches {@code regex} as a whole.
     *
     * @param regex a {@link Pattern} expression
     * @return the match
     * @throws ConfigValidationException when the expression does not compile
     */
    public static StringMatch regex(String regex) {
        requireNonNull(regex, "regex");
        return new StringMatch(Type.REGEX, regex, Validation.regex(regex, ""));
    }

    /**
     * Matches any value that is present.
     *
     * @return the match
     */
    public static StringMatch present() {
        return PRESENT;
    }

    /**
     * Creates a match of a given type.
     *
     * @param type the type
     * @param value the value; ignored for {@link Type#PRESENT}
     * @return the match
     * @throws ConfigValidationException when the value does not suit the type
     */
    public static StringMatch of(Type type, String value) {
        switch (requireNonNull(type, "type")) {
            case EXACT:
                return exact(value);
            case PREFIX:
                return prefix(value);
            case REGEX:
                return regex(value);
            default:
                return PRESENT;
        }
    }

    /** @return the type */
    public Type type() {
        return type;
    }

    /** @return the string or expression compared with; empty for {@link Type#PRESENT} */
    public String value() {
        return value;
    }

    /**
     * Returns whether a value matches. Allocation-free except for regex matches.
     *
     * @param candidate the request's value, {@code null} when absent
     * @return {@code true} when it matches
     */
    public boolean matches(@Nullable CharSequence candidate) {
        if (candidate == null) {
            return false;
        }
        switch (type) {
            case EXACT:
                return value.contentEquals(candidate);
            case PREFIX:
                return startsWith(candidate, value);
            case REGEX:
                return requireNonNull(pattern).matcher(candidate).matches();
            default:
                return true;
        }
    }

    private static boolean startsWith(CharSequence s, String prefix) {
        if (s.length() < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (s.charAt(i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StringMatch && ((StringMatch) o).type == type && ((StringMatch) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + value.hashCode();
    }

    @Override
    public String toString() {
        return type == Type.PRESENT ? "present" : type.name().toLowerCase(java.util.Locale.ROOT) + ' ' + Validation.quote(value);
    }
}
