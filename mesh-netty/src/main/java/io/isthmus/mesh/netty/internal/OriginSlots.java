package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * The connections one event loop has open to one origin endpoint, in use, idle or being opened, and
 * the requests of that loop waiting for one (Envoy's max connections and max pending requests, per
 * endpoint). Beyond both limits a request is refused at once with 503 {@code origin_overloaded}.
 *
 * <p>The limits are per event loop, each loop getting an even share of the router's: a connection
 * belongs to the loop that opened it and only carries that loop's requests, so a waiting request can
 * only ever be served by its own loop's connections; one loop's share is exact without locks or
 * cross-thread hand-offs on the request path, and the shares never add up to more than the router's
 * limits. The price is a 503 on a loop that is busier than the others while another still has room;
 * connections are spread over the loops round robin, so their loads are alike.
 *
 * <p>Confined to its event loop.
 */
final class OriginSlots {

    /** Reason code of a request refused because the endpoint's connections and queue are full. */
    static final String OVERLOADED = "origin_overloaded";

    private final Endpoint endpoint;
    private final OriginLimits limits;
    /** Connections open or being opened by this loop. */
    private int open;
    private final ArrayDeque<Promise<UpstreamLink>> waiting = new ArrayDeque<>();
    /** Open connections without an exchange, the most recently used last. */
    final ArrayDeque<UpstreamHandler> idle = new ArrayDeque<>();
    /** Requests of this loop routed to the endpoint and not yet answered (for least-request balancing). */
    int inFlight;

    OriginSlots(Endpoint endpoint, OriginLimits limits) {
        this.endpoint = endpoint;
        this.limits = limits;
    }

    /** Whether another connection may be opened. */
    boolean mayOpen() {
        return open < limits.connectionsPerLoop;
    }

    /** Counts a connection being opened; {@link #closed()} gives the slot back. */
    void opening() {
        open++;
    }

    /** A connection of this loop closed (or failed to open): its slot is free again. */
    void closed() {
        open--;
    }

    /** Queues a request for the next free connection, or returns {@code false} when the queue is full. */
    boolean await(Promise<UpstreamLink> promise) {
        if (waiting.size() >= limits.pendingPerLoop) {
            return false;
        }
        waiting.add(promise);
        // A request that gives up waiting (its client left) frees its place at once.
        promise.addListener(f -> {
            if (f.isCancelled()) {
                waiting.remove(promise);
            }
        });
        return true;
    }

    /** The request that has waited longest and still waits, removed from the queue; {@code null} if none. */
    @Nullable Promise<UpstreamLink> nextWaiting() {
        Promise<UpstreamLink> p;
        while ((p = waiting.poll()) != null) {
            if (!p.isDone()) {
                return p;
            }
        }
        return null;
    }

    /**
     * Takes back a connection after its exchange: it serves the request that has waited longest, or
     * waits idle for the next one; it is closed when not {@code reusable} or no longer open.
     */
    void release(UpstreamHandler connection, boolean reusable) {
        if (!reusable || !connection.isActive()) {
            connection.channel().close();
            return;
        }
        Promise<UpstreamLink> next = nextWaiting();
        if (next != null && next.trySuccess(connection)) {
            return;
        }
        idle.addLast(connection);
    }

    /** Whether a new request would be refused: every connection taken, none idle, the queue full. */
    boolean full() {
        return idle.isEmpty() && !mayOpen() && waiting.size() >= limits.pendingPerLoop;
    }

    /** The 503 for a request beyond both limits; no stack trace (hot path). */
    RouteException overloaded(String pool) {
        return new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, OVERLOADED, "origin " + endpoint
                + " of origin pool " + pool + " is overloaded: " + open + " connections open and " + waiting.size()
                + " requests waiting on this I/O thread (limits per I/O thread: " + limits.connectionsPerLoop
                + " connections, " + limits.pendingPerLoop + " waiting; per router: maxConnectionsPerOrigin "
                + limits.connections + ", maxPendingRequestsPerOrigin " + limits.pending + ")");
    }

    int open() {
        return open;
    }

    int waiting() {
        return waiting.size();
    }
}
