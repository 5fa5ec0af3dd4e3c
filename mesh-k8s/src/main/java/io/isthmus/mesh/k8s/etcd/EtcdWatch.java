package io.isthmus.mesh.k8s.etcd;

import static io.isthmus.mesh.k8s.etcd.EtcdKeys.bytes;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watch of a store's prefix. Each connection to etcd is an {@link Attempt}: when one breaks, the
 * watch closes it and opens the next from the last revision it delivered, so jetcd's own retry (which
 * resumes from a revision it may have advanced past undelivered events) never comes into play, and
 * callbacks of a replaced attempt are ignored.
 *
 * <p>Everything but {@link #close()} runs on the store's notifier thread, which also calls the
 * listener: that thread owns {@link #lastRevision} and {@link #current}.
 */
final class EtcdWatch implements ConfigWatch {

    private static final Logger logger = LoggerFactory.getLogger(EtcdWatch.class);

    private static final long FIRST_RETRY_MILLIS = 250;
    private static final long MAX_RETRY_MILLIS = 5_000;

    private final EtcdConfigStore store;
    private final ConfigListener listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private long lastRevision;
    private int failures;
    private @Nullable Attempt current;

    EtcdWatch(EtcdConfigStore store, long afterRevision, ConfigListener listener) {
        this.store = store;
        this.lastRevision = afterRevision;
        this.listener = listener;
    }

    void start() {
        run(this::connect);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            store.removed(this);
            // On the notifier, so that it cannot race with connect().
            if (!run(this::disconnect)) {
                disconnect();
            }
        }
    }

    private void connect() {
        if (closed.get()) {
            return;
        }
        Attempt attempt = new Attempt();
        current = attempt;
        WatchOption option = WatchOption.builder()
                .isPrefix(true)
                .withRevision(lastRevision + 1)
                .build();
        try {
            attempt.watcher = store.client().getWatchClient().watch(bytes(store.keys().all()), option, attempt);
        } catch (RuntimeException e) {
            failed(attempt, e);
        }
    }

    private void disconnect() {
        Attempt attempt = current;
        current = null;
        if (attempt != null) {
            attempt.close();
        }
    }

    private void deliver(Attempt attempt, WatchResponse response) {
        if (attempt != current || closed.get()) {
            return;
        }
        if (failures > 0) {
            logger.info("{}: watch resumed after revision {}", store.describe(), lastRevision);
            failures = 0;
        }
        // Every event of one revision comes in one response; skip whole revisions already delivered.
        long delivered = lastRevision;
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            long revision = kv.getModRevision();
            if (revision <= delivered) {
                continue;
            }
            lastRevision = Math.max(lastRevision, revision);
            ConfigEvent change = toConfigEvent(event);
            if (change == null) {
                continue;
            }
            if (closed.get()) {
                return;
            }
            try {
                listener.onEvent(change);
            } catch (RuntimeException e) {
                logger.warn("{}: config listener {} failed on {}", store.describe(), listener, change, e);
            }
        }
    }

    private @Nullable ConfigEvent toConfigEvent(WatchEvent event) {
        KeyValue kv = event.getKeyValue();
        switch (event.getEventType()) {
            case PUT:
                Versioned<MeshObject> object = store.decode(kv);
                return object == null ? null : ConfigEvent.put(object);
            case DELETE:
                String key = kv.getKey().toString(UTF_8);
                try {
                    return ConfigEvent.delete(store.keys().parse(key), kv.getModRevision());
                } catch (IllegalArgumentException e) {
                    // A key outside the layout: its PUT was skipped (and counted) already.
                    logger.debug("{}: ignored the deletion of {}: {}", store.describe(), key, e.getMessage());
                    return null;
                }
            default:
                return null;
        }
    }

    private void failed(Attempt attempt, Throwable cause) {
        if (attempt != current || closed.get()) {
            return;
        }
        disconnect();
        if (cause instanceof CompactedException) {
            end(new ConfigStoreException(store.describe() + ": cannot watch from revision " + (lastRevision + 1)
                    + ": etcd compacted the revisions up to " + ((CompactedException) cause).getCompactedRevision()
                    + " (expected: read a new snapshot and watch from its revision)", cause));
            return;
        }
        if (!retryable(cause)) {
            end(new ConfigStoreException(store.describe() + ": watch from revision " + (lastRevision + 1)
                    + " failed: " + cause.getMessage(), cause));
            return;
        }
        long delay = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(failures, 10));
        failures++;
        if (failures == 1) {
            logger.warn("{}: watch interrupted ({}); resuming after revision {}", store.describe(),
                    cause.getMessage(), lastRevision);
        } else {
            logger.debug("{}: watch still interrupted ({}); retry {} in {} ms", store.describe(),
                    cause.getMessage(), failures, delay);
        }
        try {
            store.notifier().schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The store was closed.
        }
    }

    private void end(ConfigStoreException cause) {
        if (closed.compareAndSet(false, true)) {
            store.removed(this);
            try {
                listener.onError(cause);
            } catch (RuntimeException e) {
                logger.warn("{}: config listener {} failed on an error", store.describe(), listener, e);
            }
        }
    }

    private static boolean retryable(Throwable cause) {
        if (!(cause instanceof EtcdException)) {
            return true;
        }
        switch (((EtcdException) cause).getErrorCode()) {
            case UNAVAILABLE:
            case INTERNAL:
            case UNKNOWN:
            case DEADLINE_EXCEEDED:
            case ABORTED:
            case RESOURCE_EXHAUSTED:
            case CANCELLED:
            case UNAUTHENTICATED:
                return true;
            default:
                return false;
        }
    }

    /** Runs a task on the notifier; {@code false} if the store is closed. */
    private boolean run(Runnable task) {
        try {
            store.notifier().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** One connection of the watch; jetcd calls it on its own threads, it hands over to the notifier. */
    private final class Attempt implements Watch.Listener {

        volatile Watch.@Nullable Watcher watcher;

        @Override
        public void onNext(WatchResponse response) {
            run(() -> deliver(this, response));
        }

        @Override
        public void onError(Throwable cause) {
            run(() -> failed(this, cause));
        }

        @Override
        public void onCompleted() {
            // Also called when we close the watcher; for a replaced attempt, failed() ignores it.
            run(() -> failed(this, new ConfigStoreException("the watch stream ended", null)));
        }

        void close() {
            Watch.Watcher w = watcher;
            if (w != null) {
                w.close();
            }
        }
    }

    @Override
    public String toString() {
        return "EtcdWatch{" + store.describe() + ", after=" + lastRevision + '}';
    }
}
