package io.isthmus.mesh;

import org.jspecify.annotations.Nullable;

/**
 * The root of the small unchecked exception hierarchy every Isthmus module throws.
 *
 * <p>Subtypes name what went wrong precisely: {@link io.isthmus.mesh.config.ConfigValidationException}
 * carries the path of a bad field, {@link io.isthmus.mesh.pki.MeshIdentityException} the identity that
 * could not be accepted. Messages say who, where and what was expected.
 */
public class MeshException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, where, and what was expected
     */
    public MeshException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message what went wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public MeshException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /**
     * Creates an exception that may omit its stack trace; used on hot paths where the message alone
     * explains the failure (e.g. a firewall denial).
     *
     * @param message what went wrong
     * @param cause the underlying failure, if any
     * @param writableStackTrace whether to record a stack trace
     */
    protected MeshException(String message, @Nullable Throwable cause, boolean writableStackTrace) {
        super(message, cause, true, writableStackTrace);
    }
}
