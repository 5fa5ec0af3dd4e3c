package io.isthmus.mesh.spring;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * An application at site tokyo with an embedded router calls {@code http://osaka-app/...}, served by
 * an origin at site osaka behind a second router, through a real mTLS tunnel.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
    "isthmus.mode=embedded", "isthmus.site=tokyo", "isthmus.register-beans=true"})
class EmbeddedRouterCallsAnotherSiteTest {

    private static final MeshCertificateAuthority CA = TestPki.ca();
    private static final ConfigStore STORE = ConfigStore.inMemory();
    private static WireMockServer origin;
    private static MeshRouter osaka;

    @Autowired
    RestClient.Builder restClients;

    @Autowired
    WebClient.Builder webClients;

    @Autowired
    MeshRouter tokyo;

    @Autowired
    DiscoveryClient discovery;

    @Autowired
    HealthIndicator isthmusHealthIndicator;

    @BeforeAll
    static void startOsaka() {
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlPathEqualTo("/orders")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/plain").withBody("order 42 from osaka")));
        origin.stubFor(get(urlEqualTo("/direct")).willReturn(aResponse().withStatus(200).withBody("direct")));
        osaka = MeshRouter.builder(CA.issueSite("osaka"), STORE).build().start();
        STORE.put(Site.builder("osaka").tunnelEndpoint(osaka.tunnelEndpoint()).build());
    }

    @AfterAll
    static void stopOsaka() {
        if (osaka != null) {
            osaka.close();
        }
        if (origin != null) {
            origin.stop();
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class TokyoApp {

        @Bean
        ConfigStore sharedStore() {
            return STORE;
        }

        @Bean
        SiteCredentials tokyoCredentials() {
            return CA.issueSite("tokyo");
        }

        // Declared by the application, written to the store at start-up (isthmus.register-beans=true).
        @Bean
        OriginPool osakaPool() {
            return OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", origin.port()))
                    .build();
        }

        @Bean
        LoadBalancer osakaApp() {
            return LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                    .defaultPool("osaka-pool").build();
        }
    }

    private void awaitTokyoRoutesCurrentConfig() {
        long revision = STORE.revision();
        await().atMost(Duration.ofSeconds(10)).until(() -> tokyo.appliedRevision() >= revision);
    }

    @Test
    void restClientCallsMeshDomainThroughTheTunnel() {
        awaitTokyoRoutesCurrentConfig();
        RestClient client = restClients.baseUrl("http://osaka-app").build();

        String body = client.get().uri("/orders?id=42").retrieve().body(String.class);

        assertThat(body).isEqualTo("order 42 from osaka");
        origin.verify(getRequestedFor(urlEqualTo("/orders?id=42")).withHeader("Host", equalTo("osaka-app")));
        Health health = isthmusHealthIndicator.health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat((Integer) health.getDetails().get("outboundTunnels")).isPositive();
    }

    @Test
    void webClientCallsMeshDomainThroughTheTunnel() {
        awaitTokyoRoutesCurrentConfig();
        WebClient client = webClients.baseUrl("http://osaka-app").build();

        String body = client.get().uri("/orders?id=7").retrieve().bodyToMono(String.class)
                .block(Duration.ofSeconds(10));

        assertThat(body).isEqualTo("order 42 from osaka");
        origin.verify(getRequestedFor(urlEqualTo("/orders?id=7")).withHeader("Host", equalTo("osaka-app")));
    }

    @Test
    void otherHostsAreCalledDirectly() {
        String direct = "http://127.0.0.1:" + origin.port();

        String viaRest = restClients.baseUrl(direct).build().get().uri("/direct").retrieve().body(String.class);
        String viaWeb = webClients.baseUrl(direct).build().get().uri("/direct").retrieve().bodyToMono(String.class)
                .block(Duration.ofSeconds(10));

        assertThat(viaRest).isEqualTo("direct");
        assertThat(viaWeb).isEqualTo("direct");
        origin.verify(2, getRequestedFor(urlEqualTo("/direct")).withHeader("Host", equalTo("127.0.0.1:" + origin.port())));
    }

    @Test
    void discoveryClientListsTheMeshServiceAtTokyosIngress() {
        assertThat(discovery.getServices()).contains("osaka-app");
        assertThat(discovery.getInstances("osaka-app")).singleElement().satisfies(instance -> {
            assertThat(instance.getHost()).isEqualTo("127.0.0.1");
            assertThat(instance.getPort()).isEqualTo(tokyo.ingressAddress().getPort());
        });
    }
}
