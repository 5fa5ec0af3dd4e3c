package io.isthmus.mesh.daemon.internal;

import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.MeshValidator;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the objects of the mesh's store (the source: etcd, or the embedded store) into a local
 * in-memory store that the router follows.
 *
 * <p>Why a local copy: the router reads a store at start and then follows it. If it followed etcd
 * directly, a router that starts while etcd is down could not start at all. Following the local
 * copy, it starts on the last-good file and keeps serving; once the source is back, the mirror
 * reconciles the copy with a fresh snapshot and the router swaps tables as for any other change.
 *
 * <p>The local store counts its own revisions; this class remembers which source revision each
 * local revision stands for, so the daemon reports source revisions only. Thread-safe.
 */
public final class ConfigMirror implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(ConfigMirror.class);

    private final AtomicLong refused = new AtomicLong();

    private final ConfigStore source;
    private final ConfigStore local;
    private final Consumer<Throwable> onWatchError;
    private final ConcurrentSkipListMap<Long, Long> localToSource = new ConcurrentSkipListMap<>();
    private final Object lock = new Object();
    private @Nullable ConfigWatch watch;
    private volatile long sourceRevision = -1;
    private volatile boolean connected;
    private boolean closed;

    /**
     * Creates a mirror.
     *
     * @param source the mesh's store
     * @param local the store the router follows; only this mirror writes it
     * @param onWatchError told when the source watch ends; the caller reconnects
     */
    public ConfigMirror(ConfigStore source, ConfigStore local, Consumer<Throwable> onWatchError) {
        this.source = source;
        this.local = local;
        this.onWatchError = onWatchError;
    }

    /**
     * Reads a snapshot of the source, makes the local store equal to it and follows the source's changes.
     *
     * @throws io.isthmus.mesh.config.ConfigStoreException when the source cannot be read
     */
    public void connect() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            ConfigSnapshot snapshot = source.snapshot();
            if (watch != null) {
                watch.close();
                watch = null;
            }
            reconcile(snapshot.objects().stream().map(Versioned::object).toList(), snapshot.revision());
            watch = source.watch(snapshot.revision(), new ConfigListener() {
                @Override
                public void onEvent(ConfigEvent event) {
                    apply(event);
                }

                @Override
                public void onError(Throwable cause) {
                    connected = false;
                    onWatchError.accept(cause);
                }
            });
            connected = true;
        }
    }

    /**
     * Makes the local store hold exactly these objects, e.g. those of the last-good file.
     *
     * @param objects the objects
     * @param revision the source revision they stand for
     */
    public void load(List<MeshObject> objects, long revision) {
        synchronized (lock) {
            reconcile(objects, revision);
        }
    }

    private void reconcile(List<MeshObject> objects, long revision) {
        Map<ObjectKey, MeshObject> wanted = new HashMap<>();
        objects.forEach(o -> wanted.put(o.key(), o));
        List<ObjectKey> stale = new ArrayList<>();
        for (Versioned<MeshObject> have : local.snapshot().objects()) {
            if (!wanted.containsKey(have.object().key())) {
                stale.add(have.object().key());
            }
        }
        // Deleting in reverse write order and writing in write order never leaves a dangling reference.
        List<MeshObject> staleInWriteOrder = MeshValidator.inWriteOrder(
                stale.stream().map(key -> local.get(key).orElseThrow().object()).toList());
        for (int i = staleInWriteOrder.size() - 1; i >= 0; i--) {
            ObjectKey key = staleInWriteOrder.get(i).key();
            refuseInvalid(key, () -> local.delete(key));
        }
        for (MeshObject object : MeshValidator.inWriteOrder(objects)) {
            Optional<Versioned<MeshObject>> have = local.get(object.key());
            if (have.isEmpty() || !have.get().object().equals(object)) {
                refuseInvalid(object.key(), () -> local.put(object));
            }
        }
        record(revision);
    }

    private void apply(ConfigEvent event) {
        synchronized (lock) {
            if (closed || event.revision() <= sourceRevision) {
                return;
            }
            Versioned<MeshObject> object = event.object();
            if (event.type() == ConfigEvent.Type.DELETE || object == null) {
                refuseInvalid(event.key(), () -> local.delete(event.key()));
            } else {
                Optional<Versioned<MeshObject>> have = local.get(event.key());
                if (have.isEmpty() || !have.get().object().equals(object.object())) {
                    refuseInvalid(event.key(), () -> local.put(object.object()));
                }
            }
            record(event.revision());
        }
    }

    /**
     * Applies one change to the local copy unless it would break a reference between objects (a store
     * written to directly can hold such a state): the router keeps its last consistent configuration,
     * and the refusal is logged and counted.
     */
    private void refuseInvalid(ObjectKey key, Runnable change) {
        try {
            change.run();
        } catch (ConfigValidationException e) {
            refused.incrementAndGet();
            logger.warn("refused {} from the config store: {}", key, e.getMessage());
        }
    }

    /**
     * Returns how many changes from the store were refused because they would break a reference.
     *
     * @return the count since start
     */
    public long refusedChanges() {
        return refused.get();
    }

    private void record(long revision) {
        localToSource.put(local.revision(), revision);
        sourceRevision = revision;
        // Older entries are never asked for again once the router has moved past them.
        while (localToSource.size() > 1024) {
            localToSource.pollFirstEntry();
        }
    }

    /**
     * Returns the source revision that a local revision stands for.
     *
     * @param localRevision a revision of the local store, e.g. the router's applied revision
     * @return the source revision, or {@code -1} when nothing was mirrored yet
     */
    public long sourceRevisionOf(long localRevision) {
        Map.Entry<Long, Long> entry = localToSource.floorEntry(localRevision);
        return entry == null ? -1 : entry.getValue();
    }

    /** @return the newest source revision mirrored, {@code -1} before the first */
    public long sourceRevision() {
        return sourceRevision;
    }

    /** @return whether the mirror follows the source now */
    public boolean connected() {
        return connected;
    }

    /** Marks the source unreachable; the next {@link #connect()} reads it afresh. */
    public void disconnected() {
        if (connected) {
            logger.warn("config store {} unreachable: routing on the configuration of revision {}", source,
                    sourceRevision);
        }
        connected = false;
    }

    /**
     * Returns the local objects and the source revision they stand for, read consistently.
     *
     * @return the snapshot of the local store, with the source revision as its revision
     */
    public ConfigSnapshot localSnapshot() {
        synchronized (lock) {
            ConfigSnapshot snapshot = local.snapshot();
            return ConfigSnapshot.of(sourceRevision, snapshot.objects());
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            connected = false;
            if (watch != null) {
                watch.close();
                watch = null;
            }
        }
    }
}
