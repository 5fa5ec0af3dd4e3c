package io.isthmus.mesh.internal;

import io.isthmus.mesh.config.ConfigValidationException;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/** The validation rules shared by every mesh object; each failure names the field path. */
public final class Validation {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern DOMAIN =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern HOST = Pattern.compile("(?![-.])[A-Za-z0-9.:_%-]{1,253}");

    private Validation() {}

    /** Returns {@code value} when non-null; otherwise fails with "is required". */
    public static <T> T required(@Nullable T value, String path) {
        if (value == null) {
            throw new ConfigValidationException(path, "is required");
        }
        return value;
    }

    /** Checks a DNS label (names, namespaces, sites): lowercase, at most 63 characters. */
    public static String dnsLabel(@Nullable String value, String path) {
        required(value, path);
        if (!DNS_LABEL.matcher(value).matches()) {
            throw new ConfigValidationException(path, quote(value) + " (expected: a lowercase DNS label)");
        }
        return value;
    }

    /**
     * Checks a domain a load balancer serves: a lowercase DNS name, optionally starting with "*.", or
     * "*" alone for any host.
     */
    public static String domain(@Nullable String value, String path) {
        required(value, path);
        if (value.length() > 253 || !value.equals("*") && !DOMAIN.matcher(value).matches()) {
            throw new ConfigValidationException(path, quote(value)
                    + " (expected: a lowercase DNS name, optionally starting with \"*.\", or \"*\")");
        }
        return value;
    }

    /** Checks a host name or IP literal (IPv6 without brackets). */
    public static String host(@Nullable String value, String path) {
        required(value, path);
        if (!HOST.matcher(value).matches()) {
            throw new ConfigValidationException(path, quote(value) + " (expected: a host name or IP address)");
        }
        return value;
    }

    /** Checks a TCP port in 1-65535. */
    public static int port(int value, String path) {
        if (value < 1 || value > 65535) {
            throw new ConfigValidationException(path, value + " (expected: 1-65535)");
        }
        return value;
    }

    /** Quotes a value for an error message. */
    public static String quote(@Nullable Object value) {
        return value == null ? "null" : "\"" + value + "\"";
    }

    /** Checks an int in {@code [min, max]}. */
    public static int range(int value, int min, int max, String path) {
        if (value < min || value > max) {
            throw new ConfigValidationException(path, value + " (expected: " + min + '-' + max + ')');
        }
        return value;
    }

    /** Checks a positive duration, no longer than {@code max}. */
    public static Duration positive(@Nullable Duration value, Duration max, String path) {
        required(value, path);
        if (value.isNegative() || value.isZero() || value.compareTo(max) > 0) {
            throw new ConfigValidationException(path, Durations.format(value) + " (expected: > 0 and <= "
                    + Durations.format(max) + ')');
        }
        return value;
    }

    /** Compiles a regular expression, or fails naming the field. */
    public static Pattern regex(@Nullable String value, String path) {
        required(value, path);
        try {
            return Pattern.compile(value);
        } catch (PatternSyntaxException e) {
            throw new ConfigValidationException(path, quote(value) + " (expected: a valid regex)");
        }
    }

    /**
     * Runs {@code build}; a validation failure of the nested value is rethrown with {@code prefix}
     * in front of its field path, so that a nested value reports the same problem whether it was built
     * alone or as part of an object.
     */
    public static <T> T nested(String prefix, Supplier<T> build) {
        try {
            return build.get();
        } catch (ConfigValidationException e) {
            throw prefixed(prefix, e);
        }
    }

    /** Returns a copy of {@code e} whose field path starts with {@code prefix}. */
    public static ConfigValidationException prefixed(String prefix, ConfigValidationException e) {
        if (prefix.isEmpty() || e instanceof DocumentFieldException) {
            return e;
        }
        String path = e.fieldPath().isEmpty() ? prefix : prefix + '.' + e.fieldPath();
        String message = String.valueOf(e.getMessage());
        String problem = e.fieldPath().isEmpty() ? message : message.substring(e.fieldPath().length() + 2);
        ConfigValidationException error = new ConfigValidationException(path, problem);
        error.initCause(e);
        return error;
    }
}
