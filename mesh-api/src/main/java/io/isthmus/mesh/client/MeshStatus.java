package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The state of a router daemon as its admin API reports it ({@code GET /v1/status}): its own site and
 * revisions, its tunnels and the routers it knows of. Immutable.
 *
 * @param site the daemon's site
 * @param routerId the daemon's router id
 * @param version the daemon's software version
 * @param appliedRevision the store revision of the configuration the router runs
 * @param storeRevision the store's current revision
 * @param state {@code READY}, {@code DEGRADED}, {@code STARTING} or {@code DRAINING}
 * @param tunnels the daemon's tunnels to other sites
 * @param routers the routers of the mesh the daemon knows of
 */
public record MeshStatus(String site, String routerId, String version, long appliedRevision, long storeRevision,
        String state, List<Tunnel> tunnels, List<Router> routers) {

    /**
     * Creates a status, copying the lists.
     *
     * @param site the daemon's site
     * @param routerId the daemon's router id
     * @param version the daemon's software version
     * @param appliedRevision the revision the router runs
     * @param storeRevision the store's current revision
     * @param state the daemon's state
     * @param tunnels the tunnels
     * @param routers the routers
     */
    public MeshStatus {
        requireNonNull(site, "site");
        requireNonNull(routerId, "routerId");
        requireNonNull(version, "version");
        requireNonNull(state, "state");
        tunnels = List.copyOf(requireNonNull(tunnels, "tunnels"));
        routers = List.copyOf(requireNonNull(routers, "routers"));
    }

    /**
     * One tunnel of the daemon to another site.
     *
     * @param site the remote site
     * @param state {@code UP}, {@code DOWN} or {@code CONNECTING}
     * @param peer the peer's SPIFFE id, empty when not connected
     * @param address the peer's address, empty when not connected
     */
    public record Tunnel(String site, String state, String peer, String address) {

        /**
         * Creates a tunnel entry.
         *
         * @param site the remote site
         * @param state the tunnel's state
         * @param peer the peer's SPIFFE id
         * @param address the peer's address
         */
        public Tunnel {
            requireNonNull(site, "site");
            requireNonNull(state, "state");
            requireNonNull(peer, "peer");
            requireNonNull(address, "address");
        }
    }

    /**
     * One router of the mesh, as last seen.
     *
     * @param site the router's site
     * @param routerId the router's id
     * @param version the router's software version
     * @param appliedRevision the store revision of the configuration it runs
     * @param lastSeen when it last reported, as the admin API gives it
     */
    public record Router(String site, String routerId, String version, long appliedRevision, String lastSeen) {

        /**
         * Creates a router entry.
         *
         * @param site the router's site
         * @param routerId the router's id
         * @param version the router's version
         * @param appliedRevision the revision it runs
         * @param lastSeen when it last reported
         */
        public Router {
            requireNonNull(site, "site");
            requireNonNull(routerId, "routerId");
            requireNonNull(version, "version");
            requireNonNull(lastSeen, "lastSeen");
        }
    }
}
