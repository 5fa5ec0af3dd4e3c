package io.isthmus.mesh.netty.internal;

/**
 * Where the router reports what it measures. The Micrometer implementation is used only when the
 * caller passed a registry, so Micrometer stays an optional dependency.
 */
interface RouterMetrics {

    /** Reports nothing. */
    RouterMetrics NOOP = new RouterMetrics() {};

    /** A request ended: routed, denied or failed. Runs on the request's event loop. */
    default void requestEnded(AccessRecord record) {}

    /** A connection of a TCP load balancer ended: routed, denied or failed. */
    default void tcpConnectionEnded(AccessRecord record) {}

    /** Called once the listeners and tunnel client exist, to register gauges that read them. */
    default void bind(RouterRuntime runtime) {}

    /** Releases the meters. */
    default void close() {}
}
