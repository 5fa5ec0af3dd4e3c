package io.isthmus.mesh.model;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What {@link LoadBalancingAlgorithm#CONSISTENT_HASH} hashes to pick an origin: a header, a cookie
 * or the client's IP address.
 *
 * <pre>{@code
 * HashKey.header("x-user-id");
 * HashKey.cookie("session");
 * HashKey.sourceIp();
 * }</pre>
 *
 * @param type what is hashed
 * @param name the header or cookie name; {@code null} for the source IP
 */
public record HashKey(Type type, @Nullable String name) {

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}");

    /** What is hashed. */
    public enum Type {
        /** A request header. */
        HEADER,
        /** A cookie. */
        COOKIE,
        /** The client's IP address. */
        SOURCE_IP
    }

    /**
     * Validates the name.
     *
     * @param type what is hashed
     * @param name the header or cookie name
     */
    public HashKey {
        Validation.required(type, "type");
        if (type == Type.SOURCE_IP) {
            if (name != null) {
                throw new ConfigValidationException("name", Validation.quote(name) + " (expected: none for the source IP)");
            }
        } else if (name == null || !TOKEN.matcher(name).matches()) {
            throw new ConfigValidationException("name", Validation.quote(name)
                    + " (expected: a " + (type == Type.HEADER ? "header" : "cookie") + " name)");
        }
    }

    /**
     * Hashes a header.
     *
     * @param name the header name
     * @return the key
     */
    public static HashKey header(String name) {
        return new HashKey(Type.HEADER, name);
    }

    /**
     * Hashes a cookie.
     *
     * @param name the cookie name
     * @return the key
     */
    public static HashKey cookie(String name) {
        return new HashKey(Type.COOKIE, name);
    }

    /**
     * Hashes the client's IP address.
     *
     * @return the key
     */
    public static HashKey sourceIp() {
        return new HashKey(Type.SOURCE_IP, null);
    }
}
