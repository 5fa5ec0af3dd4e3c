package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Writes the mesh objects declared as beans ({@code Site}, {@code OriginPool}, {@code LoadBalancer})
 * to the mesh's store when the context starts, sites first, then pools, then load balancers, so
 * that an application can declare what it serves and calls:
 *
 * <pre>{@code
 * @Bean
 * OriginPool ordersPool() {
 *     return OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", 8081)).build();
 * }
 * }</pre>
 *
 * <p>Applies when {@code isthmus.register-beans=true}. Runs after the embedded router started
 * ({@link #PHASE}); a write the store rejects fails the start-up with the store's message.
 */
public final class MeshObjectRegistrar implements SmartLifecycle {

    /** The phase of the registration: after {@link MeshRouterLifecycle#PHASE}. */
    public static final int PHASE = MeshRouterLifecycle.PHASE + 1;

    private static final Logger logger = LoggerFactory.getLogger(MeshObjectRegistrar.class);

    private final MeshClient client;
    private final List<MeshObject> objects;
    private volatile boolean running;

    /**
     * Creates a registrar.
     *
     * @param client the client whose store receives the objects
     * @param objects the objects to write
     */
    public MeshObjectRegistrar(MeshClient client, List<MeshObject> objects) {
        this.client = requireNonNull(client, "client");
        this.objects = List.copyOf(requireNonNull(objects, "objects"));
    }

    @Override
    public void start() {
        List<MeshObject> ordered = objects.stream()
                .sorted(Comparator.comparingInt(MeshObjectRegistrar::rank))
                .toList();
        for (MeshObject object : ordered) {
            client.store().put(object);
            logger.info("Registered {} in the mesh", object.key());
        }
        running = true;
    }

    private static int rank(MeshObject object) {
        Kind kind = object.kind();
        return switch (kind) {
            case SITE -> 0;
            case ORIGIN_POOL, SERVICE_POLICY -> 1;
            case LOAD_BALANCER -> 2;
            case NETWORK_FIREWALL -> 3;
        };
    }

    @Override
    public void stop() {
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
