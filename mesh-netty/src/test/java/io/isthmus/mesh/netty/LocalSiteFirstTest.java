package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Within one priority spread over two sites, a router may prefer its own site's origins. */
class LocalSiteFirstTest {

    private MeshFixture mesh;
    private WireMockServer tokyoOrigin;
    private WireMockServer osakaOrigin;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        tokyoOrigin = origin("tokyo");
        osakaOrigin = origin("osaka");
    }

    private static WireMockServer origin(String name) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(name)));
        return server;
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        tokyoOrigin.stop();
        osakaOrigin.stop();
    }

    private Set<String> answersOf(MeshRouter tokyo, MeshRouter osaka) throws Exception {
        mesh.store.put(OriginPool.builder("app-pool").site("tokyo")
                .origin(Origin.builder().endpoint(Endpoint.of("127.0.0.1", tokyoOrigin.port())).build())
                .origin(Origin.builder().endpoint(Endpoint.of("127.0.0.1", osakaOrigin.port())).site("osaka").build())
                .build());
        mesh.store.put(LoadBalancer.builder("app").domain("app").advertiseAt("tokyo").defaultPool("app-pool").build());
        mesh.awaitApplied(tokyo, osaka);
        Set<String> answers = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            answers.add(MeshFixture.get(tokyo, "http://app/").body());
        }
        return answers;
    }

    @Test
    void prefersItsOwnSitesOriginsWhenAskedTo() throws Exception {
        MeshRouter tokyo = mesh.site("tokyo", b -> b.localSiteFirst(true));
        MeshRouter osaka = mesh.site("osaka");

        assertThat(answersOf(tokyo, osaka)).containsExactly("tokyo");
    }

    @Test
    void spreadsOverTheSitesOfAPriorityByWeightByDefault() throws Exception {
        MeshRouter tokyo = mesh.site("tokyo");
        MeshRouter osaka = mesh.site("osaka");

        // Equal weights: all 24 requests at one site would happen once in 2^23 runs.
        assertThat(answersOf(tokyo, osaka)).containsExactlyInAnyOrder("tokyo", "osaka");
    }
}
