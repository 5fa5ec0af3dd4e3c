package io.isthmus.mesh.daemon;

/** The state a router daemon reports in {@code /v1/status}. */
public enum DaemonState {
    /** No configuration is live yet: neither the store nor a last-good file could be read. */
    STARTING,
    /** Routing on the store's configuration and following its changes. */
    READY,
    /** Routing on the last configuration it had (e.g. from the last-good file) while the store is unreachable. */
    DEGRADED,
    /** Shutting down: readiness reports 503, the listeners close next. */
    DRAINING
}
