package io.isthmus.mesh.config;

import static io.isthmus.mesh.internal.DocumentFields.describe;
import static io.isthmus.mesh.internal.DocumentFields.objects;
import static io.isthmus.mesh.internal.DocumentFields.string;
import static io.isthmus.mesh.internal.DocumentFields.strings;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.DocumentFieldException;
import io.isthmus.mesh.internal.Durations;
import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.internal.policy.PolicyDocuments;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HashKey;
import io.isthmus.mesh.model.HealthCheck;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.LoadBalancingAlgorithm;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.OriginTls;
import io.isthmus.mesh.model.OutlierDetection;
import io.isthmus.mesh.model.RetryPolicy;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.StringMatch;
import io.isthmus.mesh.model.WeightedPool;
import java.time.Duration;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Reads and writes mesh objects as JSON and YAML documents: the format of configuration files, of
 * the command line and of the admin API.
 *
 * <p>A document names the object's kind and metadata, and holds the kind's fields under
 * {@code spec}:
 *
 * <pre>{@code
 * kind: LoadBalancer          # Site | LoadBalancer | OriginPool | ServicePolicy | NetworkFirewall
 * metadata:
 *   name: osaka-app
 *   namespace: default        # optional, default "default"; absent for a Site
 * spec:
 *   type: HTTP                # optional: HTTP (default) | TCP
 *   port: 80                  # optional for HTTP (80), required for TCP
 *   domains: [osaka-app, "*.shop.example"]
 *   advertiseSites: [tokyo]
 *   advertiseSelector: {region: kanto}          # optional: sites with these labels
 *   routes:                   # optional, tried in order
 *     - name: api
 *       match: {path: {prefix: /api/}, methods: [GET], headers: {x-canary: {exact: "1"}},
 *               queryParams: {debug: {present: true}}}      # path: exact | prefix | regex
 *       pools: [{pool: osaka-pool, weight: 90}, {pool: kyoto-pool, weight: 10}]
 *       timeout: 5s
 *       retry: {attempts: 2, retryOn: [connect-failure, gateway-error], perTryTimeout: 2s}
 *     - redirect: {scheme: https, status: 301}   # or directResponse: {status: 503, body: "..."}
 *   defaultPool: osaka-pool
 *   servicePolicies: [only-mesh-clients]         # optional
 * ---
 * kind: OriginPool
 * metadata: {name: osaka-pool}
 * spec:
 *   site: osaka
 *   endpoints: ["10.0.0.7:8080", "[::1]:8081"]  # static origins at the pool's site, weight 1, priority 0
 *   origins:                                     # and/or origins with all their options
 *     - {service: "orders.shop:8080", site: kyoto, weight: 2, priority: 1}   # or endpoint: "host:port"
 *   algorithm: ROUND_ROBIN                       # | LEAST_REQUEST | CONSISTENT_HASH (needs hashKey)
 *   hashKey: {cookie: session}                   # | {header: x-user} | {sourceIp: true}
 *   healthCheck: {path: /healthz, interval: 5s, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 3}
 *   outlierDetection: {consecutive5xx: 5, baseEjectionTime: 30s, maxEjectionPercent: 10}
 *   tls: {sni: orders.internal, trustPem: "-----BEGIN CERTIFICATE-----..."}   # {} trusts the JVM's roots
 * ---
 * kind: Site
 * metadata: {name: osaka}
 * spec:
 *   tunnelEndpoints: ["127.0.0.1:4443"]
 *   labels: {region: kansai}
 * }</pre>
 *
 * <p>Reading and writing:
 *
 * <pre>{@code
 * MeshObjectCodec codec = MeshObjectCodec.create();
 * List<MeshObject> objects = codec.readYaml(Files.readString(Path.of("mesh.yaml")));
 * objects.forEach(store::put);
 * String json = codec.toJson(objects.get(0));   // {"kind":"LoadBalancer","metadata":{...},"spec":{...}}
 * MeshObject same = codec.read(json);            // JSON or YAML, told apart by the first character
 * }</pre>
 *
 * <p>Every problem is reported as a {@link ConfigValidationException} whose {@linkplain
 * ConfigValidationException#fieldPath() field path} names the bad field the way the model does, e.g.
 * {@code loadBalancers[osaka-app].domains[1]: "Bad Domain" (expected: ...)}; an unknown field is
 * named by its place in the document ({@code loadBalancers[osaka-app].spec.domainz}), a syntax error
 * by its line and column. Unknown fields, duplicate fields and values of the wrong type are errors,
 * never silently ignored or converted. Reading either returns every object or throws: nothing is
 * half-read.
 *
 * <p>Durations are written {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h} and also read in ISO-8601
 * ({@code PT1.5S}). Problems inside a route, origin or setting carry the same text the builders
 * produce, under the object's path ({@code loadBalancers[shop].routes[2].match.path: "[" (expected: a
 * valid regex)}).
 *
 * <p>Output is deterministic: fields in the order shown above, lists in the object's order, the
 * namespace always written for namespaced kinds; optional fields only when they differ from their
 * defaults, and a pool's origins as {@code endpoints} when every origin is a plain static endpoint. A codec is immutable and thread-safe; create one and
 * share it.
 */
public final class MeshObjectCodec {

    private static final String KINDS = "one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall";
    private static final List<String> DOCUMENT_FIELDS = List.of("kind", "metadata", "spec");
    private static final List<String> METADATA_FIELDS = List.of("name", "namespace");
    private static final List<String> LOAD_BALANCER_FIELDS = List.of("type", "port", "domains", "advertiseSites",
            "advertiseSelector", "routes", "defaultPool", "servicePolicies");
    private static final List<String> ROUTE_FIELDS =
            List.of("name", "match", "pools", "redirect", "directResponse", "timeout", "retry");
    private static final List<String> MATCH_FIELDS = List.of("path", "methods", "headers", "queryParams");
    private static final List<String> STRING_MATCH_FIELDS = List.of("exact", "prefix", "regex", "present");
    private static final List<String> WEIGHTED_POOL_FIELDS = List.of("pool", "weight");
    private static final List<String> REDIRECT_FIELDS = List.of("scheme", "host", "path", "status");
    private static final List<String> DIRECT_RESPONSE_FIELDS = List.of("status", "body");
    private static final List<String> RETRY_FIELDS = List.of("attempts", "retryOn", "perTryTimeout", "retryNonIdempotent");
    private static final List<String> ORIGIN_POOL_FIELDS = List.of("site", "endpoints", "origins", "algorithm", "hashKey",
            "healthCheck", "outlierDetection", "tls");
    private static final List<String> ORIGIN_FIELDS = List.of("endpoint", "service", "site", "weight", "priority");
    private static final List<String> HASH_KEY_FIELDS = List.of("header", "cookie", "sourceIp");
    private static final List<String> HEALTH_CHECK_FIELDS =
            List.of("path", "interval", "timeout", "healthyThreshold", "unhealthyThreshold");
    private static final List<String> OUTLIER_FIELDS = List.of("consecutive5xx", "baseEjectionTime", "maxEjectionPercent");
    private static final List<String> TLS_FIELDS = List.of("sni", "trustPem");
    private static final Pattern SERVICE = Pattern.compile("([^.:]+)\\.([^.:]+):(\\d{1,5})");
    private static final List<String> SITE_FIELDS = List.of("tunnelEndpoints", "labels");

    // A YAML syntax error names its position as "line N, column M"; the last one is the problem's.
    private static final Pattern YAML_MARK = Pattern.compile("line (\\d+), column (\\d+)");
    private static final Pattern DUPLICATE_FIELD = Pattern.compile("^Duplicate (?:property|field) \"(.*)\" for");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonMapper json;
    private final YAMLMapper yaml;
    private final ObjectReader yamlDocument;

    private MeshObjectCodec() {
        json = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        yaml = YAMLMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
                .disable(YAMLWriteFeature.SPLIT_LINES)
                .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
                // "123" or "true" must come back as strings, not as a number or a boolean.
                .enable(YAMLWriteFeature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .enable(YAMLWriteFeature.INDENT_ARRAYS_WITH_INDICATOR)
                .build();
        // Reads one document of a stream; the next document is not trailing garbage.
        yamlDocument = yaml.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * Returns a codec. A codec is immutable and thread-safe; create one and share it.
     *
     * @return the codec
     */
    public static MeshObjectCodec create() {
        return new MeshObjectCodec();
    }

    // ---- writing

    /**
     * Writes an object as a compact, single-line JSON document.
     *
     * @param object the object
     * @return the JSON text
     */
    public String toJson(MeshObject object) {
        return json.writeValueAsString(toTree(object));
    }

    /**
     * Writes an object as a YAML document, without a leading {@code ---}.
     *
     * @param object the object
     * @return the YAML text, ending with a line break
     */
    public String toYaml(MeshObject object) {
        return yaml.writeValueAsString(toTree(object));
    }

    /**
     * Writes objects as a multi-document YAML stream, the documents separated by {@code ---} lines.
     *
     * @param objects the objects, in the order to write them
     * @return the YAML text; empty when there are no objects
     */
    public String toYaml(List<? extends MeshObject> objects) {
        requireNonNull(objects, "objects");
        StringBuilder out = new StringBuilder();
        for (MeshObject object : objects) {
            if (out.length() > 0) {
                out.append("---\n");
            }
            out.append(toYaml(object));
        }
        return out.toString();
    }

    /**
     * Returns an object as a document of nested maps, lists and strings, for front doors that bind
     * configuration to maps (e.g. Spring properties). {@link #fromMap(Map)} reads it back.
     *
     * @param object the object
     * @return a new map that the caller owns, with keys in document order
     */
    public Map<String, Object> toMap(MeshObject object) {
        Map<String, Object> map = new LinkedHashMap<>();
        toTree(object).properties().forEach(e -> map.put(e.getKey(), toJava(e.getValue())));
        return map;
    }

    private ObjectNode toTree(MeshObject object) {
        requireNonNull(object, "object");
        ObjectNode root = NODES.objectNode();
        root.put("kind", object.kind().kindName());
        ObjectNode metadata = root.putObject("metadata");
        metadata.put("name", object.name());
        if (object.kind().namespaced()) {
            metadata.put("namespace", object.key().namespace());
        }
        ObjectNode spec = root.putObject("spec");
        switch (object.kind()) {
            case LOAD_BALANCER:
                writeLoadBalancer((LoadBalancer) object, spec);
                break;
            case ORIGIN_POOL:
                writeOriginPool((OriginPool) object, spec);
                break;
            case SITE:
                Site site = (Site) object;
                writeEndpoints(spec.putArray("tunnelEndpoints"), site.tunnelEndpoints());
                ObjectNode labels = spec.putObject("labels");
                site.labels().forEach(labels::put);
                break;
            case SERVICE_POLICY:
                PolicyDocuments.writeServicePolicy((ServicePolicy) object, spec);
                break;
            case NETWORK_FIREWALL:
                PolicyDocuments.writeNetworkFirewall((NetworkFirewall) object, spec);
                break;
            default:
                throw new AssertionError(object.kind());
        }
        return root;
    }

    private static void writeLoadBalancer(LoadBalancer lb, ObjectNode spec) {
        if (lb.type() != LoadBalancer.Type.HTTP) {
            spec.put("type", lb.type().name());
        }
        if (lb.type() != LoadBalancer.Type.HTTP || lb.port() != LoadBalancer.DEFAULT_HTTP_PORT) {
            spec.put("port", lb.port());
        }
        lb.domains().forEach(spec.putArray("domains")::add);
        lb.advertiseSites().forEach(spec.putArray("advertiseSites")::add);
        if (!lb.advertiseSelector().isEmpty()) {
            ObjectNode selector = spec.putObject("advertiseSelector");
            lb.advertiseSelector().forEach(selector::put);
        }
        if (!lb.routes().isEmpty()) {
            ArrayNode routes = spec.putArray("routes");
            lb.routes().forEach(route -> writeRoute(route, routes.addObject()));
        }
        spec.put("defaultPool", lb.defaultPool());
        if (!lb.servicePolicies().isEmpty()) {
            lb.servicePolicies().forEach(spec.putArray("servicePolicies")::add);
        }
    }

    private static void writeRoute(Route route, ObjectNode node) {
        if (route.name() != null) {
            node.put("name", route.name());
        }
        RouteMatch match = route.match();
        if (!match.isAny()) {
            ObjectNode m = node.putObject("match");
            StringMatch path = match.path();
            if (path != null) {
                writeStringMatch(path, m.putObject("path"));
            }
            if (!match.methods().isEmpty()) {
                match.methods().forEach(m.putArray("methods")::add);
            }
            if (!match.headers().isEmpty()) {
                ObjectNode headers = m.putObject("headers");
                match.headers().forEach((name, value) -> writeStringMatch(value, headers.putObject(name)));
            }
            if (!match.queryParams().isEmpty()) {
                ObjectNode params = m.putObject("queryParams");
                match.queryParams().forEach((name, value) -> writeStringMatch(value, params.putObject(name)));
            }
        }
        RouteAction action = route.action();
        if (action instanceof RouteAction.Forward) {
            ArrayNode pools = node.putArray("pools");
            for (WeightedPool pool : ((RouteAction.Forward) action).pools()) {
                ObjectNode p = pools.addObject().put("pool", pool.pool());
                if (pool.weight() != WeightedPool.DEFAULT_WEIGHT) {
                    p.put("weight", pool.weight());
                }
            }
        } else if (action instanceof RouteAction.Redirect) {
            RouteAction.Redirect redirect = (RouteAction.Redirect) action;
            ObjectNode r = node.putObject("redirect");
            putIfSet(r, "scheme", redirect.scheme());
            putIfSet(r, "host", redirect.host());
            putIfSet(r, "path", redirect.path());
            r.put("status", redirect.status());
        } else {
            RouteAction.DirectResponse response = (RouteAction.DirectResponse) action;
            node.putObject("directResponse").put("status", response.status()).put("body", response.body());
        }
        Duration timeout = route.timeout();
        if (timeout != null) {
            node.put("timeout", Durations.format(timeout));
        }
        RetryPolicy retry = route.retry();
        if (retry != null) {
            ObjectNode r = node.putObject("retry");
            r.put("attempts", retry.attempts());
            retry.retryOn().forEach(c -> r.withArray("retryOn").add(c.documentName()));
            Duration perTry = retry.perTryTimeout();
            if (perTry != null) {
                r.put("perTryTimeout", Durations.format(perTry));
            }
            if (retry.retryNonIdempotent()) {
                r.put("retryNonIdempotent", true);
            }
        }
    }

    private static void putIfSet(ObjectNode node, String field, @Nullable String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static void writeStringMatch(StringMatch match, ObjectNode node) {
        if (match.type() == StringMatch.Type.PRESENT) {
            node.put("present", true);
        } else {
            node.put(match.type().name().toLowerCase(Locale.ROOT), match.value());
        }
    }

    private static void writeOriginPool(OriginPool pool, ObjectNode spec) {
        spec.put("site", pool.site());
        if (pool.origins().stream().allMatch(Origin::isPlain)) {
            writeEndpoints(spec.putArray("endpoints"), pool.endpoints());
        } else {
            ArrayNode origins = spec.putArray("origins");
            for (Origin origin : pool.origins()) {
                ObjectNode o = origins.addObject();
                o.put(origin.type() == Origin.Type.STATIC ? "endpoint" : "service", origin.address());
                putIfSet(o, "site", origin.site());
                if (origin.weight() != Origin.DEFAULT_WEIGHT) {
                    o.put("weight", origin.weight());
                }
                if (origin.priority() != 0) {
                    o.put("priority", origin.priority());
                }
            }
        }
        if (pool.algorithm() != LoadBalancingAlgorithm.ROUND_ROBIN) {
            spec.put("algorithm", pool.algorithm().name());
        }
        HashKey hashKey = pool.hashKey();
        if (hashKey != null) {
            ObjectNode h = spec.putObject("hashKey");
            if (hashKey.type() == HashKey.Type.SOURCE_IP) {
                h.put("sourceIp", true);
            } else {
                h.put(hashKey.type() == HashKey.Type.HEADER ? "header" : "cookie", hashKey.name());
            }
        }
        HealthCheck check = pool.healthCheck();
        if (check != null) {
            spec.putObject("healthCheck").put("path", check.path())
                    .put("interval", Durations.format(check.interval()))
                    .put("timeout", Durations.format(check.timeout()))
                    .put("healthyThreshold", check.healthyThreshold())
                    .put("unhealthyThreshold", check.unhealthyThreshold());
        }
        OutlierDetection outliers = pool.outlierDetection();
        if (outliers != null) {
            spec.putObject("outlierDetection").put("consecutive5xx", outliers.consecutive5xx())
                    .put("baseEjectionTime", Durations.format(outliers.baseEjectionTime()))
                    .put("maxEjectionPercent", outliers.maxEjectionPercent());
        }
        OriginTls tls = pool.tls();
        if (tls != null) {
            ObjectNode t = spec.putObject("tls");
            putIfSet(t, "sni", tls.sni());
            putIfSet(t, "trustPem", tls.trustPem());
        }
    }

    private static void writeEndpoints(ArrayNode array, List<Endpoint> endpoints) {
        endpoints.forEach(endpoint -> array.add(endpoint.toString()));
    }

    private static @Nullable Object toJava(JsonNode node) {
        if (node.isObject()) {
            Map<String, @Nullable Object> map = new LinkedHashMap<>();
            node.properties().forEach(e -> map.put(e.getKey(), toJava(e.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<@Nullable Object> list = new ArrayList<>();
            node.values().forEach(item -> list.add(toJava(item)));
            return list;
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isNumber()) {
            return node.canConvertToInt() ? (Object) node.intValue() : node.numberValue();
        }
        return node.isString() ? node.stringValue() : null;
    }

    // ---- reading

    /**
     * Reads one object from a JSON document.
     *
     * @param text the JSON text
     * @return the object
     * @throws ConfigValidationException naming the bad field, or the line and column of a syntax error
     */
    public MeshObject fromJson(String text) {
        requireNonNull(text, "text");
        JsonNode document;
        try {
            document = json.readTree(text.startsWith("\uFEFF") ? text.substring(1) : text);
        } catch (JacksonException e) {
            throw syntaxError("JSON", e, "");
        }
        if (document == null || document.isMissingNode()) {
            throw new ConfigValidationException("", "no document (expected: one JSON object)");
        }
        return fromTree(document);
    }

    /**
     * Reads exactly one object from a YAML document.
     *
     * @param text the YAML text; empty documents around the one document are ignored
     * @return the object
     * @throws ConfigValidationException naming the bad field, or the line and column of a syntax error;
     *     also when the text holds no document or several
     */
    public MeshObject fromYaml(String text) {
        List<@Nullable JsonNode> documents = parseYaml(text, false);
        JsonNode found = null;
        for (int i = 0; i < documents.size(); i++) {
            JsonNode document = documents.get(i);
            if (isEmpty(document)) {
                continue;
            }
            if (found != null) {
                throw new ConfigValidationException(documentPath(i),
                        "a second document (expected: exactly one; read several with readYaml)");
            }
            found = document;
        }
        if (found == null) {
            throw new ConfigValidationException("", "no document (expected: exactly one)");
        }
        return fromTree(found);
    }

    /**
     * Reads every object of a multi-document YAML stream, skipping empty documents. Errors are prefixed
     * with the document's index in the stream, counting from 0 and including empty documents, e.g.
     * {@code documents[2].originPools[osaka-pool].endpoints[0]: ...}.
     *
     * @param text the YAML text
     * @return the objects, in document order; all of them or, when one is bad, none
     * @throws ConfigValidationException naming the document and the bad field
     */
    public List<MeshObject> readYaml(String text) {
        List<@Nullable JsonNode> documents = parseYaml(text, true);
        List<MeshObject> objects = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            JsonNode document = documents.get(i);
            if (isEmpty(document)) {
                continue;
            }
            try {
                objects.add(fromTree(document));
            } catch (ConfigValidationException e) {
                throw withPrefix(documentPath(i), e);
            }
        }
        return List.copyOf(objects);
    }

    /**
     * Reads one object from JSON or YAML: text whose first non-blank character is <code>{</code> is
     * read as JSON (for precise syntax errors), anything else as exactly one YAML document.
     *
     * @param text the JSON or YAML text
     * @return the object
     * @throws ConfigValidationException naming the bad field, or the line and column of a syntax error
     */
    public MeshObject read(String text) {
        requireNonNull(text, "text");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{') {
                return fromJson(text);
            }
            if (!Character.isWhitespace(c) && c != '\uFEFF') {
                break;
            }
        }
        return fromYaml(text);
    }

    /**
     * Reads one object from a document of nested maps, lists and scalars, as produced by {@link
     * #toMap(MeshObject)} or by a front door that binds configuration to maps. Lists may be given as
     * {@link Collection}s or arrays.
     *
     * @param document the document, with the same fields as a YAML document
     * @return the object
     * @throws ConfigValidationException naming the bad field
     */
    public MeshObject fromMap(Map<String, ?> document) {
        return fromTree(toNode(requireNonNull(document, "document"), ""));
    }

    private static JsonNode toNode(@Nullable Object value, String path) {
        if (value == null) {
            return NODES.nullNode();
        }
        if (value instanceof CharSequence || value instanceof Character || value instanceof Enum) {
            return NODES.stringNode(value.toString());
        }
        if (value instanceof Boolean) {
            return NODES.booleanNode((Boolean) value);
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            return NODES.numberNode(((Number) value).longValue());
        }
        if (value instanceof BigInteger) {
            return NODES.numberNode((BigInteger) value);
        }
        if (value instanceof Number) {
            return NODES.numberNode(new BigDecimal(value.toString()));
        }
        if (value instanceof Map) {
            ObjectNode object = NODES.objectNode();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                String key = String.valueOf(e.getKey());
                object.set(key, toNode(e.getValue(), path.isEmpty() ? key : path + '.' + key));
            }
            return object;
        }
        if (value instanceof Collection || value instanceof Object[]) {
            ArrayNode array = NODES.arrayNode();
            Collection<?> items = value instanceof Collection ? (Collection<?>) value : List.of((Object[]) value);
            for (Object item : items) {
                array.add(toNode(item, path + '[' + array.size() + ']'));
            }
            return array;
        }
        throw new ConfigValidationException(path, "a " + value.getClass().getName()
                + " (expected: a string, number, boolean, list or map)");
    }

    private List<@Nullable JsonNode> parseYaml(String text, boolean nameDocuments) {
        requireNonNull(text, "text");
        List<@Nullable JsonNode> documents = new ArrayList<>();
        // One tree per document; a MappingIterator would unwrap a document that is a list.
        try (JsonParser parser = yaml.createParser(text)) {
            while (parser.nextToken() != null) {
                documents.add(yamlDocument.readTree(parser));
            }
        } catch (JacksonException e) {
            // The document being read when the error occurred has the next index.
            throw syntaxError("YAML", e, nameDocuments ? documentPath(documents.size()) : "");
        }
        return documents;
    }

    private static boolean isEmpty(@Nullable JsonNode document) {
        return document == null || document.isNull() || document.isMissingNode();
    }

    private static String documentPath(int index) {
        return "documents[" + index + ']';
    }

    private static ConfigValidationException syntaxError(String format, JacksonException e, String path) {
        String message = String.valueOf(e.getOriginalMessage());
        int line = -1;
        int column = -1;
        TokenStreamLocation location = e.getLocation();
        if (location != null) {
            line = location.getLineNr();
            column = location.getColumnNr();
        }
        StringBuilder problem = new StringBuilder();
        Matcher duplicate = DUPLICATE_FIELD.matcher(message);
        if (duplicate.find()) {
            problem.append("duplicate field \"").append(duplicate.group(1)).append("\" (expected: each field once)");
        } else if (message.startsWith("Trailing token")) {
            problem.append("more content after the document (expected: exactly one document)");
        } else {
            // A YAML parser message spans lines: the context, an excerpt with a caret, the problem.
            for (String part : message.split("\n")) {
                Matcher mark = YAML_MARK.matcher(part);
                if (part.startsWith(" in ") && mark.find()) {
                    line = Integer.parseInt(mark.group(1));
                    column = Integer.parseInt(mark.group(2));
                } else if (!part.isBlank() && !part.startsWith("    ")) {
                    problem.append(problem.length() == 0 ? "" : ": ").append(part.strip());
                }
            }
        }
        String where = line > 0 ? " at line " + line + (column > 0 ? ", column " + column : "") : "";
        ConfigValidationException error =
                new ConfigValidationException(path, "malformed " + format + where + ": " + problem);
        error.initCause(e);
        return error;
    }

    private static ConfigValidationException withPrefix(String prefix, ConfigValidationException e) {
        String path = e.fieldPath().isEmpty() ? prefix : prefix + '.' + e.fieldPath();
        ConfigValidationException error = new ConfigValidationException(path, problemOf(e));
        error.initCause(e);
        return error;
    }

    private static String problemOf(ConfigValidationException e) {
        String message = String.valueOf(e.getMessage());
        return e.fieldPath().isEmpty() ? message : message.substring(e.fieldPath().length() + 2);
    }

    private static MeshObject fromTree(JsonNode document) {
        if (!document.isObject()) {
            throw new ConfigValidationException("", describe(document)
                    + " (expected: an object with kind, metadata and spec)");
        }
        JsonNode kindNode = document.get("kind");
        if (kindNode == null || kindNode.isNull()) {
            throw new ConfigValidationException("kind", "is required (expected: " + KINDS + ')');
        }
        if (!kindNode.isString()) {
            throw new ConfigValidationException("kind", describe(kindNode) + " (expected: " + KINDS + ')');
        }
        Kind kind;
        try {
            kind = Kind.parse(kindNode.stringValue());
        } catch (IllegalArgumentException e) {
            throw new ConfigValidationException("kind", Validation.quote(kindNode.stringValue())
                    + " (expected: " + KINDS + ')');
        }
        JsonNode metadata = document.get("metadata");
        if (metadata == null || metadata.isNull()) {
            throw new ConfigValidationException("metadata.name", "is required");
        }
        if (!metadata.isObject()) {
            throw new ConfigValidationException("metadata", describe(metadata) + " (expected: an object)");
        }
        JsonNode nameNode = metadata.get("name");
        if (nameNode == null || nameNode.isNull()) {
            throw new ConfigValidationException("metadata.name", "is required");
        }
        if (!nameNode.isString()) {
            throw new ConfigValidationException("metadata.name", describe(nameNode) + " (expected: a string)");
        }
        String name = nameNode.stringValue();
        String path = MeshObject.pathOf(kind, name);

        checkFields(document, DOCUMENT_FIELDS, path);
        checkFields(metadata, METADATA_FIELDS, path + ".metadata");
        String namespace = string(metadata, "namespace", path + ".namespace");
        if (namespace != null && !kind.namespaced()) {
            throw new ConfigValidationException(path + ".namespace", Validation.quote(namespace)
                    + " (expected: none; a " + kind.kindName() + " is not namespaced)");
        }
        JsonNode spec = document.get("spec");
        if (spec == null || spec.isNull()) {
            spec = NODES.objectNode();
        } else if (!spec.isObject()) {
            throw new ConfigValidationException(path + ".spec", describe(spec) + " (expected: an object)");
        }
        switch (kind) {
            case LOAD_BALANCER:
                return loadBalancer(name, namespace, spec, path);
            case ORIGIN_POOL:
                return originPool(name, namespace, spec, path);
            case SITE:
                return site(name, spec, path);
            case SERVICE_POLICY:
                return PolicyDocuments.readServicePolicy(name, namespace, spec, path);
            case NETWORK_FIREWALL:
                return PolicyDocuments.readNetworkFirewall(name, spec, path);
            default:
                throw new AssertionError(kind);
        }
    }

    private static LoadBalancer loadBalancer(String name, @Nullable String namespace, JsonNode spec, String path) {
        checkFields(spec, LOAD_BALANCER_FIELDS, path + ".spec");
        LoadBalancer.Builder b = LoadBalancer.builder(name);
        if (namespace != null) {
            b.namespace(namespace);
        }
        String type = string(spec, "type", path + ".type");
        if (type != null) {
            b.type(parseEnum(LoadBalancer.Type.class, type, path + ".type"));
        }
        Integer port = integer(spec, "port", path + ".port");
        if (port != null) {
            b.port(port);
        }
        b.domains(strings(spec, "domains", path));
        b.advertiseAt(strings(spec, "advertiseSites", path));
        b.advertiseSelector(stringMap(spec, "advertiseSelector", path + ".advertiseSelector"));
        List<JsonNode> routes = objects(spec, "routes", path);
        for (int i = 0; i < routes.size(); i++) {
            String routePath = path + ".routes[" + i + ']';
            JsonNode node = routes.get(i);
            int index = i;
            b.route(Validation.nested(routePath, () -> route(node, path + ".spec.routes[" + index + ']')));
        }
        String pool = string(spec, "defaultPool", path + ".defaultPool");
        if (pool != null) {
            b.defaultPool(pool);
        }
        b.servicePolicies(strings(spec, "servicePolicies", path));
        return b.build();
    }

    // Problems are reported relative to the route; the caller prefixes them.
    private static Route route(JsonNode node, String absolute) {
        checkFields(node, ROUTE_FIELDS, absolute);
        Route.Builder b = Route.builder();
        String name = string(node, "name", "name");
        if (name != null) {
            b.name(name);
        }
        JsonNode match = object(node, "match", "match");
        if (match != null) {
            b.match(Validation.nested("match", () -> routeMatch(match, absolute + ".match")));
        }
        int actions = 0;
        for (String field : List.of("pools", "redirect", "directResponse")) {
            JsonNode value = node.get(field);
            if (value != null && !value.isNull()) {
                if (++actions > 1) {
                    throw new ConfigValidationException(field, "a second action (expected: exactly one of pools,"
                            + " redirect, directResponse)");
                }
            }
        }
        if (actions == 0) {
            throw new ConfigValidationException("", "no action (expected: exactly one of pools, redirect, directResponse)");
        }
        List<JsonNode> pools = objects(node, "pools", "");
        if (!pools.isEmpty() || node.has("pools") && !node.get("pools").isNull()) {
            List<WeightedPool> weighted = new ArrayList<>();
            for (int i = 0; i < pools.size(); i++) {
                String poolPath = "pools[" + i + ']';
                JsonNode p = pools.get(i);
                checkFields(p, WEIGHTED_POOL_FIELDS, absolute + '.' + poolPath);
                String pool = Validation.required(string(p, "pool", poolPath + ".pool"), poolPath + ".pool");
                Integer weight = integer(p, "weight", poolPath + ".weight");
                weighted.add(Validation.nested(poolPath, () ->
                        WeightedPool.of(pool, weight == null ? WeightedPool.DEFAULT_WEIGHT : weight)));
            }
            b.action(RouteAction.forward(weighted));
        }
        JsonNode redirect = object(node, "redirect", "redirect");
        if (redirect != null) {
            checkFields(redirect, REDIRECT_FIELDS, absolute + ".redirect");
            Integer status = integer(redirect, "status", "redirect.status");
            String scheme = string(redirect, "scheme", "redirect.scheme");
            String host = string(redirect, "host", "redirect.host");
            String path = string(redirect, "path", "redirect.path");
            b.action(Validation.nested("redirect", () ->
                    new RouteAction.Redirect(scheme, host, path, status == null ? 301 : status)));
        }
        JsonNode response = object(node, "directResponse", "directResponse");
        if (response != null) {
            checkFields(response, DIRECT_RESPONSE_FIELDS, absolute + ".directResponse");
            int status = Validation.required(integer(response, "status", "directResponse.status"), "directResponse.status");
            String body = string(response, "body", "directResponse.body");
            b.action(Validation.nested("directResponse", () -> RouteAction.directResponse(status, body == null ? "" : body)));
        }
        Duration timeout = duration(node, "timeout", "timeout");
        if (timeout != null) {
            b.timeout(timeout);
        }
        JsonNode retry = object(node, "retry", "retry");
        if (retry != null) {
            b.retry(Validation.nested("retry", () -> retryPolicy(retry, absolute + ".retry")));
        }
        return b.build();
    }

    private static RouteMatch routeMatch(JsonNode node, String absolute) {
        checkFields(node, MATCH_FIELDS, absolute);
        RouteMatch.Builder b = RouteMatch.builder();
        JsonNode path = object(node, "path", "path");
        if (path != null) {
            b.path(stringMatch(path, absolute + ".path", "path"));
        }
        b.methods(strings(node, "methods", ""));
        for (String field : List.of("headers", "queryParams")) {
            JsonNode map = object(node, field, field);
            if (map == null) {
                continue;
            }
            for (Map.Entry<String, JsonNode> e : map.properties()) {
                String itemPath = field + '[' + e.getKey() + ']';
                if (!e.getValue().isObject()) {
                    throw new ConfigValidationException(itemPath, describe(e.getValue())
                            + " (expected: one of {exact: ...}, {prefix: ...}, {regex: ...}, {present: true})");
                }
                StringMatch match = stringMatch(e.getValue(), absolute + '.' + itemPath, itemPath);
                if (field.equals("headers")) {
                    b.header(e.getKey(), match);
                } else {
                    b.queryParam(e.getKey(), match);
                }
            }
        }
        return b.build();
    }

    private static StringMatch stringMatch(JsonNode node, String absolute, String relative) {
        checkFields(node, STRING_MATCH_FIELDS, absolute);
        if (node.size() != 1) {
            throw new ConfigValidationException(relative, describe(node)
                    + " (expected: exactly one of exact, prefix, regex, present)");
        }
        String field = node.propertyNames().iterator().next();
        if (field.equals("present")) {
            JsonNode value = node.get(field);
            if (!value.isBoolean() || !value.booleanValue()) {
                throw new ConfigValidationException(relative + ".present", describe(value) + " (expected: true)");
            }
            return StringMatch.present();
        }
        String value = Validation.required(string(node, field, relative + '.' + field), relative + '.' + field);
        StringMatch.Type type = StringMatch.Type.valueOf(field.toUpperCase(Locale.ROOT));
        return Validation.nested(relative, () -> StringMatch.of(type, value));
    }

    private static RetryPolicy retryPolicy(JsonNode node, String absolute) {
        checkFields(node, RETRY_FIELDS, absolute);
        RetryPolicy.Builder b = RetryPolicy.builder();
        Integer attempts = integer(node, "attempts", "attempts");
        if (attempts != null) {
            b.attempts(attempts);
        }
        JsonNode retryOnNode = node.get("retryOn");
        if (retryOnNode != null && !retryOnNode.isNull()) {
            List<String> names = strings(node, "retryOn", "");
            List<RetryPolicy.RetryOn> conditions = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                conditions.add(RetryPolicy.RetryOn.parse(names.get(i), "retryOn[" + i + ']'));
            }
            b.retryOn(conditions);
        }
        Duration perTry = duration(node, "perTryTimeout", "perTryTimeout");
        if (perTry != null) {
            b.perTryTimeout(perTry);
        }
        Boolean nonIdempotent = bool(node, "retryNonIdempotent", "retryNonIdempotent");
        if (nonIdempotent != null) {
            b.retryNonIdempotent(nonIdempotent);
        }
        return b.build();
    }

    private static OriginPool originPool(String name, @Nullable String namespace, JsonNode spec, String path) {
        checkFields(spec, ORIGIN_POOL_FIELDS, path + ".spec");
        OriginPool.Builder b = OriginPool.builder(name);
        if (namespace != null) {
            b.namespace(namespace);
        }
        String site = string(spec, "site", path + ".site");
        if (site != null) {
            b.site(site);
        }
        b.endpoints(endpoints(spec, "endpoints", path));
        List<JsonNode> origins = objects(spec, "origins", path);
        for (int i = 0; i < origins.size(); i++) {
            String originPath = path + ".origins[" + i + ']';
            JsonNode node = origins.get(i);
            int index = i;
            b.origin(Validation.nested(originPath, () -> origin(node, path + ".spec.origins[" + index + ']')));
        }
        String algorithm = string(spec, "algorithm", path + ".algorithm");
        if (algorithm != null) {
            b.algorithm(parseEnum(LoadBalancingAlgorithm.class, algorithm, path + ".algorithm"));
        }
        JsonNode hashKey = object(spec, "hashKey", path + ".hashKey");
        if (hashKey != null) {
            b.hashKey(Validation.nested(path + ".hashKey", () -> hashKey(hashKey, path + ".spec.hashKey")));
        }
        JsonNode check = object(spec, "healthCheck", path + ".healthCheck");
        if (check != null) {
            b.healthCheck(Validation.nested(path + ".healthCheck", () -> healthCheck(check, path + ".spec.healthCheck")));
        }
        JsonNode outliers = object(spec, "outlierDetection", path + ".outlierDetection");
        if (outliers != null) {
            b.outlierDetection(Validation.nested(path + ".outlierDetection",
                    () -> outlierDetection(outliers, path + ".spec.outlierDetection")));
        }
        JsonNode tls = object(spec, "tls", path + ".tls");
        if (tls != null) {
            b.tls(Validation.nested(path + ".tls", () -> originTls(tls, path + ".spec.tls")));
        }
        return b.build();
    }

    private static Origin origin(JsonNode node, String absolute) {
        checkFields(node, ORIGIN_FIELDS, absolute);
        Origin.Builder b = Origin.builder();
        String endpoint = string(node, "endpoint", "endpoint");
        String service = string(node, "service", "service");
        if ((endpoint == null) == (service == null)) {
            throw new ConfigValidationException("", describe(node) + " (expected: exactly one of endpoint, service)");
        }
        if (endpoint != null) {
            b.endpoint(Validation.nested("endpoint", () -> Endpoint.parse(endpoint)));
        } else {
            Matcher m = SERVICE.matcher(requireNonNull(service));
            if (!m.matches()) {
                throw new ConfigValidationException("service", Validation.quote(service)
                        + " (expected: name.namespace:port of a Kubernetes service)");
            }
            b.kubernetesService(m.group(1), m.group(2), Integer.parseInt(m.group(3)));
        }
        String site = string(node, "site", "site");
        if (site != null) {
            b.site(site);
        }
        Integer weight = integer(node, "weight", "weight");
        if (weight != null) {
            b.weight(weight);
        }
        Integer priority = integer(node, "priority", "priority");
        if (priority != null) {
            b.priority(priority);
        }
        return b.build();
    }

    private static HashKey hashKey(JsonNode node, String absolute) {
        checkFields(node, HASH_KEY_FIELDS, absolute);
        if (node.size() != 1) {
            throw new ConfigValidationException("", describe(node) + " (expected: exactly one of header, cookie, sourceIp)");
        }
        if (node.has("sourceIp")) {
            Boolean on = bool(node, "sourceIp", "sourceIp");
            if (on == null || !on) {
                throw new ConfigValidationException("sourceIp", describe(node.get("sourceIp")) + " (expected: true)");
            }
            return HashKey.sourceIp();
        }
        String header = string(node, "header", "header");
        String cookie = string(node, "cookie", "cookie");
        return header != null ? HashKey.header(header) : HashKey.cookie(Validation.required(cookie, "cookie"));
    }

    private static HealthCheck healthCheck(JsonNode node, String absolute) {
        checkFields(node, HEALTH_CHECK_FIELDS, absolute);
        HealthCheck.Builder b = HealthCheck.builder();
        String path = string(node, "path", "path");
        if (path != null) {
            b.path(path);
        }
        Duration interval = duration(node, "interval", "interval");
        if (interval != null) {
            b.interval(interval);
        }
        Duration timeout = duration(node, "timeout", "timeout");
        if (timeout != null) {
            b.timeout(timeout);
        }
        Integer healthy = integer(node, "healthyThreshold", "healthyThreshold");
        if (healthy != null) {
            b.healthyThreshold(healthy);
        }
        Integer unhealthy = integer(node, "unhealthyThreshold", "unhealthyThreshold");
        if (unhealthy != null) {
            b.unhealthyThreshold(unhealthy);
        }
        return b.build();
    }

    private static OutlierDetection outlierDetection(JsonNode node, String absolute) {
        checkFields(node, OUTLIER_FIELDS, absolute);
        OutlierDetection.Builder b = OutlierDetection.builder();
        Integer consecutive = integer(node, "consecutive5xx", "consecutive5xx");
        if (consecutive != null) {
            b.consecutive5xx(consecutive);
        }
        Duration ejection = duration(node, "baseEjectionTime", "baseEjectionTime");
        if (ejection != null) {
            b.baseEjectionTime(ejection);
        }
        Integer percent = integer(node, "maxEjectionPercent", "maxEjectionPercent");
        if (percent != null) {
            b.maxEjectionPercent(percent);
        }
        return b.build();
    }

    private static OriginTls originTls(JsonNode node, String absolute) {
        checkFields(node, TLS_FIELDS, absolute);
        OriginTls.Builder b = OriginTls.builder();
        String sni = string(node, "sni", "sni");
        if (sni != null) {
            b.sni(sni);
        }
        String pem = string(node, "trustPem", "trustPem");
        if (pem != null) {
            b.trustPem(pem);
        }
        return b.build();
    }

    private static Site site(String name, JsonNode spec, String path) {
        checkFields(spec, SITE_FIELDS, path + ".spec");
        Site.Builder b = Site.builder(name).tunnelEndpoints(endpoints(spec, "tunnelEndpoints", path));
        JsonNode labels = spec.get("labels");
        if (labels != null && !labels.isNull()) {
            if (!labels.isObject()) {
                throw new ConfigValidationException(path + ".labels", describe(labels)
                        + " (expected: a map of strings to strings)");
            }
            for (Map.Entry<String, JsonNode> label : labels.properties()) {
                JsonNode value = label.getValue();
                if (!value.isString()) {
                    throw new ConfigValidationException(path + ".labels[" + label.getKey() + ']',
                            describe(value) + " (expected: a string)");
                }
                b.label(label.getKey(), value.stringValue());
            }
        }
        return b.build();
    }

    // An unknown field is named by its place in the document (with "spec"), which nested prefixing
    // would not produce, so it is thrown with its full path and passed on unchanged.
    private static void checkFields(JsonNode object, List<String> known, String absolute) {
        for (String field : object.propertyNames()) {
            if (!known.contains(field)) {
                throw new DocumentFieldException(absolute + '.' + field,
                        "(unknown field; expected one of: " + String.join(", ", known) + ')');
            }
        }
    }

    private static @Nullable JsonNode object(JsonNode parent, String field, String path) {
        JsonNode value = parent.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isObject()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: an object)");
        }
        return value;
    }

    private static Map<String, String> stringMap(JsonNode parent, String field, String path) {
        Map<String, String> result = new LinkedHashMap<>();
        JsonNode value = object(parent, field, path);
        if (value == null) {
            return result;
        }
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            if (!e.getValue().isString()) {
                throw new ConfigValidationException(path + '[' + e.getKey() + ']', describe(e.getValue())
                        + " (expected: a string)");
            }
            result.put(e.getKey(), e.getValue().stringValue());
        }
        return result;
    }

    private static @Nullable Integer integer(JsonNode parent, String field, String path) {
        JsonNode value = parent.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: an integer)");
        }
        return value.intValue();
    }

    private static @Nullable Boolean bool(JsonNode parent, String field, String path) {
        JsonNode value = parent.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isBoolean()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: true or false)");
        }
        return value.booleanValue();
    }

    private static @Nullable Duration duration(JsonNode parent, String field, String path) {
        String text = string(parent, field, path);
        return text == null ? null : Durations.parse(text, path);
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String value, String path) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value.replace('-', '_'))) {
                return constant;
            }
        }
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            names.add(constant.name());
        }
        throw new ConfigValidationException(path, Validation.quote(value) + " (expected: one of "
                + String.join(", ", names) + ')');
    }

    private static List<Endpoint> endpoints(JsonNode object, String field, String objectPath) {
        List<String> texts = strings(object, field, objectPath);
        List<Endpoint> endpoints = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            try {
                endpoints.add(Endpoint.parse(texts.get(i)));
            } catch (ConfigValidationException e) {
                // Endpoint names the part that is wrong ("port") or nothing; put it under the list item.
                throw withPrefix(objectPath + '.' + field + '[' + i + ']', e);
            }
        }
        return endpoints;
    }

}
