package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.netty.handler.codec.http.HttpResponseStatus;

/** A request cannot be routed; carries the status to answer with. Has no stack trace (hot path). */
final class RouteException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String reason;

    /**
     * @param reason a short code for logs and metrics, e.g. {@code unknown_host}
     */
    RouteException(HttpResponseStatus status, String reason, String message) {
        super(message, null, false);
        this.status = status;
        this.reason = reason;
    }

    String reason() {
        return reason;
    }

    HttpResponseStatus status() {
        return status;
    }
}
