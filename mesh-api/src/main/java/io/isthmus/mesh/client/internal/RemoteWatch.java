package io.isthmus.mesh.client.internal;

import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigWatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Follows {@code GET /v1/watch} on its own thread, delivering events in order and reconnecting with
 * backoff from the last revision delivered when the stream ends or breaks, or when neither an event nor a
 * heartbeat arrived within the connection's watch idle time-out. A refusal (4xx) or a line it cannot read
 * ends the watch through {@link ConfigListener#onError(Throwable)}.
 */
final class RemoteWatch implements ConfigWatch {

    private static final Logger logger = LoggerFactory.getLogger(RemoteWatch.class);

    static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final AdminHttp http;
    private final RemoteConfigStore store;
    private final ConfigListener listener;
    private final Consumer<RemoteWatch> onClose;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;
    private volatile @Nullable InputStream body;
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile boolean idleDropped;
    private volatile @Nullable ScheduledFuture<?> idleCheck;
    private long lastRevision;

    RemoteWatch(AdminHttp http, RemoteConfigStore store, long afterRevision, ConfigListener listener,
            Consumer<RemoteWatch> onClose) {
        this.http = http;
        this.store = store;
        this.listener = listener;
        this.onClose = onClose;
        this.lastRevision = afterRevision;
        thread = new Thread(this::run, "isthmus-admin-watch");
        thread.setDaemon(true);
    }

    void start(ScheduledExecutorService idleChecker) {
        long period = Math.max(10, http.connection().watchIdleTimeout().toMillis() / 3);
        idleCheck = idleChecker.scheduleAtFixedRate(this::dropIfIdle, period, period, TimeUnit.MILLISECONDS);
        thread.start();
    }

    /** Closes a stream on which nothing arrived for the idle time-out; the watch then reconnects. */
    private void dropIfIdle() {
        InputStream in = body;
        long idle = System.nanoTime() - lastActivityNanos;
        if (in != null && !isClosed() && idle > http.connection().watchIdleTimeout().toNanos()) {
            idleDropped = true;
            try {
                in.close();
            } catch (IOException e) {
                // Dropping it anyway.
            }
        }
    }

    private boolean isClosed() {
        return closed.getCount() == 0;
    }

    private void run() {
        Duration backoff = INITIAL_BACKOFF;
        try {
            while (!isClosed()) {
                String path = "/v1/watch?fromRevision=" + lastRevision;
                URI uri = http.uri(path);
                try {
                    HttpResponse<InputStream> response = http.openStream(path);
                    InputStream in = response.body();
                    lastActivityNanos = System.nanoTime();
                    body = in;
                    if (isClosed()) {
                        in.close();
                        return;
                    }
                    if (response.statusCode() != 200) {
                        String text = new String(in.readNBytes(8192), StandardCharsets.UTF_8);
                        in.close();
                        RuntimeException refused = AdminHttp.refused(
                                new AdminHttp.Response("GET", uri, response.statusCode(), text), null, 0);
                        if (response.statusCode() < 500) {
                            fail(refused);
                            return;
                        }
                        logger.warn("Watch of {} refused, retrying in {}: {}", uri, backoff, refused.getMessage());
                    } else {
                        boolean any = follow(in, uri);
                        body = null;
                        if (any) {
                            backoff = INITIAL_BACKOFF;
                        }
                        if (isClosed()) {
                            return;
                        }
                        logger.debug("Watch stream of {} ended; resuming from revision {}", uri, lastRevision);
                    }
                } catch (IOException e) {
                    body = null;
                    if (isClosed()) {
                        return;
                    }
                    if (idleDropped) {
                        idleDropped = false;
                        backoff = INITIAL_BACKOFF;
                        logger.warn("Watch of {} received nothing for {}; resuming from revision {} on a new connection",
                                uri, http.connection().watchIdleTimeout(), lastRevision);
                    } else {
                        logger.warn("Watch of {} broke, retrying in {}: {}", uri, backoff,
                                AdminHttp.transportFailure("GET", uri, e).getMessage());
                    }
                } catch (EventFormatException e) {
                    fail(new ConfigStoreException("watch of " + uri + ": " + e.getMessage(), e.getCause()));
                    return;
                }
                if (closed.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        } catch (InterruptedException e) {
            // Closed while waiting.
            Thread.currentThread().interrupt();
        } finally {
            body = null;
            ScheduledFuture<?> check = idleCheck;
            if (check != null) {
                check.cancel(false);
            }
            onClose.accept(this);
        }
    }

    /** Reads events until the stream ends; returns whether any line arrived. */
    private boolean follow(InputStream in, URI uri) throws IOException {
        boolean any = false;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null && !isClosed(); line = reader.readLine()) {
                lastActivityNanos = System.nanoTime();
                if (line.isBlank()) {
                    continue;
                }
                any = true;
                ConfigEvent event = parse(line, uri);
                if (event == null || event.revision() <= lastRevision) {
                    continue; // a heartbeat, or a change delivered before a reconnect
                }
                lastRevision = event.revision();
                try {
                    listener.onEvent(event);
                } catch (RuntimeException e) {
                    logger.warn("Watch listener failed on {}", event, e);
                }
            }
        }
        return any;
    }

    private @Nullable ConfigEvent parse(String line, URI uri) {
        try {
            JsonNode node = AdminHttp.JSON.readTree(line);
            String type = node.isObject() ? AdminHttp.text(node, "type") : null;
            JsonNode revision = node.isObject() ? node.get("revision") : null;
            if (type == null || revision == null || !revision.isIntegralNumber()) {
                throw new EventFormatException("event line " + abbreviate(line)
                        + " (expected: {\"type\":\"PUT|DELETE|HEARTBEAT\",\"revision\":N,...})", null);
            }
            switch (type) {
                case "HEARTBEAT":
                    return null;
                case "PUT":
                case "DELETE":
                    return store.event(type, revision.asLong(), node.get("object"), uri);
                default:
                    throw new EventFormatException("event type \"" + type + "\" (expected: PUT, DELETE or HEARTBEAT)",
                            null);
            }
        } catch (JacksonException | IllegalArgumentException e) {
            throw new EventFormatException("event line " + abbreviate(line) + ": " + e.getMessage(), e);
        } catch (io.isthmus.mesh.MeshException e) {
            throw new EventFormatException(e.getMessage() == null ? "bad event" : e.getMessage(), e);
        }
    }

    private static String abbreviate(String line) {
        return line.length() > 120 ? line.substring(0, 117) + "..." : line;
    }

    private void fail(RuntimeException cause) {
        if (isClosed()) {
            return;
        }
        closed.countDown();
        try {
            listener.onError(cause);
        } catch (RuntimeException e) {
            logger.warn("Watch listener failed on an error", e);
        }
    }

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        closed.countDown();
        InputStream in = body;
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
        // Wakes a read blocked on a quiet stream.
        thread.interrupt();
    }

    /** A watch line that cannot be read: the watch cannot continue reliably. */
    private static final class EventFormatException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EventFormatException(String message, @Nullable Throwable cause) {
            super(message, cause);
        }
    }
}
