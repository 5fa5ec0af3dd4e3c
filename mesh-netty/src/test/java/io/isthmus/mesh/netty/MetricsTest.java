package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The meters a router binds to the registry its caller passes. */
class MetricsTest {

    private MeshFixture mesh;
    private WireMockServer origin;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(201).withBody("made")));
        tokyo = mesh.site("tokyo", b -> b.meterRegistry(registry).maxConnections(1));
        MeshRouter osaka = mesh.site("osaka");
        mesh.loadBalancer("app", "tokyo", "osaka", Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.stop();
    }

    @Test
    void countsRequestsByLoadBalancerStatusClassAndDecisionWithLatencyHistograms() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
                assertThat(client.send("GET /a HTTP/1.1\r\nHost: app\r\n\r\n").readResponse()).startsWith("HTTP/1.1 201");
            }
        }
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            assertThat(client.send("GET /a HTTP/1.1\r\nHost: nobody\r\n\r\n").readResponse()).startsWith("HTTP/1.1 404");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Timer routed = registry.find("isthmus.requests").tags("site", "tokyo", "load_balancer", "default/app",
                    "status_class", "2xx", "decision", "routed").timer();
            assertThat(routed).isNotNull();
            assertThat(routed.count()).isEqualTo(3);
            assertThat(routed.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)).isPositive();
            assertThat(registry.find("isthmus.upstream.duration").tags("site", "tokyo").timer().count()).isEqualTo(3);
            assertThat(registry.find("isthmus.requests.denied").tags("reason", "unknown_host").counter().count())
                    .isEqualTo(1);
            assertThat(registry.find("isthmus.tunnels.active").tags("remote_site", "osaka").gauge().value())
                    .isEqualTo(1);
            assertThat(registry.find("isthmus.tunnels.state").tags("remote_site", "osaka").gauge().value())
                    .isEqualTo(0);
        });
    }

    @Test
    void countsConnectionsRefusedByTheLimit() throws Exception {
        try (RawHttp held = new RawHttp(tokyo.ingressAddress())) {
            assertThat(held.send("GET /a HTTP/1.1\r\nHost: app\r\n\r\n").readResponse()).startsWith("HTTP/1.1 201");
            try (RawHttp beyond = new RawHttp(tokyo.ingressAddress())) {
                assertThat(beyond.closedByServer()).isTrue();
            }
            assertThat(registry.find("isthmus.connections.rejected").tags("listener", "ingress").functionCounter()
                    .count()).isEqualTo(1);
            assertThat(registry.find("isthmus.connections.open").tags("listener", "ingress").gauge().value())
                    .isEqualTo(1);
        }
    }

    @Test
    void removesItsMetersWhenTheRouterCloses() {
        assertThat(registry.find("isthmus.connections.open").gauges()).isNotEmpty();
        tokyo.close();
        assertThat(registry.find("isthmus.connections.open").gauges()).isEmpty();
    }
}
