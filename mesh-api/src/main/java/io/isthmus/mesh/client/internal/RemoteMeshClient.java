package io.isthmus.mesh.client.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.ApplyResult;
import io.isthmus.mesh.client.ExplainRequest;
import io.isthmus.mesh.client.ExplainResult;
import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.client.MeshAdminException;
import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.client.MeshStatus;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The client of a router daemon's admin API: a {@link MeshClient} and a {@link MeshAdmin} in one. */
public final class RemoteMeshClient implements MeshClient, MeshAdmin {

    private final AdminHttp http;
    private final RemoteConfigStore store;
    private final MeshObjectCodec codec = MeshObjectCodec.create();

    private RemoteMeshClient(MeshConnection connection) {
        http = new AdminHttp(connection);
        store = new RemoteConfigStore(http);
    }

    /**
     * Opens a client; no request is sent until the first call.
     *
     * @param connection the admin API's settings
     * @return the client
     */
    public static RemoteMeshClient open(MeshConnection connection) {
        return new RemoteMeshClient(requireNonNull(connection, "connection"));
    }

    @Override
    public URI adminUrl() {
        return http.connection().adminUrl();
    }

    @Override
    public RemoteConfigStore store() {
        return store;
    }

    @Override
    public URI ingress() {
        return http.connection().ingress();
    }

    @Override
    public List<ApplyResult> apply(List<? extends MeshObject> objects) {
        requireNonNull(objects, "objects");
        ArrayNode documents = JsonNodeFactory.instance.arrayNode();
        for (MeshObject object : objects) {
            documents.add(AdminHttp.JSON.readTree(codec.toJson(requireNonNull(object, "object"))));
        }
        AdminHttp.Response response = http.send("POST", "/v1/apply", AdminHttp.JSON.writeValueAsString(documents), null);
        if (response.status() != 200) {
            throw AdminHttp.refused(response, null, 0);
        }
        JsonNode results = AdminHttp.json(response).get("results");
        if (results == null || !results.isArray()) {
            throw unexpected(response, "no \"results\" list");
        }
        List<ApplyResult> applied = new ArrayList<>();
        for (JsonNode result : results.values()) {
            try {
                Kind kind = Kind.parse(String.valueOf(AdminHttp.text(result, "kind")));
                String name = String.valueOf(AdminHttp.text(result, "name"));
                String namespace = AdminHttp.text(result, "namespace");
                ObjectKey key = kind.namespaced()
                        ? ObjectKey.of(kind, namespace == null || namespace.isEmpty() ? MeshObject.DEFAULT_NAMESPACE
                                : namespace, name)
                        : ObjectKey.of(kind, name);
                ApplyResult.Action action = ApplyResult.Action.valueOf(
                        String.valueOf(AdminHttp.text(result, "action")).toUpperCase(Locale.ROOT));
                applied.add(new ApplyResult(key, action, AdminHttp.parseRevision(AdminHttp.text(result, "resourceVersion"))));
            } catch (IllegalArgumentException e) {
                throw unexpected(response, "result " + result + ": " + e.getMessage());
            }
        }
        return List.copyOf(applied);
    }

    @Override
    public MeshStatus status() {
        AdminHttp.Response response = http.send("GET", "/v1/status", null, null);
        if (response.status() != 200) {
            throw AdminHttp.refused(response, null, 0);
        }
        JsonNode body = AdminHttp.json(response);
        List<MeshStatus.Tunnel> tunnels = new ArrayList<>();
        for (JsonNode t : array(body, "tunnels")) {
            tunnels.add(new MeshStatus.Tunnel(string(t, "site"), string(t, "state"), string(t, "peer"),
                    string(t, "address")));
        }
        List<MeshStatus.Router> routers = new ArrayList<>();
        for (JsonNode r : array(body, "routers")) {
            routers.add(new MeshStatus.Router(string(r, "site"), string(r, "routerId"), string(r, "version"),
                    number(r, "appliedRevision"), string(r, "lastSeen")));
        }
        return new MeshStatus(string(body, "site"), string(body, "routerId"), string(body, "version"),
                number(body, "appliedRevision"), number(body, "storeRevision"), string(body, "state"), tunnels, routers);
    }

    @Override
    public ExplainResult explain(ExplainRequest request) {
        requireNonNull(request, "request");
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        if (request.host() != null) {
            body.put("host", request.host());
        } else {
            body.put("loadBalancer", request.loadBalancer());
        }
        body.put("method", request.method());
        body.put("path", request.path());
        ObjectNode headers = body.putObject("headers");
        request.headers().forEach(headers::put);
        if (request.clientIp() != null) {
            body.put("clientIp", request.clientIp());
        }
        if (request.sourceSite() != null) {
            body.put("sourceSite", request.sourceSite());
        }
        AdminHttp.Response response = http.send("POST", "/v1/explain", AdminHttp.JSON.writeValueAsString(body), null);
        if (response.status() != 200) {
            throw AdminHttp.refused(response, null, 0);
        }
        JsonNode result = AdminHttp.json(response);
        JsonNode allowed = result.get("allowed");
        if (allowed == null || !allowed.isBoolean()) {
            throw unexpected(response, "no \"allowed\" boolean");
        }
        List<String> trace = new ArrayList<>();
        for (JsonNode line : array(result, "trace")) {
            trace.add(line.isString() ? line.stringValue() : line.toString());
        }
        String reason = AdminHttp.text(result, "reason");
        return new ExplainResult(allowed.booleanValue(), AdminHttp.text(result, "policy"), AdminHttp.text(result, "rule"),
                reason == null ? "" : reason, trace);
    }

    private static Iterable<JsonNode> array(JsonNode object, String field) {
        JsonNode value = object.get(field);
        return value != null && value.isArray() ? value.values() : List.of();
    }

    private static String string(JsonNode object, String field) {
        String text = AdminHttp.text(object, field);
        return text == null ? "" : text;
    }

    private static long number(JsonNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return 0;
        }
        return value.isNumber() ? value.asLong() : AdminHttp.parseRevision(value.isString() ? value.stringValue() : null);
    }

    private static MeshAdminException unexpected(AdminHttp.Response response, String problem) {
        return new MeshAdminException(response.method() + ' ' + response.uri() + ": unexpected response: " + problem
                + " (expected: the admin API's format)", response.status(), response.uri(), null);
    }

    @Override
    public void close() {
        store.close();
    }

    @Override
    public String toString() {
        return "MeshClient(" + http.connection() + ')';
    }
}
