package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.netty.MeshRouterListener;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * The settings of one router, copied from its builder; immutable. Times are in milliseconds.
 */
public final class RouterSettings {

    final InetSocketAddress ingressAddress;
    final InetSocketAddress tunnelAddress;
    final int ioThreads;
    final int connectTimeoutMillis;
    final long responseTimeoutMillis;
    final long idleTimeoutMillis;
    final MeshRouterListener listener;
    final int maxInitialLineLength;
    final int maxHeaderSize;
    final int maxHeaderCount;
    final long requestHeaderTimeoutMillis;
    final int maxConnections;
    final int maxConcurrentStreams;
    final int tunnelConnectionsPerSite;
    final @Nullable Object meterRegistry;
    final long circuitOpenMillis;
    final int maxConnectionsPerOrigin;
    final int maxPendingRequestsPerOrigin;

    /** Copies the values of a router builder. */
    public RouterSettings(InetSocketAddress ingressAddress, InetSocketAddress tunnelAddress, int ioThreads,
            int connectTimeoutMillis, long responseTimeoutMillis, long idleTimeoutMillis, MeshRouterListener listener,
            int maxInitialLineLength, int maxHeaderSize, int maxHeaderCount, long requestHeaderTimeoutMillis,
            int maxConnections, int maxConcurrentStreams, int tunnelConnectionsPerSite,
            @Nullable Object meterRegistry, long circuitOpenMillis, int maxConnectionsPerOrigin,
            int maxPendingRequestsPerOrigin) {
        this.circuitOpenMillis = circuitOpenMillis;
        this.maxConnectionsPerOrigin = maxConnectionsPerOrigin;
        this.maxPendingRequestsPerOrigin = maxPendingRequestsPerOrigin;
        this.ingressAddress = ingressAddress;
        this.tunnelAddress = tunnelAddress;
        this.ioThreads = ioThreads;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.responseTimeoutMillis = responseTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.listener = listener;
        this.maxInitialLineLength = maxInitialLineLength;
        this.maxHeaderSize = maxHeaderSize;
        this.maxHeaderCount = maxHeaderCount;
        this.requestHeaderTimeoutMillis = requestHeaderTimeoutMillis;
        this.maxConnections = maxConnections;
        this.maxConcurrentStreams = maxConcurrentStreams;
        this.tunnelConnectionsPerSite = tunnelConnectionsPerSite;
        this.meterRegistry = meterRegistry;
    }
}
