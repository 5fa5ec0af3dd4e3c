package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a {@link ConfigStore}: reads a snapshot, watches from its revision and recompiles the
 * {@link RoutingTable} after every change. The hot path only reads {@link #current()}.
 */
public final class ConfigFollower implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(ConfigFollower.class);

    private final ConfigStore store;
    private final String localSite;
    private final Consumer<RoutingTable> onUpdate;
    private final Object lock = new Object();
    private final TreeMap<ObjectKey, Versioned<MeshObject>> objects = new TreeMap<>();
    private volatile RoutingTable current;
    private @Nullable ConfigWatch watch;
    private long revision;
    private boolean closed;

    public ConfigFollower(ConfigStore store, String localSite, Consumer<RoutingTable> onUpdate) {
        this.store = store;
        this.localSite = localSite;
        this.onUpdate = onUpdate;
        this.current = RoutingTable.empty(localSite);
    }

    /** Reads the store and starts watching it. */
    public void start() {
        resync();
    }

    /** @return the routing table compiled from the newest configuration seen */
    public RoutingTable current() {
        return current;
    }

    private void resync() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (watch != null) {
                watch.close();
            }
            ConfigSnapshot snapshot = store.snapshot();
            objects.clear();
            snapshot.objects().forEach(v -> objects.put(v.object().key(), v));
            revision = snapshot.revision();
            publish();
            watch = store.watch(snapshot.revision(), new ConfigListener() {
                @Override
                public void onEvent(ConfigEvent event) {
                    apply(event);
                }

                @Override
                public void onError(Throwable cause) {
                    logger.warn("config watch of site {} ended ({}); reading the store again", localSite,
                            cause.getMessage());
                    resync();
                }
            });
        }
    }

    private void apply(ConfigEvent event) {
        synchronized (lock) {
            if (closed || event.revision() <= revision) {
                return;
            }
            Versioned<MeshObject> object = event.object();
            if (event.type() == ConfigEvent.Type.DELETE || object == null) {
                objects.remove(event.key());
            } else {
                objects.put(event.key(), object);
            }
            revision = event.revision();
            publish();
        }
    }

    private void publish() {
        RoutingTable table = RoutingTable.compile(localSite, revision, objects.values(), current);
        current = table;
        onUpdate.accept(table);
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (watch != null) {
                watch.close();
            }
        }
    }
}
