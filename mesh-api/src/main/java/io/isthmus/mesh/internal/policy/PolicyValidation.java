package io.isthmus.mesh.internal.policy;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Validation rules of service policies and firewalls; each failure names the field path. */
public final class PolicyValidation {

    private static final Pattern SPIFFE_ID = Pattern.compile("spiffe://[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?"
            + "(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+");
    // RFC 9110 token characters.
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    private PolicyValidation() {}

    /** Re-throws {@code e} with its field path below {@code prefix}. */
    public static ConfigValidationException prefixed(String prefix, ConfigValidationException e) {
        String path = e.fieldPath().isEmpty() ? prefix
                : prefix.isEmpty() ? e.fieldPath() : prefix + '.' + e.fieldPath();
        String message = String.valueOf(e.getMessage());
        String problem = e.fieldPath().isEmpty() ? message : message.substring(e.fieldPath().length() + 2);
        ConfigValidationException error = new ConfigValidationException(path, problem);
        error.initCause(e);
        return error;
    }

    /** Joins a path and a field name, leaving out an empty path. */
    public static String join(String path, String field) {
        return path.isEmpty() ? field : path + '.' + field;
    }

    /** Checks a SPIFFE id such as {@code spiffe://mesh.example/site/tokyo}. */
    public static String spiffeId(@Nullable String value, String path) {
        Validation.required(value, path);
        if (!SPIFFE_ID.matcher(value).matches()) {
            throw new ConfigValidationException(path, Validation.quote(value)
                    + " (expected: a SPIFFE id such as spiffe://mesh.example/site/tokyo)");
        }
        return value;
    }

    /** Checks an HTTP method token and returns it in upper case. */
    public static String method(@Nullable String value, String path) {
        Validation.required(value, path);
        if (value.length() > 32 || !TOKEN.matcher(value).matches()) {
            throw new ConfigValidationException(path, Validation.quote(value)
                    + " (expected: an HTTP method such as GET)");
        }
        return value.toUpperCase(Locale.ROOT);
    }

    /** Checks an HTTP header name and returns it in lower case. */
    public static String headerName(@Nullable String value, String path) {
        Validation.required(value, path);
        if (value.length() > 256 || !TOKEN.matcher(value).matches()) {
            throw new ConfigValidationException(path, Validation.quote(value)
                    + " (expected: an HTTP header name such as x-api-key)");
        }
        return value.toLowerCase(Locale.ROOT);
    }

    /** Compiles a regular expression, or fails naming the syntax problem. */
    public static Pattern regex(@Nullable String value, String path) {
        Validation.required(value, path);
        try {
            return Pattern.compile(value);
        } catch (IllegalArgumentException e) {
            String why = e instanceof java.util.regex.PatternSyntaxException
                    ? ((java.util.regex.PatternSyntaxException) e).getDescription() : e.getMessage();
            throw new ConfigValidationException(path, Validation.quote(value)
                    + " (expected: a Java regular expression; " + why + ')');
        }
    }

    /**
     * Parses a duration written as a number and a unit ({@code 500ms}, {@code 1s}, {@code 5m},
     * {@code 1h}, {@code 1d}) or in ISO-8601 ({@code PT1S}).
     */
    public static Duration duration(String value, String path) {
        Matcher m = DURATION.matcher(value);
        Duration d = null;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    d = Duration.ofMillis(n);
                    break;
                case "s":
                    d = Duration.ofSeconds(n);
                    break;
                case "m":
                    d = Duration.ofMinutes(n);
                    break;
                case "h":
                    d = Duration.ofHours(n);
                    break;
                default:
                    d = Duration.ofDays(n);
                    break;
            }
        } else if (value.startsWith("P") || value.startsWith("p")) {
            try {
                d = Duration.parse(value);
            } catch (RuntimeException e) {
                d = null;
            }
        }
        if (d == null) {
            throw new ConfigValidationException(path, Validation.quote(value)
                    + " (expected: a duration such as 500ms, 1s, 1m, 1h or PT1S)");
        }
        return d;
    }

    /** Writes a duration in the shortest exact form {@link #duration} reads ({@code 1s}, {@code 250ms}). */
    public static String formatDuration(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.isNegative() || d.getNano() % 1_000_000 != 0) {
            return d.toString();
        }
        long ms = d.toMillis();
        if (ms % 86_400_000L == 0 && ms / 86_400_000L < 1_000_000_000L) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0 && ms / 3_600_000L < 1_000_000_000L) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0 && ms / 60_000L < 1_000_000_000L) {
            return ms / 60_000L + "m";
        }
        if (ms % 1_000L == 0 && ms / 1_000L < 1_000_000_000L) {
            return ms / 1_000L + "s";
        }
        return ms < 1_000_000_000L ? ms + "ms" : d.toString();
    }
}
