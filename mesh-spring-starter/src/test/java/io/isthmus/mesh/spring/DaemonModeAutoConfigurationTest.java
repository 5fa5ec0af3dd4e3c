package io.isthmus.mesh.spring;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.netty.MeshRouter;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cloud.client.ServiceInstance;

/** Daemon mode against a WireMock peer that answers as the router daemon's admin API. */
class DaemonModeAutoConfigurationTest {

    private static final String LB_DOC = "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\","
            + "\"namespace\":\"default\",\"resourceVersion\":\"7\"},\"spec\":{\"domains\":[\"osaka-app\"],"
            + "\"advertiseSites\":[\"tokyo\"],\"defaultPool\":\"osaka-pool\"}}";

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(IsthmusAutoConfiguration.class, IsthmusDiscoveryClientAutoConfiguration.class,
                    IsthmusHttpClientAutoConfiguration.class, IsthmusHealthAutoConfiguration.class,
                    IsthmusMetricsAutoConfiguration.class));

    private WireMockServer admin;

    @BeforeEach
    void startAdmin() {
        admin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        admin.start();
    }

    @AfterEach
    void stopAdmin() {
        admin.stop();
    }

    @Test
    void connectsToTheDaemonsAdminApiWithTheToken() {
        admin.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":9,\"items\":[" + LB_DOC + "]}")));
        runner.withPropertyValues("isthmus.daemon.admin-url=" + admin.baseUrl(),
                        "isthmus.daemon.ingress=http://127.0.0.1:18080", "isthmus.daemon.bearer-token=s3cret")
                .run(context -> {
                    assertThat(context).hasNotFailed()
                            .hasSingleBean(MeshConnection.class)
                            .hasSingleBean(MeshClient.class)
                            .doesNotHaveBean(MeshRouter.class)
                            .doesNotHaveBean(ConfigStore.class)
                            .doesNotHaveBean(MeshRouterMetrics.class);
                    MeshConnection connection = context.getBean(MeshConnection.class);
                    assertThat(connection.adminUrl()).isEqualTo(URI.create(admin.baseUrl()));
                    assertThat(connection.ingress()).isEqualTo(URI.create("http://127.0.0.1:18080"));
                    MeshDiscoveryClient discovery = context.getBean(MeshDiscoveryClient.class);
                    assertThat(discovery.getServices()).containsExactly("osaka-app");
                    assertThat(discovery.getInstances("osaka-app")).singleElement()
                            .extracting(ServiceInstance::getUri).isEqualTo(URI.create("http://127.0.0.1:18080"));
                    admin.verify(getRequestedFor(urlEqualTo("/v1/loadbalancers"))
                            .withHeader("Authorization", equalTo("Bearer s3cret")));
                });
    }

    @Test
    void startsWithoutReachingTheDaemon() {
        // Nothing listens on the admin port: start-up must not depend on it.
        String unreachable = admin.baseUrl();
        admin.stop();
        runner.withPropertyValues("isthmus.daemon.admin-url=" + unreachable).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(MeshClient.class);
            HealthIndicator health = context.getBean("isthmusHealthIndicator", HealthIndicator.class);
            assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.health().getDetails()).containsEntry("store", "unreachable");
        });
    }

    @Test
    void healthIsUpWhileTheAdminApiAnswers() {
        admin.stubFor(get("/v1/status").willReturn(okJson(
                "{\"site\":\"tokyo\",\"storeRevision\":12,\"appliedRevision\":12}")));
        runner.withPropertyValues("isthmus.daemon.admin-url=" + admin.baseUrl()).run(context -> {
            HealthIndicator health = context.getBean("isthmusHealthIndicator", HealthIndicator.class);
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);
            assertThat(health.health().getDetails()).containsEntry("revision", 12L)
                    .containsEntry("ingress", "http://" + URI.create(admin.baseUrl()).getHost() + ":8080");
        });
        admin.stubFor(get("/v1/status").willReturn(aResponse().withStatus(500).withBody("boom")));
        runner.withPropertyValues("isthmus.daemon.admin-url=" + admin.baseUrl()).run(context -> assertThat(
                context.getBean("isthmusHealthIndicator", HealthIndicator.class).health().getStatus())
                .isEqualTo(Status.DOWN));
    }

    @Test
    void registersDeclaredLoadBalancerThroughTheAdminApi() {
        admin.stubFor(put("/v1/loadbalancers/default/osaka-app").willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json").withBody(LB_DOC)));
        runner.withPropertyValues("isthmus.daemon.admin-url=" + admin.baseUrl(), "isthmus.register-beans=true")
                .withBean(LoadBalancer.class, () -> LoadBalancer.builder("osaka-app").domain("osaka-app")
                        .advertiseAt("tokyo").defaultPool("osaka-pool").build())
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(MeshObjectRegistrar.class);
                    admin.verify(putRequestedFor(urlEqualTo("/v1/loadbalancers/default/osaka-app"))
                            .withRequestBody(containing("\"defaultPool\":\"osaka-pool\"")));
                });
    }

    @Test
    void backsOffFromTheApplicationsConnection() {
        MeshConnection own = MeshConnection.builder(URI.create(admin.baseUrl()))
                .ingress(URI.create("http://127.0.0.1:28080")).build();
        runner.withBean(MeshConnection.class, () -> own).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MeshConnection.class)).isSameAs(own);
            assertThat(context.getBean(MeshClient.class).ingress()).isEqualTo(URI.create("http://127.0.0.1:28080"));
        });
    }

    @Test
    void rejectsAClientCertificateWithoutItsKey(@TempDir Path dir) {
        String[] files = TestPki.siteFiles(TestPki.ca(), "tokyo", dir);
        runner.withPropertyValues("isthmus.daemon.admin-url=" + admin.baseUrl(), files[3])
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.tls.private-key: not set (expected: both"));
    }

    @Test
    void rejectsAnAdminUrlThatIsNotHttp() {
        runner.withPropertyValues("isthmus.daemon.admin-url=ftp://127.0.0.1:9443")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("ftp://127.0.0.1:9443"));
    }
}
