package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.netty.handler.codec.http.HttpResponseStatus;

/** A request cannot be routed; carries the status to answer with. Has no stack trace (hot path). */
final class RouteException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;

    RouteException(HttpResponseStatus status, String message) {
        super(message, null, false);
        this.status = status;
    }

    HttpResponseStatus status() {
        return status;
    }
}
