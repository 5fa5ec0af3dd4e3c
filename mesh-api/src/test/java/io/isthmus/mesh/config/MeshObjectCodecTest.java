package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshObjectCodecTest {

    private final MeshObjectCodec codec = MeshObjectCodec.create();

    private static final LoadBalancer LB = LoadBalancer.builder("osaka-app").namespace("shop").domain("osaka-app")
            .domain("*.osaka.example").advertiseAt("tokyo").advertiseAt("kyoto").defaultPool("osaka-pool").build();
    private static final OriginPool POOL = OriginPool.builder("osaka-pool").namespace("shop").site("osaka")
            .endpoint(Endpoint.of("10.0.0.7", 8080)).endpoint(Endpoint.parse("[::1]:8081")).build();
    private static final Site SITE = Site.builder("osaka").tunnelEndpoint(Endpoint.of("203.0.113.10", 4443))
            .label("region", "kansai").build();

    @Test
    void roundTripsEveryKindThroughJsonAndYaml() {
        for (MeshObject object : List.of(LB, POOL, SITE)) {
            assertThat(codec.fromJson(codec.toJson(object))).isEqualTo(object);
            assertThat(codec.fromYaml(codec.toYaml(object))).isEqualTo(object);
            assertThat(codec.fromMap(codec.toMap(object))).isEqualTo(object);
        }
    }

    @Test
    void writesTheDocumentFormat() {
        assertThat(codec.toJson(LB)).isEqualTo("{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\","
                + "\"namespace\":\"shop\"},\"spec\":{\"domains\":[\"osaka-app\",\"*.osaka.example\"],"
                + "\"advertiseSites\":[\"tokyo\",\"kyoto\"],\"defaultPool\":\"osaka-pool\"}}");
        assertThat(codec.toJson(SITE)).doesNotContain("namespace");
    }

    @Test
    void readsMultiDocumentYamlInOrderAndSkipsEmptyDocuments() {
        String yaml = codec.toYaml(List.of(SITE, POOL)) + "---\n" + codec.toYaml(LB);

        assertThat(codec.readYaml(yaml)).containsExactly(SITE, POOL, LB);
        assertThat(codec.read(yaml)).containsExactly(SITE, POOL, LB);
        assertThat(codec.read(codec.toJson(POOL))).containsExactly(POOL);
    }

    @Test
    void defaultsTheNamespaceAndAcceptsFlowStyle() {
        MeshObject lb = codec.fromYaml("kind: LoadBalancer\nmetadata: {name: app}\n"
                + "spec: {domains: [app], advertiseSites: [tokyo], defaultPool: pool}\n");

        assertThat(lb.key().namespace()).isEqualTo("default");
    }

    @Test
    void rejectsAMissingKind() {
        assertThatThrownBy(() -> codec.fromJson("{\"metadata\":{\"name\":\"x\"}}"))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessage("kind: is required (expected: one of Site, LoadBalancer, OriginPool)")
                .extracting(e -> ((ConfigValidationException) e).fieldPath()).isEqualTo("kind");
    }

    @Test
    void rejectsAnUnknownKind() {
        assertThatThrownBy(() -> codec.fromYaml("kind: Gateway\nmetadata: {name: x}\n"))
                .hasMessage("kind: \"Gateway\" (expected: one of Site, LoadBalancer, OriginPool)");
    }

    @Test
    void rejectsAMissingName() {
        assertThatThrownBy(() -> codec.fromYaml("kind: Site\nmetadata: {}\n"))
                .hasMessage("metadata.name: is required");
    }

    @Test
    void rejectsAnUnknownFieldWithItsPath() {
        assertThatThrownBy(() -> codec.fromYaml("kind: LoadBalancer\nmetadata: {name: osaka-app}\n"
                + "spec: {domainz: [a]}\n"))
                .hasMessage("loadBalancers[osaka-app].spec.domainz: (unknown field; expected one of: domains, "
                        + "advertiseSites, defaultPool)");
    }

    @Test
    void rejectsAWrongType() {
        assertThatThrownBy(() -> codec.fromYaml("kind: LoadBalancer\nmetadata: {name: osaka-app}\n"
                + "spec: {domains: 42}\n"))
                .hasMessage("loadBalancers[osaka-app].domains: 42 (expected: a list of strings)");
    }

    @Test
    void reportsBuilderValidationWithTheFieldPath() {
        assertThatThrownBy(() -> codec.fromYaml("kind: LoadBalancer\nmetadata: {name: osaka-app}\n"
                + "spec: {domains: [ok, Bad Domain], defaultPool: p}\n"))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageStartingWith("loadBalancers[osaka-app].domains[1]: \"Bad Domain\" (expected: a lowercase DNS name");
    }

    @Test
    void namesTheDocumentOfAMultiDocumentStream() {
        String yaml = codec.toYaml(SITE) + "---\nkind: OriginPool\nmetadata: {name: p}\n"
                + "spec: {site: osaka, endpoints: ['10.0.0.1:99999']}\n";

        assertThatThrownBy(() -> codec.readYaml(yaml))
                .hasMessage("documents[1].originPools[p].endpoints[0]: \"10.0.0.1:99999\" (expected: host:port or [ipv6]:port)");
    }

    @Test
    void reportsTheLineOfASyntaxError() {
        assertThatThrownBy(() -> codec.fromJson("{\"kind\": \"Site\",\n \"metadata\": {\"name\": }}"))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("malformed document at line 2");
    }

    @Test
    void rejectsANamespaceOnASite() {
        assertThatThrownBy(() -> codec.fromYaml("kind: Site\nmetadata: {name: osaka, namespace: x}\n"))
                .hasMessage("sites[osaka].metadata.namespace: \"x\" (expected: none, Site is not namespaced)");
    }
}
