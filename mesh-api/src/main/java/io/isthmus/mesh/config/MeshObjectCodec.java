package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.internal.policy.PolicyDocuments;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
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
 *   domains: [osaka-app]
 *   advertiseSites: [tokyo]
 *   defaultPool: osaka-pool
 * ---
 * kind: OriginPool
 * metadata: {name: osaka-pool}
 * spec:
 *   site: osaka
 *   endpoints: ["10.0.0.7:8080", "[::1]:8081"]
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
 * <p>Output is deterministic: fields in the order shown above, lists in the object's order, the
 * namespace always written for namespaced kinds. A codec is immutable and thread-safe; create one and
 * share it.
 */
public final class MeshObjectCodec {

    private static final String KINDS = "one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall";
    private static final List<String> DOCUMENT_FIELDS = List.of("kind", "metadata", "spec");
    private static final List<String> METADATA_FIELDS = List.of("name", "namespace");
    private static final List<String> LOAD_BALANCER_FIELDS = List.of("domains", "advertiseSites", "defaultPool");
    private static final List<String> ORIGIN_POOL_FIELDS = List.of("site", "endpoints");
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
        if (object instanceof LoadBalancer) {
            LoadBalancer lb = (LoadBalancer) object;
            lb.domains().forEach(spec.putArray("domains")::add);
            lb.advertiseSites().forEach(spec.putArray("advertiseSites")::add);
            spec.put("defaultPool", lb.defaultPool());
        } else if (object instanceof OriginPool) {
            OriginPool pool = (OriginPool) object;
            spec.put("site", pool.site());
            writeEndpoints(spec.putArray("endpoints"), pool.endpoints());
        } else if (object instanceof ServicePolicy) {
            PolicyDocuments.writeServicePolicy((ServicePolicy) object, spec);
        } else if (object instanceof NetworkFirewall) {
            PolicyDocuments.writeNetworkFirewall((NetworkFirewall) object, spec);
        } else {
            Site site = (Site) object;
            writeEndpoints(spec.putArray("tunnelEndpoints"), site.tunnelEndpoints());
            ObjectNode labels = spec.putObject("labels");
            site.labels().forEach(labels::put);
        }
        return root;
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
            return node.numberValue();
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
        b.domains(strings(spec, "domains", path));
        b.advertiseAt(strings(spec, "advertiseSites", path));
        String pool = string(spec, "defaultPool", path + ".defaultPool");
        if (pool != null) {
            b.defaultPool(pool);
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
        return b.endpoints(endpoints(spec, "endpoints", path)).build();
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

    private static void checkFields(JsonNode object, List<String> known, String path) {
        for (String field : object.propertyNames()) {
            if (!known.contains(field)) {
                throw new ConfigValidationException(path + '.' + field,
                        "(unknown field; expected one of: " + String.join(", ", known) + ')');
            }
        }
    }

    private static @Nullable String string(JsonNode object, String field, String path) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: a string)");
        }
        return value.stringValue();
    }

    private static List<String> strings(JsonNode object, String field, String objectPath) {
        String path = objectPath + '.' + field;
        JsonNode value = object.get(field);
        List<String> result = new ArrayList<>();
        if (value == null || value.isNull()) {
            return result;
        }
        if (!value.isArray()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: a list of strings)");
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode item = value.get(i);
            if (!item.isString()) {
                throw new ConfigValidationException(path + '[' + i + ']', describe(item) + " (expected: a string)");
            }
            result.add(item.stringValue());
        }
        return result;
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

    private static String describe(JsonNode value) {
        String text = value.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
