package io.isthmus.mesh.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.MeshValidator;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link ConfigStore}: a sorted map guarded by one lock, with a bounded history of
 * events so that watchers can resume from a recent revision. Listeners run on one daemon thread per
 * store, in revision order. Every write is checked with {@link MeshValidator} against the objects held,
 * under the same lock, so a write that breaks a reference is rejected and changes nothing.
 */
public final class InMemoryConfigStore implements ConfigStore {

    private static final Logger logger = LoggerFactory.getLogger(InMemoryConfigStore.class);

    /** How many past events are kept for watchers that resume from an older revision. */
    static final int HISTORY_LIMIT = 10_000;

    private final Object lock = new Object();
    private final TreeMap<ObjectKey, Versioned<MeshObject>> objects = new TreeMap<>();
    private final Deque<ConfigEvent> history = new ArrayDeque<>();
    private final Set<Watch> watches = new CopyOnWriteArraySet<>();
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "isthmus-config-notifier");
        t.setDaemon(true);
        return t;
    });
    private long revision;
    private volatile boolean closed;

    @Override
    public long revision() {
        synchronized (lock) {
            return revision;
        }
    }

    @Override
    public Optional<Versioned<MeshObject>> get(ObjectKey key) {
        requireNonNull(key, "key");
        synchronized (lock) {
            return Optional.ofNullable(objects.get(key));
        }
    }

    @Override
    public List<Versioned<MeshObject>> list(Kind kind) {
        requireNonNull(kind, "kind");
        synchronized (lock) {
            List<Versioned<MeshObject>> result = new ArrayList<>();
            for (Versioned<MeshObject> v : objects.values()) {
                if (v.object().kind() == kind) {
                    result.add(v);
                }
            }
            return result;
        }
    }

    @Override
    public ConfigSnapshot snapshot() {
        synchronized (lock) {
            return ConfigSnapshot.of(revision, new ArrayList<>(objects.values()));
        }
    }

    @Override
    public Versioned<MeshObject> put(MeshObject object) {
        return write(object, -1);
    }

    @Override
    public Versioned<MeshObject> update(MeshObject object, long expectedModRevision) {
        return write(object, expectedModRevision);
    }

    private Versioned<MeshObject> write(MeshObject object, long expected) {
        requireNonNull(object, "object");
        ensureOpen();
        synchronized (lock) {
            Versioned<MeshObject> old = objects.get(object.key());
            long actual = old == null ? 0 : old.modRevision();
            if (expected >= 0 && expected != actual) {
                throw new ConfigConflictException(object.key(), expected, actual);
            }
            MeshValidator.checkPut(object, currentObjects());
            long rev = ++revision;
            Versioned<MeshObject> stored = Versioned.of(object, old == null ? rev : old.createRevision(), rev);
            objects.put(object.key(), stored);
            publish(ConfigEvent.put(stored));
            return stored;
        }
    }

    @Override
    public boolean delete(ObjectKey key) {
        return remove(key, -1);
    }

    @Override
    public void delete(ObjectKey key, long expectedModRevision) {
        remove(key, expectedModRevision);
    }

    private boolean remove(ObjectKey key, long expected) {
        requireNonNull(key, "key");
        ensureOpen();
        synchronized (lock) {
            Versioned<MeshObject> old = objects.get(key);
            long actual = old == null ? 0 : old.modRevision();
            if (expected >= 0 && (expected != actual || old == null)) {
                throw new ConfigConflictException(key, expected, actual);
            }
            if (old == null) {
                return false;
            }
            MeshValidator.checkDelete(key, currentObjects());
            objects.remove(key);
            publish(ConfigEvent.delete(key, ++revision));
            return true;
        }
    }

    // Called with the lock held.
    private List<MeshObject> currentObjects() {
        List<MeshObject> current = new ArrayList<>(objects.size());
        objects.values().forEach(v -> current.add(v.object()));
        return current;
    }

    // Called with the lock held, so events enter the notifier queue in revision order.
    private void publish(ConfigEvent event) {
        history.addLast(event);
        if (history.size() > HISTORY_LIMIT) {
            history.removeFirst();
        }
        for (Watch watch : watches) {
            watch.enqueue(event);
        }
    }

    @Override
    public ConfigWatch watch(long afterRevision, ConfigListener listener) {
        requireNonNull(listener, "listener");
        ensureOpen();
        synchronized (lock) {
            Watch watch = new Watch(listener);
            ConfigEvent oldest = history.peekFirst();
            if (afterRevision < revision && (oldest == null || oldest.revision() > afterRevision + 1)) {
                watch.fail(new ConfigStoreException("watch from revision " + afterRevision
                        + " (expected: at least " + (oldest == null ? revision : oldest.revision() - 1)
                        + "; older revisions were compacted)", null));
                return watch;
            }
            for (ConfigEvent event : history) {
                if (event.revision() > afterRevision) {
                    watch.enqueue(event);
                }
            }
            watches.add(watch);
            return watch;
        }
    }

    @Override
    public void close() {
        closed = true;
        watches.forEach(Watch::close);
        notifier.shutdown();
    }

    private void ensureOpen() {
        if (closed) {
            throw new ConfigStoreException("in-memory config store: closed", null);
        }
    }

    private final class Watch implements ConfigWatch {

        private final ConfigListener listener;
        private volatile boolean active = true;

        Watch(ConfigListener listener) {
            this.listener = listener;
        }

        void enqueue(ConfigEvent event) {
            submit(() -> listener.onEvent(event));
        }

        void fail(Throwable cause) {
            submit(() -> listener.onError(cause));
        }

        private void submit(Runnable task) {
            try {
                notifier.execute(() -> {
                    if (!active) {
                        return;
                    }
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        logger.warn("config listener {} failed", listener, e);
                    }
                });
            } catch (RejectedExecutionException e) {
                active = false;
            }
        }

        @Override
        public void close() {
            active = false;
            watches.remove(this);
        }
    }
}
