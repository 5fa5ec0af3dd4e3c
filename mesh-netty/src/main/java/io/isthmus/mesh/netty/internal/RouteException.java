package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.jspecify.annotations.Nullable;

/** A request cannot be routed; carries the status to answer with. Has no stack trace (hot path). */
final class RouteException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String reason;
    private final String decision;
    private final @Nullable String location;
    private final boolean verbatim;

    /**
     * @param reason a short code for logs and metrics, e.g. {@code unknown_host}
     */
    RouteException(HttpResponseStatus status, String reason, String message) {
        this(status, reason, message, null, status.code() < 500 ? AccessRecord.DENIED : AccessRecord.FAILED, false);
    }

    private RouteException(HttpResponseStatus status, String reason, String message, @Nullable String location,
            String decision, boolean verbatim) {
        super(message, null, false);
        this.status = status;
        this.reason = reason;
        this.location = location;
        this.decision = decision;
        this.verbatim = verbatim;
    }

    /** A route's redirect: the status and the {@code Location}. */
    static RouteException redirect(int status, String location) {
        return new RouteException(HttpResponseStatus.valueOf(status), "redirect", "redirecting to " + location,
                location, AccessRecord.ROUTED, false);
    }

    /** A route's direct response: the status and the body, sent as given. */
    static RouteException direct(int status, String body) {
        return new RouteException(HttpResponseStatus.valueOf(status), "direct_response", body, null,
                AccessRecord.ROUTED, true);
    }

    /** @return the access-log decision: denied, failed, or routed for redirects and direct responses */
    String decision() {
        return decision;
    }

    /** @return the {@code Location} of a redirect, or {@code null} */
    @Nullable String location() {
        return location;
    }

    /** @return whether the message is the body as configured (a direct response), not a reason */
    boolean verbatim() {
        return verbatim;
    }

    String reason() {
        return reason;
    }

    HttpResponseStatus status() {
        return status;
    }
}
