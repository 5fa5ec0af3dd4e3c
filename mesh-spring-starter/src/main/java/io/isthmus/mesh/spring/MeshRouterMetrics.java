package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds the embedded router's figures to the registry Spring Boot passes:
 * {@code isthmus.router.tunnels} (gauge, tag {@code direction=inbound|outbound}),
 * {@code isthmus.router.tunnels.rejected} (counter) and {@code isthmus.router.config.revision}
 * (gauge), each tagged with {@code site}.
 *
 * <pre>{@code
 * new MeshRouterMetrics("tokyo", status).bindTo(registry);
 * }</pre>
 */
public final class MeshRouterMetrics implements MeterBinder {

    private final String site;
    private final MeshRouterStatus status;

    /**
     * Creates the binder.
     *
     * @param site the router's site, used as a tag
     * @param status what the router reported
     */
    public MeshRouterMetrics(String site, MeshRouterStatus status) {
        this.site = requireNonNull(site, "site");
        this.status = requireNonNull(status, "status");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("isthmus.router.tunnels", status, MeshRouterStatus::inboundTunnels)
                .tag("site", site).tag("direction", "inbound")
                .description("Open tunnels other sites' routers dialled")
                .register(registry);
        Gauge.builder("isthmus.router.tunnels", status, MeshRouterStatus::outboundTunnels)
                .tag("site", site).tag("direction", "outbound")
                .description("Open tunnels this router dialled")
                .register(registry);
        FunctionCounter.builder("isthmus.router.tunnels.rejected", status, MeshRouterStatus::rejectedTunnels)
                .tag("site", site)
                .description("Tunnels refused: failed handshakes or unacceptable identities")
                .register(registry);
        Gauge.builder("isthmus.router.config.revision", status, MeshRouterStatus::appliedRevision)
                .tag("site", site)
                .description("Config store revision of the routing table in use")
                .register(registry);
    }
}
