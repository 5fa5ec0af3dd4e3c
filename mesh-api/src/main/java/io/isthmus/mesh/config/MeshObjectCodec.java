package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Reads and writes mesh objects as JSON and YAML documents, the form used by files, {@code meshctl}
 * and the admin API. Every problem is a {@link ConfigValidationException} naming the field path.
 *
 * <pre>{@code
 * MeshObjectCodec codec = MeshObjectCodec.create();
 * List<MeshObject> objects = codec.readYaml("""
 *     kind: LoadBalancer
 *     metadata: {name: osaka-app}
 *     spec: {domains: [osaka-app], advertiseSites: [tokyo], defaultPool: osaka-pool}
 *     """);
 * String json = codec.toJson(objects.get(0));
 * }</pre>
 *
 * <p>The document format:
 * <pre>
 * kind: LoadBalancer | OriginPool | Site
 * metadata: {name: ..., namespace: ...}   # no namespace for Site; default "default"
 * spec:
 *   # LoadBalancer: domains, advertiseSites, defaultPool
 *   # OriginPool:   site, endpoints ["host:port", ...]
 *   # Site:         tunnelEndpoints ["host:port", ...], labels {key: value}
 * </pre>
 *
 * <p>Thread-safe and immutable: create one and share it.
 */
public final class MeshObjectCodec {

    private static final Set<String> DOCUMENT_FIELDS = Set.of("kind", "metadata", "spec", "apiVersion");
    private static final Set<String> METADATA_FIELDS = Set.of("name", "namespace");
    private static final List<String> LOAD_BALANCER_FIELDS = List.of("domains", "advertiseSites", "defaultPool");
    private static final List<String> ORIGIN_POOL_FIELDS = List.of("site", "endpoints");
    private static final List<String> SITE_FIELDS = List.of("tunnelEndpoints", "labels");

    private final ObjectMapper json = JsonMapper.builder().build();
    private final ObjectMapper yaml = YAMLMapper.builder().enable(YAMLWriteFeature.MINIMIZE_QUOTES).build();

    private MeshObjectCodec() {}

    /**
     * Returns a codec.
     *
     * @return the codec
     */
    public static MeshObjectCodec create() {
        return new MeshObjectCodec();
    }

    /**
     * Writes an object as a JSON document.
     *
     * @param object the object
     * @return the JSON text
     */
    public String toJson(MeshObject object) {
        return json.writeValueAsString(toTree(object));
    }

    /**
     * Writes an object as a YAML document.
     *
     * @param object the object
     * @return the YAML text, starting with {@code ---}
     */
    public String toYaml(MeshObject object) {
        return yaml.writeValueAsString(toTree(object));
    }

    /**
     * Writes objects as a multi-document YAML stream.
     *
     * @param objects the objects
     * @return the YAML text, one {@code ---} document per object
     */
    public String toYaml(List<? extends MeshObject> objects) {
        StringBuilder out = new StringBuilder();
        for (MeshObject object : objects) {
            out.append(toYaml(object));
        }
        return out.toString();
    }

    /**
     * Returns an object as nested maps and lists, e.g. for other configuration front doors.
     *
     * @param object the object
     * @return a mutable map of the document
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap(MeshObject object) {
        return json.convertValue(toTree(object), LinkedHashMap.class);
    }

    /**
     * Reads an object from nested maps and lists in the document format.
     *
     * @param document the document
     * @return the object
     * @throws ConfigValidationException naming the bad field
     */
    public MeshObject fromMap(Map<String, ?> document) {
        return fromTree(json.valueToTree(requireNonNull(document, "document")), "");
    }

    /**
     * Reads one object from a JSON document.
     *
     * @param text the JSON text
     * @return the object
     * @throws ConfigValidationException naming the bad field, or the line and column of a syntax error
     */
    public MeshObject fromJson(String text) {
        return fromTree(parse(json, text), "");
    }

    /**
     * Reads exactly one object from a YAML document.
     *
     * @param text the YAML text
     * @return the object
     * @throws ConfigValidationException when the text holds no or several documents, or a bad one
     */
    public MeshObject fromYaml(String text) {
        List<MeshObject> objects = readYaml(text);
        if (objects.size() != 1) {
            throw new ConfigValidationException("", objects.size() + " documents (expected: exactly one)");
        }
        return objects.get(0);
    }

    /**
     * Reads every object of a multi-document YAML stream; empty documents are skipped. Either all
     * documents are valid and returned, or the first bad one is reported as {@code documents[i].<path>}.
     *
     * @param text the YAML text
     * @return the objects, in document order
     * @throws ConfigValidationException naming the document and field
     */
    public List<MeshObject> readYaml(String text) {
        requireNonNull(text, "text");
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNextValue()) {
                documents.add(it.nextValue());
            }
        } catch (JacksonException e) {
            throw syntaxError(e);
        }
        List<MeshObject> objects = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            JsonNode document = documents.get(i);
            if (document == null || document.isNull() || document.isMissingNode()
                    || document.isObject() && document.isEmpty()) {
                continue;
            }
            objects.add(fromTree(document, documents.size() > 1 ? "documents[" + i + "]." : ""));
        }
        return objects;
    }

    /**
     * Reads objects from JSON (one document, or an array of documents) or YAML (one or more
     * documents), telling them apart by the first non-blank character.
     *
     * @param text the text
     * @return the objects
     * @throws ConfigValidationException naming the bad field
     */
    public List<MeshObject> read(String text) {
        String trimmed = requireNonNull(text, "text").stripLeading();
        if (trimmed.startsWith("[")) {
            JsonNode array = parse(json, text);
            List<MeshObject> objects = new ArrayList<>();
            for (int i = 0; i < array.size(); i++) {
                objects.add(fromTree(array.get(i), "documents[" + i + "]."));
            }
            return objects;
        }
        if (trimmed.startsWith("{")) {
            return List.of(fromJson(text));
        }
        return readYaml(text);
    }

    private static JsonNode parse(ObjectMapper mapper, String text) {
        requireNonNull(text, "text");
        try {
            return mapper.readTree(text);
        } catch (JacksonException e) {
            throw syntaxError(e);
        }
    }

    private static ConfigValidationException syntaxError(JacksonException e) {
        TokenStreamLocation location = e.getLocation();
        String where = location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        return new ConfigValidationException("", "malformed document" + where + ": " + e.getOriginalMessage());
    }

    // ---- writing

    private ObjectNode toTree(MeshObject object) {
        ObjectNode root = json.createObjectNode();
        root.put("kind", object.kind().kindName());
        ObjectNode metadata = root.putObject("metadata");
        metadata.put("name", object.name());
        if (object.kind().namespaced()) {
            metadata.put("namespace", object.key().namespace());
        }
        ObjectNode spec = root.putObject("spec");
        if (object instanceof LoadBalancer) {
            LoadBalancer lb = (LoadBalancer) object;
            strings(spec.putArray("domains"), lb.domains());
            strings(spec.putArray("advertiseSites"), lb.advertiseSites());
            spec.put("defaultPool", lb.defaultPool());
        } else if (object instanceof OriginPool) {
            OriginPool pool = (OriginPool) object;
            spec.put("site", pool.site());
            endpoints(spec.putArray("endpoints"), pool.endpoints());
        } else if (object instanceof Site) {
            Site site = (Site) object;
            endpoints(spec.putArray("tunnelEndpoints"), site.tunnelEndpoints());
            ObjectNode labels = spec.putObject("labels");
            site.labels().forEach(labels::put);
        }
        return root;
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static void endpoints(ArrayNode array, List<Endpoint> values) {
        values.forEach(e -> array.add(e.toString()));
    }

    // ---- reading

    private MeshObject fromTree(JsonNode document, String prefix) {
        if (!document.isObject()) {
            throw new ConfigValidationException(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1),
                    describe(document) + " (expected: a document with kind, metadata and spec)");
        }
        checkFields(document, DOCUMENT_FIELDS, prefix);
        JsonNode kindNode = document.get("kind");
        if (kindNode == null || !kindNode.isString()) {
            throw new ConfigValidationException(prefix + "kind", (kindNode == null ? "is required" : describe(kindNode))
                    + " (expected: one of Site, LoadBalancer, OriginPool)");
        }
        Kind kind;
        try {
            kind = Kind.parse(kindNode.stringValue());
        } catch (IllegalArgumentException e) {
            throw new ConfigValidationException(prefix + "kind", Validation.quote(kindNode.stringValue())
                    + " (expected: one of Site, LoadBalancer, OriginPool)");
        }
        JsonNode metadata = document.get("metadata");
        if (metadata == null || !metadata.isObject()) {
            throw new ConfigValidationException(prefix + "metadata",
                    (metadata == null ? "is required" : describe(metadata)) + " (expected: an object with a name)");
        }
        checkFields(metadata, METADATA_FIELDS, prefix + "metadata.");
        String name = string(metadata, "name", prefix + "metadata.name", true);
        String namespace = string(metadata, "namespace", prefix + "metadata.namespace", false);
        String path = prefix + MeshObject.pathOf(kind, name);
        if (!kind.namespaced() && namespace != null) {
            throw new ConfigValidationException(path + ".metadata.namespace",
                    Validation.quote(namespace) + " (expected: none, " + kind.kindName() + " is not namespaced)");
        }
        JsonNode spec = document.get("spec");
        if (spec == null || spec.isNull()) {
            spec = json.createObjectNode();
        }
        if (!spec.isObject()) {
            throw new ConfigValidationException(path + ".spec", describe(spec) + " (expected: an object)");
        }
        try {
            switch (kind) {
                case LOAD_BALANCER:
                    return loadBalancer(spec, requireNonNull(name), namespace, path);
                case ORIGIN_POOL:
                    return originPool(spec, requireNonNull(name), namespace, path);
                default:
                    return site(spec, requireNonNull(name), path);
            }
        } catch (ConfigValidationException e) {
            if (prefix.isEmpty() || e.fieldPath().startsWith(prefix)) {
                throw e;
            }
            // Builder errors name the object, not the document it came from.
            String problem = e.getMessage().substring(e.fieldPath().isEmpty() ? 0 : e.fieldPath().length() + 2);
            throw new ConfigValidationException(prefix + e.fieldPath(), problem);
        }
    }

    private static LoadBalancer loadBalancer(JsonNode spec, String name, @Nullable String namespace, String path) {
        checkFields(spec, LOAD_BALANCER_FIELDS, path + ".spec.");
        LoadBalancer.Builder b = LoadBalancer.builder(name);
        if (namespace != null) {
            b.namespace(namespace);
        }
        b.domains(strings(spec, "domains", path + ".domains"));
        b.advertiseAt(strings(spec, "advertiseSites", path + ".advertiseSites"));
        String pool = string(spec, "defaultPool", path + ".defaultPool", false);
        if (pool != null) {
            b.defaultPool(pool);
        }
        return b.build();
    }

    private static OriginPool originPool(JsonNode spec, String name, @Nullable String namespace, String path) {
        checkFields(spec, ORIGIN_POOL_FIELDS, path + ".spec.");
        OriginPool.Builder b = OriginPool.builder(name);
        if (namespace != null) {
            b.namespace(namespace);
        }
        String site = string(spec, "site", path + ".site", false);
        if (site != null) {
            b.site(site);
        }
        b.endpoints(endpoints(spec, "endpoints", path + ".endpoints"));
        return b.build();
    }

    private static Site site(JsonNode spec, String name, String path) {
        checkFields(spec, SITE_FIELDS, path + ".spec.");
        Site.Builder b = Site.builder(name).tunnelEndpoints(endpoints(spec, "tunnelEndpoints", path + ".tunnelEndpoints"));
        JsonNode labels = spec.get("labels");
        if (labels != null && !labels.isNull()) {
            if (!labels.isObject()) {
                throw new ConfigValidationException(path + ".labels", describe(labels) + " (expected: a map of strings)");
            }
            for (Map.Entry<String, JsonNode> label : labels.properties()) {
                if (!label.getValue().isString()) {
                    throw new ConfigValidationException(path + ".labels." + label.getKey(),
                            describe(label.getValue()) + " (expected: a string)");
                }
                b.label(label.getKey(), label.getValue().stringValue());
            }
        }
        return b.build();
    }

    private static void checkFields(JsonNode node, java.util.Collection<String> allowed, String prefix) {
        for (String field : node.propertyNames()) {
            if (!allowed.contains(field)) {
                throw new ConfigValidationException(prefix + field,
                        "(unknown field; expected one of: " + String.join(", ", allowed) + ")");
            }
        }
    }

    private static @Nullable String string(JsonNode node, String field, String path, boolean required) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new ConfigValidationException(path, "is required");
            }
            return null;
        }
        if (!value.isString()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: a string)");
        }
        return value.stringValue();
    }

    private static List<String> strings(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
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

    private static List<Endpoint> endpoints(JsonNode node, String field, String path) {
        List<String> texts = strings(node, field, path);
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            try {
                endpoints.add(Endpoint.parse(texts.get(i)));
            } catch (ConfigValidationException e) {
                throw new ConfigValidationException(path + '[' + i + ']',
                        Validation.quote(texts.get(i)) + " (expected: host:port or [ipv6]:port)");
            }
        }
        return endpoints;
    }

    private static String describe(JsonNode node) {
        String text = node.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
