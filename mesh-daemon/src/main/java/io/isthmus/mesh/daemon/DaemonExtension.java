package io.isthmus.mesh.daemon;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.netty.MeshRouter;

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
 */
public interface DaemonExtension extends AutoCloseable {

    /**
     * Starts the extension; called once the router runs. Must not block for long.
     *
     * @param store the mesh's config store
     * @param router the running router
     * @param config the daemon's settings
     */
    void start(ConfigStore store, MeshRouter router, DaemonConfig config);

    /** Stops the extension; called before the router closes. */
    @Override
    default void close() {}
}
