package io.isthmus.mesh.snapshot;

import org.jspecify.annotations.Nullable;

/**
 * Reads a request header for route matching, without copying the request's headers.
 *
 * <pre>{@code
 * HeaderLookup headers = name -> nettyHeaders.get(name);   // Netty's lookup ignores case
 * HeaderLookup none = HeaderLookup.NONE;
 * }</pre>
 */
@FunctionalInterface
public interface HeaderLookup {

    /** A request without headers. */
    HeaderLookup NONE = name -> null;

    /**
     * Returns the first value of a header.
     *
     * @param lowerCaseName the header name, lower case
     * @return the value, or {@code null} when the request has no such header
     */
    @Nullable CharSequence header(String lowerCaseName);
}
