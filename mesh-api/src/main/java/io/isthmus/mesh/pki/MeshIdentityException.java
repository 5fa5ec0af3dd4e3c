package io.isthmus.mesh.pki;

import io.isthmus.mesh.MeshException;
import org.jspecify.annotations.Nullable;

/**
 * An identity could not be accepted or loaded: a certificate from another CA, an expired one, a
 * missing or ambiguous SPIFFE id, a key that does not match its certificate. The message names the
 * certificate or identity and what was expected.
 */
public class MeshIdentityException extends MeshException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was wrong with which identity, and what was expected
     */
    public MeshIdentityException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what was wrong with which identity, and what was expected
     * @param cause the underlying failure
     */
    public MeshIdentityException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
