package io.isthmus.mesh.client;

import io.isthmus.mesh.config.ConfigStoreException;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * A call to a router daemon's admin API failed: the server could not be reached or refused the
 * request. The message names the URL and what went wrong, e.g. {@code cannot connect to
 * https://10.0.0.5:9443/v1/status: connection refused} or {@code GET https://…/v1/sites: HTTP 401
 * unauthorised: missing bearer token}.
 *
 * <p>{@link #status()} is the HTTP status of the refusal, or {@code 0} when no response was received
 * (connection refused, TLS failure, time-out). Validation failures (HTTP 422) are thrown as
 * {@link io.isthmus.mesh.config.ConfigValidationException} and compare-and-set conflicts of one object
 * (HTTP 409) as {@link io.isthmus.mesh.config.ConfigConflictException} instead.
 */
public class MeshAdminException extends ConfigStoreException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient URI uri;

    /**
     * Creates the exception.
     *
     * @param message what failed, naming the URL
     * @param status the HTTP status, or {@code 0} when no response was received
     * @param uri the URL of the request
     * @param cause the underlying failure, if any
     */
    public MeshAdminException(String message, int status, URI uri, @Nullable Throwable cause) {
        super(message, cause);
        this.status = status;
        this.uri = uri;
    }

    /** @return the HTTP status of the refusal, or {@code 0} when no response was received */
    public int status() {
        return status;
    }

    /** @return the URL of the failed request */
    public URI uri() {
        return uri;
    }

    /** @return whether no response was received (the server is unreachable or TLS failed) */
    public boolean isTransportFailure() {
        return status == 0;
    }

    /** @return whether the server refused the credentials (HTTP 401) or the role (HTTP 403) */
    public boolean isAuthenticationFailure() {
        return status == 401 || status == 403;
    }
}
