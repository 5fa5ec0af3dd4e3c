package io.isthmus.mesh.netty.internal;

/**
 * The router's limits per origin endpoint and each event loop's share of them (see {@link
 * OriginSlots}): the router's values divided by the number of loops, rounded down, with at least one
 * connection per loop.
 */
final class OriginLimits {

    /** The router's limits, as configured. */
    final int connections;
    final int pending;
    final int connectionsPerLoop;
    final int pendingPerLoop;

    OriginLimits(int connections, int pending, int loops) {
        this.connections = connections;
        this.pending = pending;
        this.connectionsPerLoop = Math.max(1, connections / loops);
        this.pendingPerLoop = pending / loops;
    }
}
