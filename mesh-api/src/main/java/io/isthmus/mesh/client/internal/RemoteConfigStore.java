package io.isthmus.mesh.client.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshAdminException;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link ConfigStore} backed by a router daemon's admin API: every call is one HTTP request, and
 * watches follow {@code GET /v1/watch} on their own thread, reconnecting from the last revision seen.
 *
 * <p>The admin API reports one resource version per object, the revision that last modified it; the
 * objects returned here carry it as both their create and their mod revision.
 */
public final class RemoteConfigStore implements ConfigStore {

    /** How many times {@link #snapshot()} re-reads when the store changes between its list requests. */
    static final int SNAPSHOT_ATTEMPTS = 5;

    private final AdminHttp http;
    private final MeshObjectCodec codec = MeshObjectCodec.create();
    private final Set<RemoteWatch> watches = ConcurrentHashMap.newKeySet();
    private @Nullable ScheduledExecutorService idleChecker;

    RemoteConfigStore(AdminHttp http) {
        this.http = http;
    }

    /** Returns the URL path segment of a kind, e.g. {@code loadbalancers}. */
    static String segment(Kind kind) {
        return kind.plural().toLowerCase(Locale.ROOT);
    }

    /** Returns the admin API path of an object, e.g. {@code /v1/loadbalancers/default/osaka-app}. */
    static String path(ObjectKey key) {
        String name = encode(key.name());
        return "/v1/" + segment(key.kind()) + (key.kind().namespaced() ? '/' + encode(key.namespace()) : "") + '/' + name;
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public long revision() {
        AdminHttp.Response response = http.send("GET", "/v1/status", null, null);
        if (response.status() != 200) {
            throw AdminHttp.refused(response, null, 0);
        }
        JsonNode status = AdminHttp.json(response);
        return revisionField(status, "storeRevision", response);
    }

    @Override
    public Optional<Versioned<MeshObject>> get(ObjectKey key) {
        requireNonNull(key, "key");
        AdminHttp.Response response = http.send("GET", path(key), null, null);
        if (response.status() == 404) {
            return Optional.empty();
        }
        if (response.status() != 200) {
            throw AdminHttp.refused(response, key, 0);
        }
        return Optional.of(document(AdminHttp.json(response), response));
    }

    @Override
    public List<Versioned<MeshObject>> list(Kind kind) {
        requireNonNull(kind, "kind");
        return listWithRevision(kind).objects();
    }

    /** Lists the objects of a kind, with the store revision they were read at. */
    ConfigSnapshot listWithRevision(Kind kind) {
        AdminHttp.Response response = http.send("GET", "/v1/" + segment(kind), null, null);
        if (response.status() != 200) {
            throw AdminHttp.refused(response, null, 0);
        }
        JsonNode body = AdminHttp.json(response);
        JsonNode items = body.get("items");
        if (items == null || !items.isArray()) {
            throw malformed(response, "no \"items\" list", null);
        }
        List<Versioned<MeshObject>> objects = new ArrayList<>();
        for (JsonNode item : items.values()) {
            objects.add(document(item, response));
        }
        objects.sort((a, b) -> a.object().key().compareTo(b.object().key()));
        return ConfigSnapshot.of(revisionField(body, "revision", response), objects);
    }

    @Override
    public ConfigSnapshot snapshot() {
        // The admin API lists one kind per request; a consistent snapshot is one where every list was
        // read at the same store revision.
        long[] revisions = new long[Kind.values().length];
        for (int attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
            List<Versioned<MeshObject>> objects = new ArrayList<>();
            boolean consistent = true;
            for (Kind kind : Kind.values()) {
                ConfigSnapshot list = listWithRevision(kind);
                revisions[kind.ordinal()] = list.revision();
                consistent &= list.revision() == revisions[0];
                objects.addAll(list.objects());
            }
            if (consistent) {
                objects.sort((a, b) -> a.object().key().compareTo(b.object().key()));
                return ConfigSnapshot.of(revisions[0], objects);
            }
        }
        throw new ConfigStoreException("cannot take a consistent snapshot from " + http.connection().adminUrl()
                + ": the store changed between the list requests " + SNAPSHOT_ATTEMPTS + " times in a row", null);
    }

    @Override
    public Versioned<MeshObject> put(MeshObject object) {
        requireNonNull(object, "object");
        return write(object, null);
    }

    @Override
    public Versioned<MeshObject> update(MeshObject object, long expectedModRevision) {
        requireNonNull(object, "object");
        return write(object, expectedModRevision);
    }

    private Versioned<MeshObject> write(MeshObject object, @Nullable Long expected) {
        AdminHttp.Response response = http.send("PUT", path(object.key()), codec.toJson(object),
                expected == null ? null : Long.toString(expected));
        if (response.status() != 200 && response.status() != 201) {
            throw AdminHttp.refused(response, object.key(), expected == null ? 0 : expected);
        }
        return document(AdminHttp.json(response), response);
    }

    @Override
    public boolean delete(ObjectKey key) {
        requireNonNull(key, "key");
        AdminHttp.Response response = http.send("DELETE", path(key), null, null);
        if (response.status() == 404) {
            return false;
        }
        if (response.status() != 200) {
            throw AdminHttp.refused(response, key, 0);
        }
        return true;
    }

    @Override
    public void delete(ObjectKey key, long expectedModRevision) {
        requireNonNull(key, "key");
        AdminHttp.Response response = http.send("DELETE", path(key), null, Long.toString(expectedModRevision));
        if (response.status() == 404) {
            throw new ConfigConflictException(key, expectedModRevision, 0);
        }
        if (response.status() != 200) {
            throw AdminHttp.refused(response, key, expectedModRevision);
        }
    }

    @Override
    public ConfigWatch watch(long afterRevision, ConfigListener listener) {
        requireNonNull(listener, "listener");
        RemoteWatch watch = new RemoteWatch(http, this, afterRevision, listener, watches::remove);
        watches.add(watch);
        watch.start(idleChecker());
        return watch;
    }

    /** One daemon thread per store that drops watch streams gone quiet; started with the first watch. */
    private synchronized ScheduledExecutorService idleChecker() {
        if (idleChecker == null) {
            idleChecker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "isthmus-admin-watch-idle");
                t.setDaemon(true);
                return t;
            });
        }
        return idleChecker;
    }

    @Override
    public void close() {
        for (RemoteWatch watch : List.copyOf(watches)) {
            watch.close();
        }
        synchronized (this) {
            if (idleChecker != null) {
                idleChecker.shutdownNow();
                idleChecker = null;
            }
        }
    }

    // ---- documents

    /** Reads an object document of the admin API, taking its {@code metadata.resourceVersion} off first. */
    Versioned<MeshObject> document(JsonNode document, AdminHttp.Response response) {
        return document(document, response.method() + ' ' + response.uri(), response.status(), response.uri());
    }

    Versioned<MeshObject> document(JsonNode document, String where, int status, URI uri) {
        if (!document.isObject()) {
            throw new MeshAdminException(where + ": " + document + " (expected: an object document)", status, uri, null);
        }
        ObjectNode copy = (ObjectNode) document.deepCopy();
        JsonNode metadata = copy.get("metadata");
        String resourceVersion = null;
        if (metadata != null && metadata.isObject()) {
            resourceVersion = AdminHttp.text(metadata, "resourceVersion");
            ((ObjectNode) metadata).remove("resourceVersion");
        }
        try {
            MeshObject object = codec.fromJson(AdminHttp.JSON.writeValueAsString(copy));
            long revision = AdminHttp.parseRevision(resourceVersion);
            return Versioned.of(object, revision, revision);
        } catch (ConfigValidationException e) {
            throw new MeshAdminException(where + ": the server sent a document this client cannot read: "
                    + e.getMessage(), status, uri, e);
        }
    }

    private static long revisionField(JsonNode body, String field, AdminHttp.Response response) {
        JsonNode value = body.get(field);
        if (value != null && value.isIntegralNumber()) {
            return value.asLong();
        }
        if (value != null && value.isString()) {
            try {
                return Long.parseLong(value.stringValue());
            } catch (NumberFormatException e) {
                throw malformed(response, "\"" + field + "\": " + value, e);
            }
        }
        throw malformed(response, "no \"" + field + "\" number", null);
    }

    private static MeshAdminException malformed(AdminHttp.Response response, String problem, @Nullable Throwable cause) {
        return new MeshAdminException(response.method() + ' ' + response.uri() + ": unexpected response: " + problem
                + " (expected: the admin API's format)", response.status(), response.uri(), cause);
    }

    /** Reads the key of an object document without validating the rest (used for deletions). */
    static ObjectKey keyOf(JsonNode document) {
        JsonNode kindNode = document.get("kind");
        JsonNode metadata = document.get("metadata");
        if (kindNode == null || !kindNode.isString() || metadata == null || !metadata.isObject()
                || AdminHttp.text(metadata, "name") == null) {
            throw new IllegalArgumentException("object: " + document + " (expected: kind and metadata.name)");
        }
        Kind kind = Kind.parse(kindNode.stringValue());
        String name = requireNonNull(AdminHttp.text(metadata, "name"));
        if (!kind.namespaced()) {
            return ObjectKey.of(kind, name);
        }
        String namespace = AdminHttp.text(metadata, "namespace");
        return ObjectKey.of(kind, namespace == null ? MeshObject.DEFAULT_NAMESPACE : namespace, name);
    }

    /** Builds the event of one watch line. */
    ConfigEvent event(String type, long revision, @Nullable JsonNode object, URI uri) {
        if (object == null || !object.isObject()) {
            throw new IllegalArgumentException("object: " + object + " (expected: the changed object's document)");
        }
        if (type.equals("DELETE")) {
            return ConfigEvent.delete(keyOf(object), revision);
        }
        Versioned<MeshObject> stored = document(object, "GET " + uri, 200, uri);
        // The event's revision is the one of the change, which is the object's mod revision.
        return ConfigEvent.put(Versioned.of(stored.object(), stored.createRevision() == 0 ? revision
                : stored.createRevision(), revision));
    }
}
