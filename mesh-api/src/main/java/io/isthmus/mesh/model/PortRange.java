package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import org.jspecify.annotations.Nullable;

/**
 * An inclusive range of TCP or UDP ports, written {@code 443} or {@code 8000-8080}. Immutable.
 */
public final class PortRange {

    private final int first;
    private final int last;

    private PortRange(int first, int last) {
        this.first = first;
        this.last = last;
    }

    /**
     * Returns the range of one port.
     *
     * @param port 1-65535
     * @return the range
     * @throws ConfigValidationException when the port is out of range
     */
    public static PortRange of(int port) {
        return of(port, port);
    }

    /**
     * Returns the ports from {@code first} to {@code last}, both included.
     *
     * @param first 1-65535
     * @param last {@code first}-65535
     * @return the range
     * @throws ConfigValidationException when a port is out of range or {@code last < first}
     */
    public static PortRange of(int first, int last) {
        if (first < 1 || first > 65535 || last < 1 || last > 65535 || last < first) {
            throw new ConfigValidationException("", Validation.quote(first == last ? "" + first : first + "-" + last)
                    + " (expected: a port or a range of ports in 1-65535, e.g. 443 or 8000-8080)");
        }
        return new PortRange(first, last);
    }

    /**
     * Parses {@code 443} or {@code 8000-8080}.
     *
     * @param text the port or range
     * @return the range
     * @throws ConfigValidationException when the text is not a port or a range in 1-65535
     */
    public static PortRange parse(String text) {
        requireNonNull(text, "text");
        int dash = text.indexOf('-');
        try {
            if (text.length() <= 11) {
                return dash < 0 ? of(number(text)) : of(number(text.substring(0, dash)), number(text.substring(dash + 1)));
            }
        } catch (NumberFormatException | ConfigValidationException e) {
            // reported below with the whole text
        }
        throw new ConfigValidationException("", Validation.quote(text)
                + " (expected: a port or a range of ports in 1-65535, e.g. 443 or 8000-8080)");
    }

    private static int number(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(text);
        }
        return Integer.parseInt(text);
    }

    /** @return the first port of the range */
    public int first() {
        return first;
    }

    /** @return the last port of the range, equal to {@link #first()} for one port */
    public int last() {
        return last;
    }

    /**
     * Returns whether a port lies in the range.
     *
     * @param port a port
     * @return {@code true} when {@code first <= port <= last}
     */
    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof PortRange && ((PortRange) o).first == first && ((PortRange) o).last == last;
    }

    @Override
    public int hashCode() {
        return first * 65536 + last;
    }

    /**
     * Returns the range as {@link #parse(String)} reads it: {@code 443} or {@code 8000-8080}.
     *
     * @return the text
     */
    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }
}
