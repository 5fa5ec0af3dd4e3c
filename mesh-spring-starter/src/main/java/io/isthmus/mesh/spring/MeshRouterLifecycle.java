package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import java.util.List;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the embedded {@link MeshRouter} with the application context and closes it when the
 * context stops; optionally writes the router's site, with its tunnel endpoint, to the store once it
 * listens so that other sites can dial it.
 *
 * <p>Runs in an early phase ({@link #PHASE}): the router accepts calls before web servers and
 * message listeners start, and outlives them at shutdown. A router cannot be restarted once stopped.
 * A {@code MeshRouter} bean the application defines itself must be left unstarted: this lifecycle
 * starts it.
 */
public final class MeshRouterLifecycle implements SmartLifecycle {

    /** The phase of the router: before the default phase of web servers. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final MeshRouter router;
    private final ConfigStore store;
    private final boolean registerSite;
    private volatile boolean running;

    /**
     * Creates the lifecycle of a router that is not started yet.
     *
     * @param router the router; this lifecycle starts and closes it
     * @param store the store to register the site in
     * @param registerSite whether to write the router's site to {@code store} once it listens
     */
    public MeshRouterLifecycle(MeshRouter router, ConfigStore store, boolean registerSite) {
        this.router = requireNonNull(router, "router");
        this.store = requireNonNull(store, "store");
        this.registerSite = registerSite;
    }

    @Override
    public void start() {
        router.start();
        running = true;
        if (registerSite) {
            Site current = store.get(Site.of(router.site()).key())
                    .map(v -> (Site) v.object())
                    .orElseGet(() -> Site.of(router.site()));
            store.put(current.withTunnelEndpoints(List.of(router.tunnelEndpoint())));
        }
    }

    @Override
    public void stop() {
        running = false;
        router.close();
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
