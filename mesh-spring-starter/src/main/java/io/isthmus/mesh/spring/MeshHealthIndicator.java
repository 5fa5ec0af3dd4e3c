package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of an application in daemon mode: {@code UP} while the mesh's store answers through the
 * client, {@code DOWN} with the error otherwise. Details: the ingress and the store revision.
 *
 * <p>Embedded mode uses {@link MeshRouterHealthIndicator} instead. Each call reads the store once.
 */
public final class MeshHealthIndicator implements HealthIndicator {

    private final MeshClient client;

    /**
     * Creates the indicator.
     *
     * @param client the client to check
     */
    public MeshHealthIndicator(MeshClient client) {
        this.client = requireNonNull(client, "client");
    }

    @Override
    public Health health() {
        try {
            long revision = client.store().revision();
            return Health.up().withDetail("ingress", client.ingress().toString()).withDetail("revision", revision)
                    .build();
        } catch (RuntimeException e) {
            return Health.down(e).withDetail("store", "unreachable").build();
        }
    }
}
