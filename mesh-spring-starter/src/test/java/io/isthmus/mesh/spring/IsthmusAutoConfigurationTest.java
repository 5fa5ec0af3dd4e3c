package io.isthmus.mesh.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

class IsthmusAutoConfigurationTest {

    private static final AutoConfigurations ALL = AutoConfigurations.of(IsthmusAutoConfiguration.class,
            IsthmusDiscoveryClientAutoConfiguration.class, IsthmusHttpClientAutoConfiguration.class,
            IsthmusHealthAutoConfiguration.class, IsthmusMetricsAutoConfiguration.class);

    private static MeshCertificateAuthority ca;

    @TempDir
    static Path pemDir;

    private static String[] tokyo;

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(ALL);

    @BeforeAll
    static void writeSiteFiles() {
        ca = TestPki.ca();
        tokyo = TestPki.siteFiles(ca, "tokyo", pemDir);
    }

    @Test
    void embeddedModeStartsRouterAndRegistersItsSite() {
        runner.withPropertyValues(tokyo).run(context -> {
            assertThat(context).hasNotFailed()
                    .hasSingleBean(SiteCredentials.class)
                    .hasSingleBean(ConfigStore.class)
                    .hasSingleBean(MeshRouter.class)
                    .hasSingleBean(MeshRouterLifecycle.class)
                    .hasSingleBean(MeshClient.class)
                    .hasSingleBean(MeshDiscoveryClient.class)
                    .hasSingleBean(MeshRestClientCustomizer.class)
                    .hasSingleBean(MeshWebClientCustomizer.class)
                    .hasSingleBean(MeshRouterMetrics.class)
                    .hasBean("isthmusHealthIndicator");
            MeshRouter router = context.getBean(MeshRouter.class);
            assertThat(router.site()).isEqualTo("tokyo");
            assertThat(context.getBean(MeshRouterLifecycle.class).isRunning()).isTrue();
            URI ingress = context.getBean(MeshClient.class).ingress();
            assertThat(ingress.getHost()).isEqualTo("127.0.0.1");
            assertThat(ingress.getPort()).isEqualTo(router.ingressAddress().getPort()).isPositive();
            Site site = (Site) context.getBean(ConfigStore.class).get(ObjectKey.of(Kind.SITE, "tokyo"))
                    .orElseThrow().object();
            assertThat(site.tunnelEndpoints()).containsExactly(router.tunnelEndpoint());
        });
    }

    @Test
    void routerStopsWithTheContext() {
        MeshRouterLifecycle[] lifecycle = new MeshRouterLifecycle[1];
        runner.withPropertyValues(tokyo).run(context -> lifecycle[0] = context.getBean(MeshRouterLifecycle.class));
        assertThat(lifecycle[0].isRunning()).isFalse();
    }

    @Test
    void daemonModeIsTheDefaultAndConnectsToTheNodesDaemon() {
        runner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(IsthmusProperties.class)
                    .doesNotHaveBean(MeshRouter.class)
                    .doesNotHaveBean(ConfigStore.class);
            assertThat(context.getBean(IsthmusProperties.class).getMode()).isEqualTo(IsthmusProperties.Mode.DAEMON);
            // The node's daemon at its default admin address; the ingress on port 8080 of the same host.
            assertThat(context).hasSingleBean(MeshClient.class);
            MeshConnection connection = context.getBean(MeshConnection.class);
            assertThat(connection.adminUrl()).isEqualTo(URI.create("https://127.0.0.1:9443"));
            assertThat(context.getBean(MeshClient.class).ingress()).isEqualTo(URI.create("http://127.0.0.1:8080"));
        });
    }

    @Test
    void doesNothingWhenDisabled() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.enabled=false").run(context -> {
            assertThat(context).hasNotFailed()
                    .doesNotHaveBean(IsthmusProperties.class)
                    .doesNotHaveBean(MeshRouter.class)
                    .doesNotHaveBean(MeshClient.class)
                    .doesNotHaveBean(MeshConnection.class)
                    .doesNotHaveBean(ConfigStore.class)
                    .doesNotHaveBean(MeshDiscoveryClient.class)
                    .doesNotHaveBean(MeshRestClientCustomizer.class)
                    .doesNotHaveBean("isthmusHealthIndicator");
        });
    }

    @Test
    void backsOffFromTheApplicationsStoreCredentialsAndClient() {
        ConfigStore own = ConfigStore.inMemory();
        SiteCredentials osaka = ca.issueSite("osaka");
        runner.withPropertyValues("isthmus.mode=embedded")
                .withBean(ConfigStore.class, () -> own)
                .withBean(SiteCredentials.class, () -> osaka)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ConfigStore.class)).isSameAs(own);
                    assertThat(context.getBean(SiteCredentials.class)).isSameAs(osaka);
                    assertThat(context.getBean(MeshRouter.class).site()).isEqualTo("osaka");
                    // The router registered itself in the application's store.
                    assertThat(own.get(ObjectKey.of(Kind.SITE, "osaka"))).isPresent();
                });
        MeshClient client = MeshClient.of(ConfigStore.inMemory(), URI.create("http://127.0.0.1:9"));
        runner.withPropertyValues(tokyo).withBean(MeshClient.class, () -> client).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MeshClient.class)).isSameAs(client);
            assertThat(context.getBean(MeshDiscoveryClient.class).getServices()).isEmpty();
        });
    }

    @Test
    void backsOffFromTheApplicationsIntegrationBeans() {
        runner.withPropertyValues(tokyo).withUserConfiguration(OwnIntegrations.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MeshDiscoveryClient.class)).isSameAs(OwnIntegrations.DISCOVERY);
            assertThat(context.getBean(MeshRestClientCustomizer.class)).isSameAs(OwnIntegrations.REST);
            assertThat(context.getBean(MeshWebClientCustomizer.class)).isSameAs(OwnIntegrations.WEB);
            assertThat(context.getBean("isthmusHealthIndicator")).isSameAs(OwnIntegrations.HEALTH);
            assertThat(context.getBean(MeshRouterMetrics.class)).isSameAs(OwnIntegrations.METRICS);
            assertThat(context.getBean(MeshRouterStatus.class)).isSameAs(OwnIntegrations.STATUS);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnIntegrations {
        static final MeshClient CLIENT = MeshClient.of(ConfigStore.inMemory(), URI.create("http://127.0.0.1:9"));
        static final MeshDiscoveryClient DISCOVERY = new MeshDiscoveryClient(CLIENT);
        static final MeshRestClientCustomizer REST = new MeshRestClientCustomizer(
                new MeshProxySelector(CLIENT, h -> false, null), Duration.ofSeconds(1));
        static final MeshWebClientCustomizer WEB = new MeshWebClientCustomizer(
                new MeshExchangeFilterFunction(CLIENT, h -> false));
        static final HealthIndicator HEALTH = () -> Health.up().build();
        static final MeshRouterStatus STATUS = new MeshRouterStatus();
        static final MeshRouterMetrics METRICS = new MeshRouterMetrics("tokyo", STATUS);

        @Bean
        MeshDiscoveryClient ownDiscoveryClient() {
            return DISCOVERY;
        }

        @Bean
        MeshRestClientCustomizer ownRestClientCustomizer() {
            return REST;
        }

        @Bean
        MeshWebClientCustomizer ownWebClientCustomizer() {
            return WEB;
        }

        @Bean
        HealthIndicator isthmusHealthIndicator() {
            return HEALTH;
        }

        @Bean
        MeshRouterStatus ownStatus() {
            return STATUS;
        }

        @Bean
        MeshRouterMetrics ownMetrics() {
            return METRICS;
        }
    }

    @Test
    void bindsPropertiesWithRelaxedNames() {
        runner.withPropertyValues(tokyo)
                .withPropertyValues("isthmus.mode=EMBEDDED", "isthmus.store.type=in-memory",
                        "isthmus.store.etcd.endpoints=http://10.0.0.1:2379,http://10.0.0.2:2379",
                        "isthmus.store.etcd.request-timeout=250ms", "isthmus.embedded.io-threads=2",
                        "isthmus.embedded.connect-timeout=2s", "isthmus.http.domain-refresh=0",
                        "isthmus.daemon.admin-url=https://node:9443", "isthmus.register-beans=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    IsthmusProperties p = context.getBean(IsthmusProperties.class);
                    assertThat(p.getMode()).isEqualTo(IsthmusProperties.Mode.EMBEDDED);
                    assertThat(p.getStore().getType()).isEqualTo(IsthmusProperties.StoreType.IN_MEMORY);
                    assertThat(p.getStore().getEtcd().getEndpoints()).containsExactly(
                            URI.create("http://10.0.0.1:2379"), URI.create("http://10.0.0.2:2379"));
                    assertThat(p.getStore().getEtcd().getRequestTimeout()).isEqualTo(Duration.ofMillis(250));
                    assertThat(p.getEmbedded().getIoThreads()).isEqualTo(2);
                    assertThat(p.getEmbedded().getConnectTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(p.getHttp().getDomainRefresh()).isZero();
                    assertThat(p.getDaemon().getAdminUrl()).isEqualTo(URI.create("https://node:9443"));
                    assertThat(p.getTls().getPrivateKey()).isEqualTo(pemDir.resolve("tokyo.key"));
                });
    }

    @Test
    void applicationPropertiesTakePrecedenceOverSystemProperties() {
        runner.withPropertyValues(tokyo)
                .withSystemProperties("isthmus.embedded.ingress-host=127.0.0.2", "isthmus.site=osaka")
                .withPropertyValues("isthmus.site=tokyo")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    IsthmusProperties p = context.getBean(IsthmusProperties.class);
                    // Test property values win over system properties; unset ones still come through.
                    assertThat(p.getSite()).isEqualTo("tokyo");
                    assertThat(p.getEmbedded().getIngressHost()).isEqualTo("127.0.0.2");
                    assertThat(context.getBean(MeshRouter.class).ingressAddress().getHostString())
                            .isEqualTo("127.0.0.2");
                });
    }

    @Test
    void rejectsEmbeddedModeWithoutTlsMaterial() {
        runner.withPropertyValues("isthmus.mode=embedded", "isthmus.trust-domain=" + TestPki.TRUST_DOMAIN)
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.tls.certificate-chain: not set")
                        .hasMessageContaining("PEM file with the site certificate"));
    }

    @Test
    void rejectsSiteThatDoesNotMatchTheCertificate() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.site=kyoto")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.site: kyoto (expected: tokyo"));
    }

    @Test
    void rejectsIngressPortOutOfRange() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.embedded.ingress-port=70000")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.embedded.ingress-port: 70000 (expected: 0-65535"));
    }

    @Test
    void rejectsEtcdStoreWithoutEndpoints() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.store.type=etcd")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.store.etcd.endpoints: [] (expected: at least one etcd URL"));
    }

    @Test
    void etcdStoreNeedsMeshK8s() {
        runner.withPropertyValues(tokyo)
                .withPropertyValues("isthmus.store.type=etcd", "isthmus.store.etcd.endpoints=http://127.0.0.1:2379")
                .withClassLoader(new FilteredClassLoader(EtcdConfigStore.class))
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.store.type=etcd needs io.isthmus:mesh-k8s"));
    }

    @Test
    void embeddedModeNeedsMeshNetty() {
        runner.withPropertyValues(tokyo)
                .withClassLoader(new FilteredClassLoader(MeshRouter.class))
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("isthmus.mode=embedded needs io.isthmus:mesh-netty"));
    }

    @Test
    void leavesOutIntegrationsWhoseLibraryIsMissing() {
        runner.withPropertyValues(tokyo)
                .withClassLoader(new FilteredClassLoader(DiscoveryClient.class, HealthIndicator.class,
                        MeterBinder.class, RestClient.class, WebClient.class))
                .run(context -> assertThat(context).hasNotFailed()
                        .hasSingleBean(MeshClient.class)
                        .doesNotHaveBean(MeshDiscoveryClient.class)
                        .doesNotHaveBean("isthmusHealthIndicator")
                        .doesNotHaveBean(MeshRouterMetrics.class)
                        .doesNotHaveBean(MeshRestClientCustomizer.class)
                        .doesNotHaveBean(MeshWebClientCustomizer.class));
        runner.withPropertyValues(tokyo)
                .withClassLoader(new FilteredClassLoader(RestClientCustomizer.class, WebClientCustomizer.class))
                .run(context -> assertThat(context).hasNotFailed()
                        .hasSingleBean(MeshDiscoveryClient.class)
                        .doesNotHaveBean(MeshRestClientCustomizer.class)
                        .doesNotHaveBean(MeshWebClientCustomizer.class));
    }

    @Test
    void httpAndDiscoveryIntegrationsCanBeTurnedOff() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.http.enabled=false",
                        "isthmus.discovery.enabled=false")
                .run(context -> assertThat(context).hasNotFailed()
                        .hasSingleBean(MeshClient.class)
                        .doesNotHaveBean(MeshDiscoveryClient.class)
                        .doesNotHaveBean(MeshRestClientCustomizer.class)
                        .doesNotHaveBean(MeshWebClientCustomizer.class));
    }

    @Test
    void registersDeclaredMeshObjectsWhenAskedTo() {
        runner.withPropertyValues(tokyo).withPropertyValues("isthmus.register-beans=true")
                .withUserConfiguration(DeclaredObjects.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ConfigStore store = context.getBean(ConfigStore.class);
                    assertThat(store.get(ObjectKey.of(Kind.ORIGIN_POOL, "default", "osaka-pool"))).isPresent();
                    assertThat(store.get(ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app"))).isPresent();
                    assertThat(context.getBean(MeshDiscoveryClient.class).getServices()).containsExactly("osaka-app");
                });
        runner.withPropertyValues(tokyo).withUserConfiguration(DeclaredObjects.class).run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(MeshObjectRegistrar.class);
            assertThat(context.getBean(ConfigStore.class).list(Kind.LOAD_BALANCER)).isEmpty();
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class DeclaredObjects {
        @Bean
        LoadBalancer osakaApp() {
            return LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                    .defaultPool("osaka-pool").build();
        }

        @Bean
        OriginPool osakaPool() {
            return OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", 8081)).build();
        }
    }

    @Test
    void discoveryClientListsMeshDomainsAtTheIngress() {
        runner.withPropertyValues(tokyo).run(context -> {
            ConfigStore store = context.getBean(ConfigStore.class);
            store.put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", 8081)).build());
            store.put(LoadBalancer.builder("orders").domains(List.of("orders", "orders.example"))
                    .advertiseAt("tokyo").defaultPool("osaka-pool").build());
            DiscoveryClient discovery = context.getBean(MeshDiscoveryClient.class);
            assertThat(discovery.getServices()).containsExactly("orders", "orders.example");
            List<ServiceInstance> instances = discovery.getInstances("ORDERS.example");
            URI ingress = context.getBean(MeshClient.class).ingress();
            assertThat(instances).singleElement().satisfies(i -> {
                assertThat(i.getServiceId()).isEqualTo("orders.example");
                assertThat(i.getHost()).isEqualTo(ingress.getHost());
                assertThat(i.getPort()).isEqualTo(ingress.getPort());
                assertThat(i.getMetadata()).containsEntry(MeshDiscoveryClient.LOAD_BALANCER_METADATA,
                        "default/orders").containsEntry(MeshDiscoveryClient.ADVERTISE_SITES_METADATA, "tokyo");
            });
            assertThat(discovery.getInstances("unknown")).isEmpty();
        });
    }

    @Test
    void healthReportsTheRunningRouterAndBindsMetrics() {
        runner.withPropertyValues(tokyo).run(context -> {
            HealthIndicator health = context.getBean("isthmusHealthIndicator", HealthIndicator.class);
            Health h = health.health();
            assertThat(h.getStatus()).isEqualTo(Status.UP);
            assertThat(h.getDetails()).containsEntry("site", "tokyo").containsEntry("store", "reachable")
                    .containsEntry("outboundTunnels", 0).containsEntry("inboundTunnels", 0);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            context.getBean(MeshRouterMetrics.class).bindTo(registry);
            assertThat(registry.get("isthmus.router.tunnels").tag("direction", "outbound").gauge().value())
                    .isZero();
            assertThat(registry.get("isthmus.router.config.revision").tag("site", "tokyo").gauge().value())
                    .isGreaterThanOrEqualTo(0);
            context.getBean(MeshRouterLifecycle.class).stop();
            assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        });
    }
}
