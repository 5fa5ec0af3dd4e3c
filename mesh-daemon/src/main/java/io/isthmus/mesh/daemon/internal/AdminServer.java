package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.MeshValidator;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.daemon.AdminRole;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The admin REST API of a router daemon: CRUD, apply and watch of mesh objects, status, health,
 * readiness and metrics.
 *
 * <p>Built on the JDK's {@code com.sun.net.httpserver} rather than on Netty: the admin API serves a
 * handful of operators and tools, not application traffic, so a blocking thread per request is
 * simple and cheap; it keeps the admin port independent of the data plane's event loops (a slow
 * watch client or a large apply cannot delay routing), and {@link HttpsServer} gives TLS with
 * optional client certificates through a plain {@link SSLContext}. Long-lived watch streams each
 * hold one thread; their number is capped.
 *
 * <p>Every object goes through {@link MeshObjectCodec} and the store's own validation, the same path
 * as files and the Java API. Thread-safe; the caller stops it.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(AdminServer.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_BODY = 4 * 1024 * 1024;
    private static final int MAX_WATCHES = 64;
    private static final Pattern VALUE = Pattern.compile("^\"?(.*?)\"? \\(expected");
    private static final String KINDS = Arrays.stream(Kind.values())
            .map(k -> k.plural().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));

    /** What the daemon tells the admin API about itself. */
    public interface Backend {
        /** @return null when ready, else why not */
        @Nullable String notReadyReason();

        /** @return the status document of {@code /v1/status} */
        ObjectNode status();

        /**
         * Explains whether a request would be allowed, and by which policy and rule.
         *
         * @param request the request document
         * @return the decision document
         * @throws IllegalArgumentException when the request document is bad (answered with 400)
         */
        ObjectNode explain(JsonNode request);
    }

    private final ConfigStore store;
    private final MeshObjectCodec codec;
    private final AdminAuth auth;
    private final Backend backend;
    private final PrometheusMeterRegistry registry;
    private final Duration heartbeat;
    private final @Nullable JoinEndpoint join;
    private final JsonMapper json = JsonMapper.builder().build();
    private final YAMLMapper yaml = YAMLMapper.builder().build();
    private final Semaphore watches = new Semaphore(MAX_WATCHES);
    private final HttpServer server;
    private final ExecutorService executor;
    private volatile boolean closed;

    /**
     * Binds the admin API.
     *
     * @param address where to listen
     * @param tls the TLS context, or {@code null} for plain HTTP (the caller allows it only on loopback)
     * @param store the mesh's store that reads and writes go to
     * @param codec the codec
     * @param auth who may call {@code /v1/**}
     * @param backend status and readiness
     * @param registry the registry {@code /metrics} scrapes
     * @param heartbeat how often a watch stream without events sends a heartbeat line
     * @throws UncheckedIOException when the address cannot be bound
     */
    public AdminServer(InetSocketAddress address, @Nullable SSLContext tls, ConfigStore store,
            MeshObjectCodec codec, AdminAuth auth, Backend backend, PrometheusMeterRegistry registry,
            Duration heartbeat) {
        this(address, tls, store, codec, auth, backend, registry, heartbeat, null);
    }

    /**
     * Binds the admin API of a daemon that may hold the mesh CA.
     *
     * @param address where to listen
     * @param tls the TLS context, or {@code null} for plain HTTP (the caller allows it only on loopback)
     * @param store the mesh's store that reads and writes go to
     * @param codec the codec
     * @param auth who may call {@code /v1/**}
     * @param backend status and readiness
     * @param registry the registry {@code /metrics} scrapes
     * @param heartbeat how often a watch stream without events sends a heartbeat line
     * @param join the join-token endpoints when this daemon holds the CA, {@code null} otherwise
     * @throws UncheckedIOException when the address cannot be bound
     */
    public AdminServer(InetSocketAddress address, @Nullable SSLContext tls, ConfigStore store,
            MeshObjectCodec codec, AdminAuth auth, Backend backend, PrometheusMeterRegistry registry,
            Duration heartbeat, @Nullable JoinEndpoint join) {
        this.join = join;
        this.store = store;
        this.codec = codec;
        this.auth = auth;
        this.backend = backend;
        this.registry = registry;
        this.heartbeat = heartbeat;
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "isthmus-admin-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            if (tls == null) {
                server = HttpServer.create(address, 64);
            } else {
                HttpsServer https = HttpsServer.create(address, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls) {
                    @Override
                    public void configure(HttpsParameters params) {
                        SSLParameters parameters = tls.getDefaultSSLParameters();
                        parameters.setWantClientAuth(true);
                        parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                        params.setSSLParameters(parameters);
                    }
                });
                server = https;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("admin API: cannot bind " + address + ": " + e.getMessage(), e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** @return the bound address */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stops accepting requests, ends watch streams and releases the threads. */
    @Override
    public void close() {
        closed = true;
        server.stop(0);
        executor.shutdownNow();
    }

    // ---- dispatch

    private void handle(HttpExchange exchange) {
        int status = 500;
        try {
            status = dispatch(exchange);
        } catch (HttpError e) {
            status = e.status;
            sendError(exchange, e);
        } catch (ConfigStoreException e) {
            status = 503;
            sendError(exchange, new HttpError(503, "config store unavailable: " + e.getMessage()));
        } catch (IllegalArgumentException e) {
            status = 400;
            sendError(exchange, new HttpError(400, "bad request: " + e.getMessage()));
        } catch (RuntimeException e) {
            logger.warn("admin API: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            sendError(exchange, new HttpError(500, "internal error: " + e));
        } finally {
            Counter.builder("isthmus.admin.requests").description("Admin API requests")
                    .tag("method", exchange.getRequestMethod()).tag("status", String.valueOf(status))
                    .register(registry).increment();
            exchange.close();
        }
    }

    private int dispatch(HttpExchange exchange) {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath();
        switch (path) {
            case "/healthz":
                allow(method, "GET");
                return send(exchange, 200, "text/plain; charset=utf-8", "ok\n");
            case "/readyz": {
                allow(method, "GET");
                String reason = backend.notReadyReason();
                return reason == null
                        ? send(exchange, 200, "text/plain; charset=utf-8", "ready\n")
                        : send(exchange, 503, "text/plain; charset=utf-8", "not ready: " + reason + "\n");
            }
            case "/metrics":
                allow(method, "GET");
                return send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
            default:
                break;
        }
        if (!path.startsWith("/v1/")) {
            throw new HttpError(404, "no such path: " + path + " (expected: /v1/..., /healthz, /readyz or /metrics)");
        }
        List<String> segments = new ArrayList<>();
        for (String s : path.substring(4).split("/", -1)) {
            segments.add(URLDecoder.decode(s, UTF_8));
        }
        if (segments.get(segments.size() - 1).isEmpty() && segments.size() > 1) {
            segments.remove(segments.size() - 1);
        }
        if (segments.size() == 1 && segments.get(0).equals("join")) {
            // No bearer token or client certificate: the join token is the credential.
            return redeemJoinToken(exchange, method);
        }
        if (segments.size() == 1 && segments.get(0).equals("renew")) {
            // No bearer token: the site's current certificate, as the TLS client certificate, is the credential.
            return renewSiteCertificate(exchange, method);
        }
        boolean write = !method.equals("GET") && !(segments.size() == 1 && segments.get(0).equals("explain"));
        authorize(exchange, write);
        String first = segments.get(0);
        Map<String, String> query = query(exchange.getRequestURI());
        if (segments.size() == 1) {
            switch (first) {
                case "status":
                    allow(method, "GET");
                    return sendJson(exchange, 200, backend.status());
                case "watch":
                    allow(method, "GET");
                    return watch(exchange, query);
                case "apply":
                    allow(method, "POST");
                    return apply(exchange);
                case "join-tokens":
                    allow(method, "POST");
                    return issueJoinToken(exchange);
                case "explain": {
                    allow(method, "POST");
                    JsonNode request = readJsonObject(exchange);
                    return sendJson(exchange, 200, backend.explain(request));
                }
                default:
                    break;
            }
        }
        Kind kind = kind(first);
        if (segments.size() == 1) {
            allow(method, "GET");
            return list(exchange, kind, query.get("namespace"));
        }
        ObjectKey key = key(kind, segments.subList(1, segments.size()));
        switch (method) {
            case "GET":
                return sendJson(exchange, 200, document(store.get(key).orElseThrow(() -> notFound(key))));
            case "PUT":
                return put(exchange, key);
            case "DELETE":
                return delete(exchange, key);
            default:
                throw methodNotAllowed(method, "GET, PUT, DELETE");
        }
    }

    private void authorize(HttpExchange exchange, boolean write) {
        SSLSession session = exchange instanceof HttpsExchange ? ((HttpsExchange) exchange).getSSLSession() : null;
        AdminAuth.Result result = auth.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), session);
        if (!result.authenticated()) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"isthmus\"");
            throw new HttpError(401, "authentication required: " + result.principal()
                    + " (expected: Authorization: Bearer <token>, or a mesh client certificate mapped to a role)");
        }
        AdminRole role = result.role();
        if (role == null) {
            throw new HttpError(403, result.principal() + " has no role on this daemon (expected: a SPIFFE id "
                    + "listed in admin.clientCertificateRoles)");
        }
        if (write && role != AdminRole.ADMIN) {
            throw new HttpError(403, result.principal() + " may not " + exchange.getRequestMethod() + " "
                    + exchange.getRequestURI().getPath() + " (expected role: admin)");
        }
    }

    private static void allow(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw methodNotAllowed(method, allowed);
        }
    }

    private static HttpError methodNotAllowed(String method, String allowed) {
        HttpError error = new HttpError(405, "method " + method + " not allowed (expected: " + allowed + ")");
        error.allow = allowed;
        return error;
    }

    private static Kind kind(String plural) {
        for (Kind kind : Kind.values()) {
            if (kind.plural().toLowerCase(Locale.ROOT).equals(plural)) {
                return kind;
            }
        }
        throw new HttpError(404, "unknown kind \"" + plural + "\" (expected: one of " + KINDS + ")");
    }

    private static ObjectKey key(Kind kind, List<String> parts) {
        String plural = kind.plural().toLowerCase(Locale.ROOT);
        if (kind.namespaced()) {
            if (parts.size() != 2 || parts.get(0).isEmpty() || parts.get(1).isEmpty()) {
                throw new HttpError(404, "no such path: /v1/" + plural + "/" + String.join("/", parts)
                        + " (expected: /v1/" + plural + "/{namespace}/{name})");
            }
            return ObjectKey.of(kind, parts.get(0), parts.get(1));
        }
        if (parts.size() != 1 || parts.get(0).isEmpty()) {
            throw new HttpError(404, "no such path: /v1/" + plural + "/" + String.join("/", parts)
                    + " (expected: /v1/" + plural + "/{name})");
        }
        return ObjectKey.of(kind, parts.get(0));
    }

    private static HttpError notFound(ObjectKey key) {
        return new HttpError(404, key + " not found");
    }

    // ---- reads

    private int list(HttpExchange exchange, Kind kind, @Nullable String namespace) {
        ConfigSnapshot snapshot = store.snapshot();
        ObjectNode body = NODES.objectNode();
        body.put("revision", snapshot.revision());
        ArrayNode items = body.putArray("items");
        for (Versioned<MeshObject> object : snapshot.objects()) {
            ObjectKey key = object.object().key();
            if (key.kind() == kind && (namespace == null || namespace.equals(key.namespace()))) {
                items.add(document(object));
            }
        }
        return sendJson(exchange, 200, body);
    }

    private ObjectNode document(Versioned<MeshObject> object) {
        ObjectNode doc = (ObjectNode) json.readTree(codec.toJson(object.object()));
        ((ObjectNode) doc.get("metadata")).put("resourceVersion", String.valueOf(object.modRevision()));
        return doc;
    }

    private static ObjectNode keyDocument(ObjectKey key, long revision) {
        ObjectNode doc = NODES.objectNode();
        doc.put("kind", key.kind().kindName());
        ObjectNode metadata = doc.putObject("metadata");
        metadata.put("name", key.name());
        if (key.kind().namespaced()) {
            metadata.put("namespace", key.namespace());
        }
        metadata.put("resourceVersion", String.valueOf(revision));
        return doc;
    }

    // ---- writes

    /** A document of a request body, read and validated, with the resource version it carried. */
    private static final class Parsed {
        final MeshObject object;
        final @Nullable Long resourceVersion;

        Parsed(MeshObject object, @Nullable Long resourceVersion) {
            this.object = object;
            this.resourceVersion = resourceVersion;
        }
    }

    private int put(HttpExchange exchange, ObjectKey key) {
        List<JsonNode> documents = readDocuments(exchange, false);
        if (documents.size() != 1) {
            throw new HttpError(400, "the body holds " + documents.size() + " documents (expected: exactly one)");
        }
        Parsed parsed = parse(documents.get(0), "");
        if (!parsed.object.key().equals(key)) {
            throw new HttpError(400, "the document is " + parsed.object.key() + " but the path names " + key
                    + " (expected: the same kind, namespace and name)");
        }
        Long expected = ifMatch(exchange);
        if (expected == null) {
            expected = parsed.resourceVersion;
        }
        Versioned<MeshObject> stored;
        int status;
        try {
            if (expected != null) {
                stored = store.update(parsed.object, expected);
                status = expected == 0 ? 201 : 200;
            } else {
                boolean existed = store.get(key).isPresent();
                stored = store.put(parsed.object);
                status = existed ? 200 : 201;
            }
        } catch (ConfigValidationException e) {
            throw unprocessable(e, "");
        } catch (ConfigConflictException e) {
            throw conflict(e);
        }
        return sendJson(exchange, status, document(stored));
    }

    private int delete(HttpExchange exchange, ObjectKey key) {
        Long expected = ifMatch(exchange);
        Versioned<MeshObject> current = store.get(key).orElseThrow(() -> notFound(key));
        try {
            if (expected != null) {
                store.delete(key, expected);
            } else if (!store.delete(key)) {
                throw notFound(key);
            }
        } catch (ConfigConflictException e) {
            if (e.actualRevision() == 0) {
                throw notFound(key);
            }
            throw conflict(e);
        }
        ObjectNode body = NODES.objectNode();
        body.set("deleted", document(current));
        return sendJson(exchange, 200, body);
    }

    private int apply(HttpExchange exchange) {
        List<JsonNode> documents = readDocuments(exchange, true);
        if (documents.isEmpty()) {
            throw new HttpError(400, "the body holds no documents (expected: YAML documents or a JSON array)");
        }
        List<Parsed> parsed = new ArrayList<>();
        Map<ObjectKey, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < documents.size(); i++) {
            String where = documents.size() == 1 ? "" : "document " + (i + 1) + ": ";
            Parsed p = parse(documents.get(i), where);
            Integer before = seen.put(p.object.key(), i + 1);
            if (before != null) {
                throw new HttpError(400, where + p.object.key() + " appears twice (first in document " + before + ")");
            }
            parsed.add(p);
        }
        // Compare-and-set preconditions are checked before the first write, so a stale document
        // fails the whole apply rather than half of it.
        List<Optional<Versioned<MeshObject>>> current = new ArrayList<>();
        for (Parsed p : parsed) {
            Optional<Versioned<MeshObject>> have = store.get(p.object.key());
            long actual = have.map(Versioned::modRevision).orElse(0L);
            if (p.resourceVersion != null && p.resourceVersion != actual) {
                throw conflict(new ConfigConflictException(p.object.key(), p.resourceVersion, actual));
            }
            current.add(have);
        }
        // The state the apply leads to must hold together as a whole, so that no write is refused halfway.
        Map<ObjectKey, MeshObject> after = new LinkedHashMap<>();
        store.snapshot().objects().forEach(v -> after.put(v.object().key(), v.object()));
        parsed.forEach(p -> after.put(p.object.key(), p.object));
        try {
            MeshValidator.checkAll(after.values());
        } catch (ConfigValidationException e) {
            throw unprocessable(e, "");
        }
        Map<ObjectKey, Integer> index = new HashMap<>();
        for (int i = 0; i < parsed.size(); i++) {
            index.put(parsed.get(i).object.key(), i);
        }
        ObjectNode[] resultsInDocumentOrder = new ObjectNode[parsed.size()];
        for (MeshObject object : MeshValidator.inWriteOrder(parsed.stream().map(p -> p.object).toList())) {
            int i = index.get(object.key());
            Parsed p = parsed.get(i);
            Optional<Versioned<MeshObject>> have = current.get(i);
            String action;
            Versioned<MeshObject> stored;
            if (have.isPresent() && have.get().object().equals(p.object)) {
                action = "unchanged";
                stored = have.get();
            } else {
                try {
                    stored = p.resourceVersion != null ? store.update(p.object, p.resourceVersion) : store.put(p.object);
                } catch (ConfigValidationException e) {
                    throw unprocessable(e, "");
                } catch (ConfigConflictException e) {
                    throw conflict(e);
                }
                action = have.isPresent() ? "updated" : "created";
            }
            ObjectNode result = NODES.objectNode();
            resultsInDocumentOrder[i] = result;
            ObjectKey key = p.object.key();
            result.put("kind", key.kind().kindName());
            if (key.kind().namespaced()) {
                result.put("namespace", key.namespace());
            }
            result.put("name", key.name());
            result.put("action", action);
            result.put("resourceVersion", String.valueOf(stored.modRevision()));
        }
        ObjectNode body = NODES.objectNode();
        ArrayNode results = body.putArray("results");
        for (ObjectNode result : resultsInDocumentOrder) {
            results.add(result);
        }
        return sendJson(exchange, 200, body);
    }

    private Parsed parse(JsonNode document, String where) {
        if (!document.isObject()) {
            throw new HttpError(400, where + "not an object (expected: {\"kind\": ..., \"metadata\": ..., \"spec\": ...})");
        }
        ObjectNode doc = ((ObjectNode) document).deepCopy();
        Long resourceVersion = null;
        JsonNode metadata = doc.get("metadata");
        if (metadata instanceof ObjectNode && metadata.has("resourceVersion")) {
            JsonNode rv = ((ObjectNode) metadata).remove("resourceVersion");
            resourceVersion = resourceVersion(rv.asString(), "metadata.resourceVersion", where);
        }
        try {
            return new Parsed(codec.fromJson(json.writeValueAsString(doc)), resourceVersion);
        } catch (ConfigValidationException e) {
            throw unprocessable(e, where);
        }
    }

    private static @Nullable Long ifMatch(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("If-Match");
        if (header == null) {
            return null;
        }
        String value = header.trim();
        if (value.startsWith("W/")) {
            value = value.substring(2);
        }
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
        }
        return resourceVersion(value, "If-Match", "");
    }

    private static long resourceVersion(String value, String field, String where) {
        try {
            long rv = Long.parseLong(value);
            if (rv >= 0) {
                return rv;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        HttpError error = new HttpError(422, where + field + ": \"" + value
                + "\" (expected: a resource version as returned by the API, e.g. \"42\")");
        error.field = field;
        error.value = value;
        throw error;
    }

    private static HttpError unprocessable(ConfigValidationException e, String where) {
        HttpError error = new HttpError(422, where + e.getMessage());
        error.field = e.fieldPath();
        String problem = e.fieldPath().isEmpty() ? e.getMessage() : e.getMessage().substring(e.fieldPath().length() + 2);
        Matcher matcher = VALUE.matcher(problem);
        error.value = matcher.find() ? matcher.group(1) : "";
        return error;
    }

    private static HttpError conflict(ConfigConflictException e) {
        HttpError error = new HttpError(409, "conflict: " + e.getMessage());
        error.currentResourceVersion = String.valueOf(e.actualRevision());
        return error;
    }

    // ---- bodies

    private byte[] readBody(HttpExchange exchange) {
        try (InputStream in = exchange.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY) {
                    throw new HttpError(413, "body larger than " + MAX_BODY + " bytes");
                }
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new HttpError(400, "cannot read the body: " + e.getMessage());
        }
    }

    private List<JsonNode> readDocuments(HttpExchange exchange, boolean many) {
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        String type = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
        String text = new String(readBody(exchange), UTF_8);
        boolean isJson;
        switch (type) {
            case "application/json":
                isJson = true;
                break;
            case "application/yaml":
            case "application/x-yaml":
            case "text/yaml":
                isJson = false;
                break;
            case "":
                isJson = text.stripLeading().startsWith("{") || text.stripLeading().startsWith("[");
                break;
            default:
                throw new HttpError(415, "unsupported content type \"" + contentType
                        + "\" (expected: application/json or application/yaml)");
        }
        List<JsonNode> documents = new ArrayList<>();
        try {
            if (isJson) {
                JsonNode root = json.readTree(text);
                if (root == null || root.isMissingNode()) {
                    throw new HttpError(400, "empty body (expected: a JSON document)");
                }
                if (root.isArray() && many) {
                    root.values().forEach(documents::add);
                } else {
                    documents.add(root);
                }
            } else {
                try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(text)) {
                    while (it.hasNextValue()) {
                        JsonNode doc = it.nextValue();
                        if (doc != null && !doc.isMissingNode() && !doc.isNull()) {
                            documents.add(doc);
                        }
                    }
                }
            }
        } catch (JacksonException e) {
            throw new HttpError(400, "malformed " + (isJson ? "JSON" : "YAML") + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr()));
        }
        return documents;
    }

    private JsonNode readJsonObject(HttpExchange exchange) {
        List<JsonNode> documents = readDocuments(exchange, false);
        if (documents.size() != 1 || !documents.get(0).isObject()) {
            throw new HttpError(400, "the body is not one object (expected: a JSON object)");
        }
        return documents.get(0);
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> query = new LinkedHashMap<>();
        String raw = uri.getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), UTF_8);
                query.put(name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), UTF_8));
            }
        }
        return query;
    }

    // ---- watch

    private int watch(HttpExchange exchange, Map<String, String> query) {
        String from = query.get("fromRevision");
        long fromRevision;
        try {
            fromRevision = from == null ? store.revision() : Long.parseLong(from);
            if (fromRevision < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new HttpError(400, "fromRevision: \"" + from + "\" (expected: a revision >= 0)");
        }
        Kind kind = query.containsKey("kind") ? kind(query.get("kind").toLowerCase(Locale.ROOT)) : null;
        if (!watches.tryAcquire()) {
            throw new HttpError(503, "too many watch streams (" + MAX_WATCHES + ")");
        }
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        try (ConfigWatch watch = store.watch(fromRevision, new ConfigListener() {
            @Override
            public void onEvent(ConfigEvent event) {
                if (kind == null || event.key().kind() == kind) {
                    events.add(event);
                }
            }

            @Override
            public void onError(Throwable cause) {
                events.add(cause);
            }
        })) {
            exchange.getResponseHeaders().set("Content-Type", "application/x-ndjson");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            long revision = fromRevision;
            while (!closed) {
                Object next = events.poll(heartbeat.toMillis(), TimeUnit.MILLISECONDS);
                ObjectNode line = NODES.objectNode();
                if (next == null) {
                    line.put("type", "HEARTBEAT");
                    line.put("revision", Math.max(revision, safeRevision(revision)));
                } else if (next instanceof Throwable) {
                    line.put("type", "ERROR");
                    line.put("error", "watch ended: " + ((Throwable) next).getMessage()
                            + " (expected: watch again from a newer revision)");
                    writeLine(out, line);
                    break;
                } else {
                    ConfigEvent event = (ConfigEvent) next;
                    revision = event.revision();
                    line.put("type", event.type().name());
                    line.put("revision", event.revision());
                    Versioned<MeshObject> object = event.object();
                    line.set("object", object == null ? keyDocument(event.key(), event.revision()) : document(object));
                }
                writeLine(out, line);
            }
            out.close();
        } catch (IOException e) {
            // The client went away.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watches.release();
        }
        return 200;
    }

    private long safeRevision(long fallback) {
        try {
            return store.revision();
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    private void writeLine(OutputStream out, ObjectNode line) throws IOException {
        out.write((json.writeValueAsString(line) + "\n").getBytes(UTF_8));
        out.flush();
    }

    // ---- joining a site (POST /v1/join-tokens, POST /v1/join) and renewing its certificate (POST /v1/renew)

    private JoinEndpoint joinEndpoint() {
        if (join == null) {
            throw new HttpError(404, "this daemon does not hold the mesh CA and issues no join tokens (expected: "
                    + "the admin API of a daemon started with dev.generateCa or ca.certificate and ca.privateKey)");
        }
        return join;
    }

    private int issueJoinToken(HttpExchange exchange) {
        JoinEndpoint endpoint = joinEndpoint();
        return sendJson(exchange, 201, endpoint.issue(readJsonObject(exchange)));
    }

    private int redeemJoinToken(HttpExchange exchange, String method) {
        allow(method, "POST");
        JoinEndpoint endpoint = joinEndpoint();
        JsonNode request = readJsonObject(exchange);
        try {
            return sendJson(exchange, 200, endpoint.redeem(request));
        } catch (JoinEndpoint.Refused e) {
            throw new HttpError(e.status(), e.getMessage());
        }
    }

    private int renewSiteCertificate(HttpExchange exchange, String method) {
        allow(method, "POST");
        JoinEndpoint endpoint = joinEndpoint();
        List<X509Certificate> chain = new ArrayList<>();
        if (exchange instanceof HttpsExchange) {
            try {
                for (Certificate c : ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()) {
                    if (c instanceof X509Certificate) {
                        chain.add((X509Certificate) c);
                    }
                }
            } catch (SSLPeerUnverifiedException e) {
                // no client certificate: refused below
            }
        }
        JsonNode request = readJsonObject(exchange);
        try {
            return sendJson(exchange, 200, endpoint.renew(chain, request));
        } catch (JoinEndpoint.Refused e) {
            throw new HttpError(e.status(), e.getMessage());
        }
    }

    // ---- responses

    private int sendJson(HttpExchange exchange, int status, JsonNode body) {
        return send(exchange, status, "application/json", json.writeValueAsString(body) + "\n");
    }

    private static int send(HttpExchange exchange, int status, String contentType, String body) {
        byte[] bytes = body.getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        try {
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException e) {
            logger.debug("admin API: cannot send the response to {}", exchange.getRemoteAddress(), e);
        }
        return status;
    }

    private void sendError(HttpExchange exchange, HttpError error) {
        ObjectNode body = NODES.objectNode();
        body.put("error", error.getMessage());
        if (error.field != null) {
            body.put("field", error.field);
            body.put("value", error.value);
        }
        if (error.currentResourceVersion != null) {
            body.put("currentResourceVersion", error.currentResourceVersion);
        }
        if (error.allow != null) {
            exchange.getResponseHeaders().set("Allow", error.allow);
        }
        sendJson(exchange, error.status, body);
    }

    /** An error response: the status and the message of its {@code "error"} field. */
    private static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        @Nullable String field;
        @Nullable String value;
        @Nullable String currentResourceVersion;
        @Nullable String allow;

        HttpError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    @Override
    public String toString() {
        return "admin API on " + (server instanceof HttpsServer ? "https" : "http") + "://"
                + address().getAddress().getHostAddress() + ":" + address().getPort();
    }
}
