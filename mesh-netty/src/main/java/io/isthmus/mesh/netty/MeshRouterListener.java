package io.isthmus.mesh.netty;

import io.isthmus.mesh.pki.SpiffeId;
import java.net.SocketAddress;

/**
 * Hears what a {@link MeshRouter} does with tunnels and configuration, e.g. to print progress or
 * feed a health check. Methods run on the router's threads (event loops): do not block.
 */
public interface MeshRouterListener {

    /**
     * A tunnel to or from another site passed its identity checks and carries HTTP/2.
     *
     * @param peer the verified identity of the other site's router
     * @param remoteAddress the other router's address
     * @param outbound {@code true} when this router dialled it
     */
    default void tunnelEstablished(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {}

    /**
     * An established tunnel closed.
     *
     * @param peer the identity of the other site's router
     * @param remoteAddress the other router's address
     * @param outbound {@code true} when this router had dialled it
     */
    default void tunnelClosed(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {}

    /**
     * A tunnel was refused: a failed TLS handshake or an identity that is not acceptable.
     *
     * @param remoteAddress the other side's address
     * @param reason why, naming the identity or certificate problem
     * @param outbound {@code true} when this router had dialled it
     */
    default void tunnelRejected(SocketAddress remoteAddress, String reason, boolean outbound) {}

    /**
     * A new configuration became live.
     *
     * @param revision the config store revision now routed by
     */
    default void configApplied(long revision) {}
}
