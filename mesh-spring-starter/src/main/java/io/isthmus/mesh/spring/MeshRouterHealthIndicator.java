package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.netty.MeshRouter;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of the embedded router: {@code DOWN} while it is not running; otherwise {@code UP}, with
 * the open and refused tunnels, the configuration revision in use and whether the store answers.
 * An unreachable store leaves the status {@code UP} with {@code store: unreachable}: the router keeps
 * routing on its last configuration, so the application is degraded, not dead.
 *
 * <p>Each call reads the store once; the tunnel figures come from {@link MeshRouterStatus}.
 */
public final class MeshRouterHealthIndicator implements HealthIndicator {

    private final MeshRouter router;
    private final MeshRouterLifecycle lifecycle;
    private final MeshRouterStatus status;
    private final MeshClient client;

    /**
     * Creates the indicator.
     *
     * @param router the embedded router
     * @param lifecycle the lifecycle that runs it
     * @param status what the router reported
     * @param client the client over the router's store
     */
    public MeshRouterHealthIndicator(MeshRouter router, MeshRouterLifecycle lifecycle, MeshRouterStatus status,
            MeshClient client) {
        this.router = requireNonNull(router, "router");
        this.lifecycle = requireNonNull(lifecycle, "lifecycle");
        this.status = requireNonNull(status, "status");
        this.client = requireNonNull(client, "client");
    }

    @Override
    public Health health() {
        if (!lifecycle.isRunning()) {
            return Health.down().withDetail("site", router.site()).withDetail("router", "not running").build();
        }
        Health.Builder health = Health.up()
                .withDetail("site", router.site())
                .withDetail("ingress", client.ingress().toString())
                .withDetail("tunnel", router.tunnelEndpoint().toString())
                .withDetail("inboundTunnels", status.inboundTunnels())
                .withDetail("outboundTunnels", status.outboundTunnels())
                .withDetail("rejectedTunnels", status.rejectedTunnels())
                .withDetail("appliedRevision", router.appliedRevision());
        try {
            health.withDetail("storeRevision", client.store().revision()).withDetail("store", "reachable");
        } catch (RuntimeException e) {
            health.withDetail("store", "unreachable: " + e.getMessage());
        }
        return health.build();
    }
}
