package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/** Renders mesh objects as tables, documents and descriptions. */
final class Formats {

    /** The output formats of {@code get}. */
    enum Output {
        /** A human table with the columns that matter per kind. */
        table,
        /** JSON documents with their resource version; a list as {@code {"items":[...]}}. */
        json,
        /** YAML documents with their resource version, {@code ---} separated; can be applied again. */
        yaml
    }

    static final MeshObjectCodec CODEC = MeshObjectCodec.create();
    static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
            .disable(YAMLWriteFeature.SPLIT_LINES)
            .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
            .enable(YAMLWriteFeature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLWriteFeature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();

    private Formats() {}

    /** The object's document as the admin API gives it: the codec's, with {@code metadata.resourceVersion}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> document(Versioned<MeshObject> versioned) {
        Map<String, Object> document = CODEC.toMap(versioned.object());
        Map<String, Object> metadata = new LinkedHashMap<>((Map<String, Object>) document.get("metadata"));
        metadata.put("resourceVersion", Long.toString(versioned.modRevision()));
        document.put("metadata", metadata);
        return document;
    }

    static String json(Versioned<MeshObject> versioned) {
        return JSON.writeValueAsString(document(versioned)) + '\n';
    }

    static String jsonList(List<Versioned<MeshObject>> items) {
        List<Map<String, Object>> documents = items.stream().map(Formats::document).collect(Collectors.toList());
        return JSON.writeValueAsString(Map.of("items", documents)) + '\n';
    }

    static String yaml(List<Versioned<MeshObject>> items) {
        StringBuilder out = new StringBuilder();
        for (Versioned<MeshObject> item : items) {
            if (out.length() > 0) {
                out.append("---\n");
            }
            out.append(YAML.writeValueAsString(document(item)));
        }
        return out.toString();
    }

    /** A table of objects of one kind, kubectl style: upper-case headers, columns padded with spaces. */
    static String table(Kind kind, List<Versioned<MeshObject>> items) {
        List<List<String>> rows = new ArrayList<>();
        switch (kind) {
            case LOAD_BALANCER:
                rows.add(List.of("NAMESPACE", "NAME", "DOMAINS", "ADVERTISED", "POOL", "REV"));
                for (Versioned<MeshObject> item : items) {
                    LoadBalancer lb = (LoadBalancer) item.object();
                    rows.add(List.of(lb.namespace(), lb.name(), join(lb.domains()), join(lb.advertiseSites()),
                            lb.defaultPool(), Long.toString(item.modRevision())));
                }
                break;
            case ORIGIN_POOL:
                rows.add(List.of("NAMESPACE", "NAME", "SITE", "ENDPOINTS", "REV"));
                for (Versioned<MeshObject> item : items) {
                    OriginPool pool = (OriginPool) item.object();
                    rows.add(List.of(pool.key().namespace(), pool.name(), pool.site(), endpoints(pool.endpoints()),
                            Long.toString(item.modRevision())));
                }
                break;
            case SITE:
                rows.add(List.of("NAME", "TUNNEL-ENDPOINTS", "LABELS", "REV"));
                for (Versioned<MeshObject> item : items) {
                    Site site = (Site) item.object();
                    rows.add(List.of(site.name(), endpoints(site.tunnelEndpoints()), labels(site.labels()),
                            Long.toString(item.modRevision())));
                }
                break;
            case SERVICE_POLICY:
                rows.add(List.of("NAMESPACE", "NAME", "RULES", "DEFAULT", "REV"));
                for (Versioned<MeshObject> item : items) {
                    ServicePolicy policy = (ServicePolicy) item.object();
                    rows.add(List.of(policy.namespace(), policy.name(), Integer.toString(policy.rules().size()),
                            policy.defaultAction().toString(), Long.toString(item.modRevision())));
                }
                break;
            case NETWORK_FIREWALL:
                rows.add(List.of("NAME", "RULES", "DEFAULT", "SITES", "LISTENERS", "REV"));
                for (Versioned<MeshObject> item : items) {
                    NetworkFirewall firewall = (NetworkFirewall) item.object();
                    String sites = firewall.sites().isEmpty() ? labels(firewall.siteSelector()) : join(firewall.sites());
                    rows.add(List.of(firewall.name(), Integer.toString(firewall.rules().size()),
                            firewall.defaultAction().toString(), sites,
                            join(firewall.listeners().stream().map(ObjectKey::toString).collect(Collectors.toList())),
                            Long.toString(item.modRevision())));
                }
                break;
            default:
                throw new AssertionError(kind);
        }
        return columns(rows);
    }

    /** Lays rows out in columns separated by three spaces; the last column is not padded. */
    static String columns(List<List<String>> rows) {
        int width = rows.isEmpty() ? 0 : rows.get(0).size();
        int[] widths = new int[width];
        for (List<String> row : rows) {
            for (int i = 0; i < width; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width; i++) {
                line.append(row.get(i));
                if (i < width - 1) {
                    line.append(" ".repeat(widths[i] - row.get(i).length() + 3));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** A readable multi-line view of one object. */
    static String describe(Versioned<MeshObject> item, String poolSummary) {
        MeshObject object = item.object();
        List<List<String>> lines = new ArrayList<>();
        lines.add(List.of("Kind:", object.kind().kindName()));
        lines.add(List.of("Name:", object.name()));
        if (object.kind().namespaced()) {
            lines.add(List.of("Namespace:", object.key().namespace()));
        }
        lines.add(List.of("Resource version:", Long.toString(item.modRevision())));
        StringBuilder tail = new StringBuilder();
        if (object instanceof LoadBalancer) {
            LoadBalancer lb = (LoadBalancer) object;
            lines.add(List.of("Domains:", join(lb.domains())));
            lines.add(List.of("Advertised at:", lb.advertiseSites().isEmpty() ? "<no site>" : join(lb.advertiseSites())));
            lines.add(List.of("Default pool:", lb.defaultPoolKey().namespace() + '/' + lb.defaultPool() + poolSummary));
        } else if (object instanceof OriginPool) {
            OriginPool pool = (OriginPool) object;
            lines.add(List.of("Site:", pool.site()));
            tail.append("Endpoints:\n");
            pool.endpoints().forEach(e -> tail.append("  ").append(e).append('\n'));
            if (pool.endpoints().isEmpty()) {
                tail.append("  <none>\n");
            }
        } else {
            Site site = (Site) object;
            tail.append("Tunnel endpoints:\n");
            site.tunnelEndpoints().forEach(e -> tail.append("  ").append(e).append('\n'));
            if (site.tunnelEndpoints().isEmpty()) {
                tail.append("  <none>\n");
            }
            tail.append("Labels:\n");
            site.labels().forEach((k, v) -> tail.append("  ").append(k).append('=').append(v).append('\n'));
            if (site.labels().isEmpty()) {
                tail.append("  <none>\n");
            }
        }
        StringBuilder out = new StringBuilder();
        int width = lines.stream().mapToInt(l -> l.get(0).length()).max().orElse(0);
        for (List<String> line : lines) {
            out.append(line.get(0)).append(" ".repeat(width - line.get(0).length() + 2)).append(line.get(1)).append('\n');
        }
        return out.append(tail).toString();
    }

    static String join(List<String> values) {
        return values.isEmpty() ? "<none>" : String.join(",", values);
    }

    static String endpoints(List<Endpoint> endpoints) {
        return join(endpoints.stream().map(Endpoint::toString).collect(Collectors.toList()));
    }

    static String labels(Map<String, String> labels) {
        return labels.isEmpty() ? "<none>" : labels.entrySet().stream().map(e -> e.getKey() + '=' + e.getValue())
                .collect(Collectors.joining(","));
    }
}
