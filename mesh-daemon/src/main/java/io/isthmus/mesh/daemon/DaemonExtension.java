package io.isthmus.mesh.daemon;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.netty.MeshRouter;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An integration the daemon starts beside its router, e.g. Kubernetes (surfacing remote services as
 * local Services, discovering origin endpoints). {@link DaemonMain} finds implementations with
 * {@link java.util.ServiceLoader}; {@link RouterDaemon#start(DaemonConfig, java.util.List)} takes them
 * directly.
 *
 * <pre>{@code
 * public final class KubernetesExtension implements DaemonExtension {
 *     public void start(ConfigStore store, MeshRouter router, DaemonConfig config) { ... }
 *     public void close() { ... }
 * }
 * // META-INF/services/io.isthmus.mesh.daemon.DaemonExtension lists the class
 * }</pre>
 *
 * <p>An extension reports its health through {@link #notReadyReason()} (a reason keeps the daemon's
 * {@code /readyz} at 503) and {@link #status()} (shown under {@code extensions.<name>} in
 * {@code /v1/status}); both are called from admin API threads and must not block. The daemon's own
 * extension {@code kubernetes} is enabled by {@link DaemonConfig#kubernetesEnabled()}.
 */
public interface DaemonExtension extends AutoCloseable {

    /**
     * Adjusts the router before it is built, e.g. plugs in an
     * {@link io.isthmus.mesh.netty.EndpointResolver}; called once, before {@link #start}. The default
     * does nothing.
     *
     * @param router the builder of the daemon's router
     * @param config the daemon's settings
     */
    default void configure(MeshRouter.Builder router, DaemonConfig config) {}

    /**
     * Starts the extension; called once the router runs. Must not block for long.
     *
     * @param store the mesh's config store
     * @param router the running router
     * @param config the daemon's settings
     */
    void start(ConfigStore store, MeshRouter router, DaemonConfig config);

    /**
     * Returns the extension's name in {@code /v1/status}.
     *
     * @return the name (default: the class's simple name)
     */
    default String name() {
        return getClass().getSimpleName();
    }

    /**
     * Returns why the daemon should not be ready yet because of this extension; called only after
     * {@link #start} returned.
     *
     * @return the reason, or {@code null} when the extension does not hold readiness back (the default)
     */
    default @Nullable String notReadyReason() {
        return null;
    }

    /**
     * Returns what {@code /v1/status} shows for the extension: values that map to JSON (strings,
     * numbers, booleans, lists and maps of them).
     *
     * @return the status; empty (the default) to show nothing
     */
    default Map<String, Object> status() {
        return Map.of();
    }

    /** Stops the extension; called before the router closes. */
    @Override
    default void close() {}
}
