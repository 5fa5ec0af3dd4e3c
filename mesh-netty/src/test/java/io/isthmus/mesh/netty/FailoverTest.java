package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HealthCheck;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.OutlierDetection;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Priority failover across sites: a pool with its preferred origin at osaka (priority 0) and a backup
 * at kyoto (priority 1), called from tokyo. Osaka's router health-checks its origin and answers "no
 * healthy origin" when it is down; tokyo then passes osaka over and sends the traffic to kyoto, and
 * returns to osaka once it recovers. A dead router counts as an unhealthy site too.
 */
class FailoverTest {

    private MeshFixture mesh;
    private WireMockServer osakaOrigin;
    private WireMockServer kyotoOrigin;
    private MeshRouter tokyo;
    private MeshRouter osaka;
    private MeshRouter kyoto;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        osakaOrigin = origin("osaka", 0);
        kyotoOrigin = origin("kyoto", 0);
        tokyo = mesh.site("tokyo", b -> b.circuitBreakerOpenDuration(Duration.ofMillis(500)));
        osaka = mesh.site("osaka");
        kyoto = mesh.site("kyoto");
        mesh.store.put(OriginPool.builder("app-pool").site("osaka")
                .origin(Origin.builder().endpoint(endpoint(osakaOrigin)).site("osaka").priority(0).build())
                .origin(Origin.builder().endpoint(endpoint(kyotoOrigin)).site("kyoto").priority(1).build())
                .healthCheck(HealthCheck.builder().path("/health").interval(Duration.ofMillis(400))
                        .timeout(Duration.ofMillis(400)).healthyThreshold(1).unhealthyThreshold(2).build())
                .build());
        mesh.store.put(LoadBalancer.builder("app").domain("app").advertiseAt("tokyo").defaultPool("app-pool").build());
        mesh.awaitApplied(tokyo, osaka, kyoto);
    }

    private static WireMockServer origin(String name, int port) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").port(port));
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(name)));
        return server;
    }

    private static Endpoint endpoint(WireMockServer server) {
        return Endpoint.of("127.0.0.1", server.port());
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        osakaOrigin.stop();
        kyotoOrigin.stop();
    }

    private String call() {
        try {
            HttpResponse<String> response = MeshFixture.clientOf(tokyo).send(HttpRequest.newBuilder(
                    URI.create("http://app/orders")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : "HTTP " + response.statusCode();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void failsOverToThePriorityOneSiteWhenThePreferredOriginIsDownAndComesBack() {
        for (int i = 0; i < 5; i++) {
            assertThat(call()).isEqualTo("osaka");
        }
        assertThat(kyotoOrigin.findAll(getRequestedFor(urlEqualTo("/orders")))).isEmpty();

        int port = osakaOrigin.port();
        osakaOrigin.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> call().equals("kyoto"));

        osakaOrigin = origin("osaka", port);
        await().atMost(Duration.ofSeconds(10)).until(() -> call().equals("osaka"));
        for (int i = 0; i < 5; i++) {
            assertThat(call()).isEqualTo("osaka");
        }
    }

    @Test
    void failsOverWhenThePreferredSitesRouterIsDownAndReturnsWhenItIsBack() {
        assertThat(call()).isEqualTo("osaka");

        osaka.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> call().equals("kyoto"));

        MeshRouter restarted = mesh.site("osaka");
        mesh.awaitApplied(tokyo, restarted);
        await().atMost(Duration.ofSeconds(20)).until(() -> call().equals("osaka"));
    }

    @Test
    void ejectsAnOriginThatAnswers5xxUntilItsEjectionTimeIsOver() {
        WireMockServer bad = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        bad.start();
        try {
            bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(500).withBody("broken")));
            mesh.store.put(OriginPool.builder("local-pool").site("tokyo")
                    .endpoint(endpoint(bad)).endpoint(endpoint(kyotoOrigin))
                    .outlierDetection(OutlierDetection.builder().consecutive5xx(2)
                            .baseEjectionTime(Duration.ofMinutes(1)).build())
                    .build());
            mesh.store.put(LoadBalancer.builder("local").domain("local").advertiseAt("tokyo")
                    .defaultPool("local-pool").build());
            mesh.awaitApplied(tokyo);

            int ok = 0;
            for (int i = 0; i < 20; i++) {
                try {
                    HttpResponse<String> r = MeshFixture.get(tokyo, "http://local/x");
                    ok += r.statusCode() == 200 ? 1 : 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }

            // Round robin sends every other request to the broken origin until its second 500 ejects it.
            assertThat(bad.getAllServeEvents()).hasSize(2);
            assertThat(ok).isEqualTo(18);
        } finally {
            bad.stop();
        }
    }
}
