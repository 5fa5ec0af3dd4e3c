package io.isthmus.mesh.internal;

import io.isthmus.mesh.config.ConfigValidationException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes durations in documents: {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h} or ISO-8601. */
public final class Durations {

    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    private Durations() {}

    /** Parses a duration, failing with the field path. */
    public static Duration parse(String text, String path) {
        Matcher m = SHORT.matcher(text);
        if (m.matches()) {
            long amount = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    return Duration.ofMillis(amount);
                case "s":
                    return Duration.ofSeconds(amount);
                case "m":
                    return Duration.ofMinutes(amount);
                default:
                    return Duration.ofHours(amount);
            }
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new ConfigValidationException(path, Validation.quote(text)
                    + " (expected: a duration such as 250ms, 5s, 2m, 1h or PT1.5S)");
        }
    }

    /** Formats a duration in the shortest exact form {@link #parse} reads back. */
    public static String format(Duration d) {
        if (d.isNegative() || d.getNano() % 1_000_000 != 0) {
            return d.toString();
        }
        long millis = d.toMillis();
        if (millis % 3_600_000 == 0 && millis != 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0 && millis != 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1000 == 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }
}
