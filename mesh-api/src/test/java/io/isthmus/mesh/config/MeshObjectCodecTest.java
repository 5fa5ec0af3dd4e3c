package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MeshObjectCodecTest {

    private static final MeshObjectCodec codec = MeshObjectCodec.create();

    private static final LoadBalancer LB = LoadBalancer.builder("osaka-app").domain("osaka-app")
            .domain("*.osaka.example").advertiseAt("tokyo").advertiseAt("kyoto").defaultPool("osaka-pool").build();
    private static final OriginPool POOL = OriginPool.builder("osaka-pool").namespace("shop").site("osaka")
            .endpoint(Endpoint.parse("10.0.0.7:8080")).endpoint(Endpoint.parse("[::1]:8081"))
            .endpoint(Endpoint.parse("origin.osaka.internal:80")).build();
    private static final Site SITE = Site.builder("osaka").tunnelEndpoint(Endpoint.parse("127.0.0.1:4443"))
            .label("region", "kansai").label("tier", "123").label("edge", "true").label("note", "").build();
    private static final Site BARE_SITE = Site.of("nara");
    private static final LoadBalancer CATCH_ALL = LoadBalancer.builder("fallback").namespace("shop").domain("*")
            .defaultPool("osaka-pool").build();

    static Stream<MeshObject> objects() {
        return Stream.of(LB, POOL, SITE, BARE_SITE, CATCH_ALL);
    }

    private static String resource(String name) {
        try (InputStream in = MeshObjectCodecTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(Executable read, String fieldPath,
            String message) {
        return assertThatThrownBy(read::execute)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(message);
    }

    private static String lb(String spec) {
        return "kind: LoadBalancer\nmetadata: {name: osaka-app}\nspec: " + spec + "\n";
    }

    @Nested
    class RoundTrips {

        @ParameterizedTest
        @MethodSource("io.isthmus.mesh.config.MeshObjectCodecTest#objects")
        void throughJson(MeshObject object) {
            assertThat(codec.fromJson(codec.toJson(object))).isEqualTo(object);
            assertThat(codec.read(codec.toJson(object))).isEqualTo(object);
        }

        @ParameterizedTest
        @MethodSource("io.isthmus.mesh.config.MeshObjectCodecTest#objects")
        void throughYaml(MeshObject object) {
            assertThat(codec.fromYaml(codec.toYaml(object))).isEqualTo(object);
            assertThat(codec.read(codec.toYaml(object))).isEqualTo(object);
            assertThat(codec.readYaml(codec.toYaml(object))).containsExactly(object);
        }

        @ParameterizedTest
        @MethodSource("io.isthmus.mesh.config.MeshObjectCodecTest#objects")
        void throughMaps(MeshObject object) {
            assertThat(codec.fromMap(codec.toMap(object))).isEqualTo(object);
        }

        @Test
        void throughAMultiDocumentStream() {
            List<MeshObject> all = objects().toList();

            assertThat(codec.readYaml(codec.toYaml(all))).containsExactlyElementsOf(all);
        }
    }

    @Nested
    class Writing {

        @Test
        void writesTheDocumentFormatInAFixedOrder() {
            assertThat(codec.toYaml(List.of(LB, POOL, SITE))).isEqualTo(resource("mesh-objects.yaml"));
        }

        @Test
        void writesCompactJson() {
            assertThat(codec.toJson(LB)).isEqualTo("{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\","
                    + "\"namespace\":\"default\"},\"spec\":{\"domains\":[\"osaka-app\",\"*.osaka.example\"],"
                    + "\"advertiseSites\":[\"tokyo\",\"kyoto\"],\"defaultPool\":\"osaka-pool\"}}");
            assertThat(codec.toJson(BARE_SITE)).isEqualTo(
                    "{\"kind\":\"Site\",\"metadata\":{\"name\":\"nara\"},\"spec\":{\"tunnelEndpoints\":[],\"labels\":{}}}");
        }

        @Test
        void writesNothingForNoObjects() {
            assertThat(codec.toYaml(List.of())).isEmpty();
        }

        @Test
        void writesMapsOfListsAndStrings() {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("site", "osaka");
            spec.put("endpoints", List.of("10.0.0.7:8080", "[::1]:8081", "origin.osaka.internal:80"));

            assertThat(codec.toMap(POOL)).containsExactly(
                    Map.entry("kind", "OriginPool"),
                    Map.entry("metadata", Map.of("name", "osaka-pool", "namespace", "shop")),
                    Map.entry("spec", spec));
        }
    }

    @Nested
    class Reading {

        @Test
        void readsTheDocumentedExample() {
            assertThat(codec.readYaml(resource("example.yaml"))).containsExactly(
                    LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                            .defaultPool("osaka-pool").build(),
                    OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("10.0.0.7", 8080))
                            .endpoint(Endpoint.of("::1", 8081)).build(),
                    Site.builder("osaka").tunnelEndpoint(Endpoint.of("127.0.0.1", 4443)).label("region", "kansai")
                            .build());
        }

        @Test
        void defaultsTheNamespace() {
            assertThat(codec.fromYaml(lb("{domains: [osaka-app], defaultPool: osaka-pool}")).key().namespace())
                    .isEqualTo("default");
        }

        @Test
        void treatsNullAndMissingSpecFieldsAsUnset() {
            assertThat(codec.fromYaml("kind: Site\nmetadata: {name: nara}\n")).isEqualTo(BARE_SITE);
            assertThat(codec.fromYaml("kind: Site\nmetadata: {name: nara}\nspec:\n  labels:\n  tunnelEndpoints: null\n"))
                    .isEqualTo(BARE_SITE);
        }

        @Test
        void acceptsKindNamesInAnyCaseAndPlural() {
            assertThat(codec.fromYaml("kind: site\nmetadata: {name: nara}\n")).isEqualTo(BARE_SITE);
            assertThat(codec.fromYaml("kind: sites\nmetadata: {name: nara}\n")).isEqualTo(BARE_SITE);
        }

        @Test
        void skipsEmptyDocumentsAndComments() {
            String yaml = "# mesh\n---\n---\n" + codec.toYaml(SITE) + "---\n# nothing here\n---\n" + codec.toYaml(LB)
                    + "---\n";

            assertThat(codec.readYaml(yaml)).containsExactly(SITE, LB);
            assertThat(codec.readYaml("")).isEmpty();
            assertThat(codec.readYaml("# only a comment\n---\n")).isEmpty();
            assertThat(codec.fromYaml("---\n" + codec.toYaml(SITE) + "---\n")).isEqualTo(SITE);
        }

        @Test
        void readsJsonAsYaml() {
            assertThat(codec.readYaml(codec.toJson(POOL))).containsExactly(POOL);
        }

        @Test
        void detectsJsonByItsFirstCharacter() {
            assertThat(codec.read("\uFEFF \n\t" + codec.toJson(LB))).isEqualTo(LB);
            // As JSON, the syntax error is reported by the JSON parser.
            assertRejected(() -> codec.read("  {\"kind\": \"Site\",}"), "",
                    "malformed JSON at line 1, column 19: Unexpected character ('}' (code 125)): "
                            + "was expecting double-quote to start property name");
        }

        @Test
        void readsMaps() {
            Map<String, Object> document = new LinkedHashMap<>();
            document.put("kind", "OriginPool");
            document.put("metadata", Map.of("name", "osaka-pool", "namespace", "shop"));
            document.put("spec", Map.of("site", "osaka",
                    "endpoints", new String[] {"10.0.0.7:8080", "[::1]:8081", "origin.osaka.internal:80"}));

            assertThat(codec.fromMap(document)).isEqualTo(POOL);
        }
    }

    @Nested
    class DocumentErrors {

        @Test
        void missingKind() {
            assertRejected(() -> codec.fromJson("{\"metadata\":{\"name\":\"osaka\"}}"), "kind",
                    "kind: is required (expected: one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall)");
        }

        @Test
        void unknownKind() {
            assertRejected(() -> codec.fromYaml("kind: Gateway\nmetadata: {name: osaka}\n"), "kind",
                    "kind: \"Gateway\" (expected: one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall)");
        }

        @Test
        void kindThatIsNotAString() {
            assertRejected(() -> codec.fromYaml("kind: [Site]\nmetadata: {name: osaka}\n"), "kind",
                    "kind: [\"Site\"] (expected: one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall)");
        }

        @Test
        void missingMetadataOrName() {
            assertRejected(() -> codec.fromYaml("kind: Site\n"), "metadata.name", "metadata.name: is required");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {}\n"), "metadata.name",
                    "metadata.name: is required");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: null}\n"), "metadata.name",
                    "metadata.name: is required");
        }

        @Test
        void metadataOrNameOfTheWrongType() {
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: osaka\n"), "metadata",
                    "metadata: \"osaka\" (expected: an object)");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: 42}\n"), "metadata.name",
                    "metadata.name: 42 (expected: a string)");
        }

        @Test
        void documentThatIsNotAnObject() {
            assertRejected(() -> codec.fromYaml("- kind: Site\n"), "",
                    "[{\"kind\":\"Site\"}] (expected: an object with kind, metadata and spec)");
            assertRejected(() -> codec.fromJson("\"Site\""), "",
                    "\"Site\" (expected: an object with kind, metadata and spec)");
        }

        @Test
        void noDocument() {
            assertRejected(() -> codec.fromJson(" "), "", "no document (expected: one JSON object)");
            assertRejected(() -> codec.fromYaml("# nothing\n---\n"), "", "no document (expected: exactly one)");
            assertRejected(() -> codec.read(""), "", "no document (expected: exactly one)");
        }

        @Test
        void severalDocumentsWhereOneIsExpected() {
            assertRejected(() -> codec.fromYaml(codec.toYaml(List.of(SITE, LB))), "documents[1]",
                    "documents[1]: a second document (expected: exactly one; read several with readYaml)");
        }

        @Test
        void unknownFieldsAnywhere() {
            assertRejected(() -> codec.fromYaml(lb("{domainz: [osaka-app]}")), "loadBalancers[osaka-app].spec.domainz",
                    "loadBalancers[osaka-app].spec.domainz: (unknown field; expected one of: type, port, domains, "
                            + "advertiseSites, advertiseSelector, routes, defaultPool, servicePolicies)");
            assertRejected(() -> codec.fromYaml("kind: OriginPool\nmetadata: {name: p, labels: {}}\n"),
                    "originPools[p].metadata.labels",
                    "originPools[p].metadata.labels: (unknown field; expected one of: name, namespace)");
            assertRejected(() -> codec.fromYaml("apiVersion: v1\nkind: Site\nmetadata: {name: osaka}\n"),
                    "sites[osaka].apiVersion",
                    "sites[osaka].apiVersion: (unknown field; expected one of: kind, metadata, spec)");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka}\nspec: {endpoints: []}\n"),
                    "sites[osaka].spec.endpoints",
                    "sites[osaka].spec.endpoints: (unknown field; expected one of: tunnelEndpoints, labels)");
        }

        @Test
        void namespaceOnASite() {
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka, namespace: default}\n"),
                    "sites[osaka].namespace",
                    "sites[osaka].namespace: \"default\" (expected: none; a Site is not namespaced)");
        }

        @Test
        void duplicateField() {
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka}\nkind: Site\n"), "",
                    "malformed YAML at line 3, column 7: duplicate field \"kind\" (expected: each field once)");
            assertRejected(() -> codec.fromJson("{\"kind\": \"Site\", \"kind\": \"Site\"}"), "",
                    "malformed JSON at line 1, column 26: duplicate field \"kind\" (expected: each field once)");
        }

        @Test
        void malformedJson() {
            assertThatThrownBy(() -> codec.fromJson("{\"kind\": \"Site\",\n \"metadata\": {\"name\": }}"))
                    .isInstanceOfSatisfying(ConfigValidationException.class, e -> {
                        assertThat(e.fieldPath()).isEmpty();
                        assertThat(e.getCause()).isNotNull();
                    })
                    .hasMessageStartingWith("malformed JSON at line 2, column 23: Unexpected character ('}'");
        }

        @Test
        void contentAfterAJsonDocument() {
            String json = codec.toJson(SITE);

            assertRejected(() -> codec.fromJson(json + " {}"), "", "malformed JSON at line 1, column "
                    + (json.length() + 2) + ": more content after the document (expected: exactly one document)");
        }

        @Test
        void malformedYaml() {
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka\nspec: {}\n"), "",
                    "malformed YAML at line 3, column 5: while parsing a flow mapping: expected ',' or '}', "
                            + "but got :");
            assertRejected(() -> codec.fromYaml("kind: Site\n  metadata: x\n"), "",
                    "malformed YAML at line 2, column 11: mapping values are not allowed here");
        }
    }

    @Nested
    class SpecErrors {

        @Test
        void wrongTypes() {
            assertRejected(() -> codec.fromYaml(lb("{domains: 42}")), "loadBalancers[osaka-app].domains",
                    "loadBalancers[osaka-app].domains: 42 (expected: a list of strings)");
            assertRejected(() -> codec.fromYaml(lb("{domains: osaka-app}")), "loadBalancers[osaka-app].domains",
                    "loadBalancers[osaka-app].domains: \"osaka-app\" (expected: a list of strings)");
            assertRejected(() -> codec.fromYaml(lb("{domains: [osaka-app, 8080]}")),
                    "loadBalancers[osaka-app].domains[1]",
                    "loadBalancers[osaka-app].domains[1]: 8080 (expected: a string)");
            assertRejected(() -> codec.fromYaml(lb("{domains: [a], defaultPool: {name: p}}")),
                    "loadBalancers[osaka-app].defaultPool",
                    "loadBalancers[osaka-app].defaultPool: {\"name\":\"p\"} (expected: a string)");
            assertRejected(() -> codec.fromYaml(lb("[osaka-app]")), "loadBalancers[osaka-app].spec",
                    "loadBalancers[osaka-app].spec: [\"osaka-app\"] (expected: an object)");
            assertRejected(() -> codec.fromYaml("kind: LoadBalancer\nmetadata: {name: osaka-app, namespace: 7}\n"),
                    "loadBalancers[osaka-app].namespace",
                    "loadBalancers[osaka-app].namespace: 7 (expected: a string)");
        }

        @Test
        void labelsThatAreNotStrings() {
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka}\nspec: {labels: {tier: 1}}\n"),
                    "sites[osaka].labels[tier]", "sites[osaka].labels[tier]: 1 (expected: a string)");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka}\nspec: {labels: [a]}\n"),
                    "sites[osaka].labels", "sites[osaka].labels: [\"a\"] (expected: a map of strings to strings)");
        }

        @Test
        void longValuesAreShortenedInMessages() {
            String domain = "d".repeat(100);

            assertThatThrownBy(() -> codec.fromYaml(lb("{domains: {a: " + domain + "}}")))
                    .hasMessage("loadBalancers[osaka-app].domains: {\"a\":\"" + "d".repeat(51)
                            + "... (expected: a list of strings)");
        }

        @Test
        void reportsTheModelsValidationWithTheFieldPath() {
            assertRejected(() -> codec.fromYaml(lb("{domains: [osaka-app, Bad Domain], defaultPool: p}")),
                    "loadBalancers[osaka-app].domains[1]",
                    "loadBalancers[osaka-app].domains[1]: \"Bad Domain\" (expected: a lowercase DNS name, optionally "
                            + "starting with \"*.\", or \"*\")");
            assertRejected(() -> codec.fromYaml(lb("{domains: [a, a], defaultPool: p}")),
                    "loadBalancers[osaka-app].domains[1]",
                    "loadBalancers[osaka-app].domains[1]: \"a\" (expected: each domain once)");
            assertRejected(() -> codec.fromYaml(lb("{domains: [a]}")), "loadBalancers[osaka-app].defaultPool",
                    "loadBalancers[osaka-app].defaultPool: is required");
            assertRejected(() -> codec.fromYaml(lb("{defaultPool: p}")), "loadBalancers[osaka-app].domains",
                    "loadBalancers[osaka-app].domains: [] (expected: at least one domain)");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: Osaka}\n"), "sites[Osaka].name",
                    "sites[Osaka].name: \"Osaka\" (expected: a lowercase DNS label)");
            assertRejected(() -> codec.fromYaml("kind: OriginPool\nmetadata: {name: p, namespace: Shop}\n"),
                    "originPools[p].namespace", "originPools[p].namespace: \"Shop\" (expected: a lowercase DNS label)");
            assertRejected(() -> codec.fromYaml("kind: OriginPool\nmetadata: {name: p}\nspec: {site: osaka}\n"),
                    "originPools[p].origins", "originPools[p].origins: [] (expected: at least one origin)");
        }

        @Test
        void badEndpoints() {
            String pool = "kind: OriginPool\nmetadata: {name: p}\nspec:\n  site: osaka\n  endpoints: ";
            assertRejected(() -> codec.fromYaml(pool + "['10.0.0.7:8080', '10.0.0.7']"), "originPools[p].endpoints[1]",
                    "originPools[p].endpoints[1]: \"10.0.0.7\" (expected: host:port or [ipv6]:port)");
            assertRejected(() -> codec.fromYaml(pool + "['10.0.0.7:99999']"), "originPools[p].endpoints[0].port",
                    "originPools[p].endpoints[0].port: 99999 (expected: 1-65535)");
            assertRejected(() -> codec.fromYaml(pool + "['-bad-:80']"), "originPools[p].endpoints[0].host",
                    "originPools[p].endpoints[0].host: \"-bad-\" (expected: a host name or IP address)");
            assertRejected(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka}\nspec: {tunnelEndpoints: [':80']}\n"),
                    "sites[osaka].tunnelEndpoints[0]",
                    "sites[osaka].tunnelEndpoints[0]: \":80\" (expected: host:port or [ipv6]:port)");
        }

        @Test
        void badMapValues() {
            Map<String, Object> document = new LinkedHashMap<>();
            document.put("kind", "Site");
            document.put("metadata", Map.of("name", "osaka"));
            document.put("spec", Map.of("tunnelEndpoints", List.of(new StringBuilder("127.0.0.1:4443"), new Object())));

            assertRejected(() -> codec.fromMap(document), "spec.tunnelEndpoints[1]",
                    "spec.tunnelEndpoints[1]: a java.lang.Object (expected: a string, number, boolean, list or map)");
        }
    }

    @Nested
    class MultiDocumentErrors {

        @Test
        void nameTheDocumentCountingEmptyOnes() {
            String yaml = codec.toYaml(SITE) + "---\n---\nkind: OriginPool\nmetadata: {name: p}\n"
                    + "spec: {site: osaka, endpoints: ['10.0.0.1:0']}\n";

            assertRejected(() -> codec.readYaml(yaml), "documents[2].originPools[p].endpoints[0].port",
                    "documents[2].originPools[p].endpoints[0].port: 0 (expected: 1-65535)");
        }

        @Test
        void nameTheDocumentOfADocumentLevelError() {
            assertRejected(() -> codec.readYaml(codec.toYaml(SITE) + "---\nmetadata: {name: x}\n"),
                    "documents[1].kind",
                    "documents[1].kind: is required (expected: one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall)");
            assertRejected(() -> codec.readYaml("kind: Site\nmetadata: {name: osaka}\n---\n- 1\n"), "documents[1]",
                    "documents[1]: [1] (expected: an object with kind, metadata and spec)");
        }

        @Test
        void nameTheDocumentOfASyntaxErrorWithItsLineInTheStream() {
            String site = codec.toYaml(SITE);
            String yaml = site + "---\nkind: Site\nmetadata: {name: [}\n";
            long line = site.lines().count() + 3;

            assertThatThrownBy(() -> codec.readYaml(yaml))
                    .isInstanceOfSatisfying(ConfigValidationException.class,
                            e -> assertThat(e.fieldPath()).isEqualTo("documents[1]"))
                    .hasMessage("documents[1]: malformed YAML at line " + line + ", column 19: while parsing a flow node: "
                            + "expected the node content, but found '}'");
        }

        @Test
        void returnNothingWhenOneDocumentIsBad() {
            List<MeshObject> read = new ArrayList<>();
            String yaml = codec.toYaml(List.of(SITE, LB)) + "---\nkind: Site\n";

            assertThatThrownBy(() -> read.addAll(codec.readYaml(yaml))).isInstanceOf(ConfigValidationException.class);
            assertThat(read).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"123", "true", "yes", "no", "null", "~", "", "1e3", "0x1F", "- a", "a: b", "#x", "'q'",
            "\"dq\"", "[x]", "日本"})
    void keepsLabelValuesThatLookLikeOtherYamlTypes(String value) {
        Site site = Site.builder("osaka").label("value", value).build();

        assertThat(codec.fromYaml(codec.toYaml(site))).isEqualTo(site);
    }
}
