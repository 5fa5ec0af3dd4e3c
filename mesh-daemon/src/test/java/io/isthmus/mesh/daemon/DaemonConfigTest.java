package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonConfigTest {

    @TempDir
    Path dir;

    private Path file(String yaml) throws IOException {
        Path file = dir.resolve("daemon.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws IOException {
        Path file = file("site: tokyo\ndev: {generateCa: true}\ningress: {port: 1001}\ntunnel: {port: 1002}\n"
                + "admin: {port: 1003}\n");
        DaemonConfig config = DaemonConfig.load(file,
                Map.of("ISTHMUS_TUNNEL_PORT", "2002", "ISTHMUS_ADMIN_PORT", "2003", "ISTHMUS_ROUTER_ID", "env-router"),
                Map.of("admin.port", "3003"));
        assertThat(config.site()).isEqualTo("tokyo");
        assertThat(config.ingressAddress().getPort()).isEqualTo(1001);      // file
        assertThat(config.tunnelAddress().getPort()).isEqualTo(2002);       // env beats file
        assertThat(config.adminAddress().getPort()).isEqualTo(3003);        // flag beats env
        assertThat(config.routerId()).isEqualTo("env-router");
        assertThat(config.trustDomain()).isEqualTo("dev.isthmus.local");  // default with a dev CA
        assertThat(config.drainTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(config.adminAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThat(config.etcdEndpoints()).isEmpty();
    }

    @Test
    void namesTheFileAndFieldOfAPortOutOfRange() throws IOException {
        Path file = file("site: tokyo\ndev: {generateCa: true}\ntunnel:\n  port: 70000\n");
        assertThatThrownBy(() -> DaemonConfig.load(file, Map.of(), Map.of()))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage("daemon.yaml: tunnel.port: 70000 (expected: 0-65535)");
    }

    @Test
    void namesTheEnvironmentVariableOrFlagThatCarriedABadValue() {
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_SITE", "tokyo",
                "ISTHMUS_DEV_GENERATE_CA", "true", "ISTHMUS_INGRESS_PORT", "http"), Map.of()))
                .hasMessage("ISTHMUS_INGRESS_PORT: ingress.port: \"http\" (expected: 0-65535)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_SITE", "tokyo"),
                Map.of("dev.generateCa", "yes")))
                .hasMessage("--dev-generate-ca: dev.generateCa: \"yes\" (expected: true or false)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true",
                "drain.timeout", "soon")))
                .hasMessageStartingWith("--drain-timeout: drain.timeout: \"soon\" (expected: a duration");
    }

    @Test
    void rejectsUnknownSettingsInTheFile() throws IOException {
        Path file = file("site: tokyo\ntunel: {port: 1}\n");
        assertThatThrownBy(() -> DaemonConfig.load(file, Map.of(), Map.of()))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith("daemon.yaml: tunel: unknown setting (expected: one of site, routerId");
    }

    @Test
    void requiresASiteAndCredentials() {
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of()))
                .hasMessage("site: missing (expected: set in the config file, ISTHMUS_SITE or --site)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "trustDomain", "mesh.example")))
                .hasMessageStartingWith("credentials.certificateChain: missing (expected: a PEM file");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "Tokyo!", "dev.generateCa", "true")))
                .hasMessageStartingWith("--site: site: \"Tokyo!\" (expected: a site name");
    }

    @Test
    void allowsPlainHttpForTheAdminApiOnlyOnLoopback() {
        Map<String, String> flags = Map.of("site", "tokyo", "dev.generateCa", "true",
                "admin.address", "0.0.0.0", "admin.tls.enabled", "false");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), flags))
                .hasMessage("--admin-tls-enabled: admin.tls.enabled: false on 0.0.0.0 (expected: true, "
                        + "or admin.address a loopback address such as 127.0.0.1)");
    }

    @Test
    void readsEtcdEndpointsAndClientCertificateRoles() throws IOException {
        Path file = file("site: osaka\ndev: {generateCa: true}\netcd:\n  endpoints: [http://10.0.0.1:2379]\n"
                + "admin:\n  clientCertificateRoles:\n    \"spiffe://dev.isthmus.local/site/ops\": read-only\n");
        DaemonConfig config = DaemonConfig.load(file, Map.of("ISTHMUS_ETCD_ENDPOINTS",
                "http://10.0.0.2:2379, http://10.0.0.3:2379"), Map.of());
        assertThat(config.etcdEndpoints()).extracting(Object::toString)
                .containsExactly("http://10.0.0.2:2379", "http://10.0.0.3:2379");
        assertThat(config.clientCertificateRoles())
                .containsEntry("spiffe://dev.isthmus.local/site/ops", AdminRole.READ_ONLY);
        assertThatThrownBy(() -> DaemonConfig.load(file, Map.of("ISTHMUS_ETCD_ENDPOINTS", "etcd:2379"), Map.of()))
                .hasMessage("ISTHMUS_ETCD_ENDPOINTS: etcd.endpoints: \"etcd:2379\" "
                        + "(expected: http://host:port or https://host:port)");
    }

    @Test
    void theExampleFileOfTheDistributionIsValid() {
        DaemonConfig config = DaemonConfig.load(Path.of("daemon.example.yaml"), Map.of(), Map.of());
        assertThat(config.site()).isEqualTo("tokyo");
        assertThat(config.etcdEndpoints()).hasSize(3);
        assertThat(config.adminTls()).isTrue();
        assertThat(config.tunnelAdvertiseAddress()).isEqualTo("203.0.113.10");
        assertThat(config.clientCertificateRoles()).containsEntry("spiffe://mesh.example/site/ops", AdminRole.ADMIN);
        assertThat(config.drainDelay()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void readsKubernetesSettingsFromFileEnvironmentAndFlags() {
        Map<String, String> flags = Map.of("site", "tokyo", "dev.generateCa", "true",
                "kubernetes.routerPods.labels", "app=router, tier=edge", "kubernetes.serviceType", "clusterip",
                "credentials.reloadInterval", "250ms");
        Map<String, String> pod = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "POD_IP", "10.1.0.5",
                "POD_NAMESPACE", "mesh", "HOME", "/root");
        DaemonConfig config = DaemonConfig.load(null, pod, flags);
        assertThat(config.kubernetesEnabled()).isTrue();
        assertThat(config.kubernetesRouterPodsLabels()).containsExactly(Map.entry("app", "router"), Map.entry("tier", "edge"));
        assertThat(config.kubernetesRouterPodsNamespace()).isEqualTo("mesh");
        assertThat(config.kubernetesServiceType()).isEqualTo(io.isthmus.mesh.k8s.ServiceSurfacer.ServiceType.CLUSTER_IP);
        assertThat(config.downwardApi()).containsOnlyKeys("POD_IP", "POD_NAMESPACE");
        assertThat(config.credentialsReloadInterval()).isEqualTo(Duration.ofMillis(250));

        DaemonConfig outside = DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true"));
        assertThat(outside.kubernetesEnabled()).isFalse();
        assertThat(outside.kubernetesRouterPodsLabels()).containsExactly(Map.entry("app.kubernetes.io/name", "isthmus-router"));
        DaemonConfig optedOut = DaemonConfig.load(null, pod, Map.of("site", "tokyo", "dev.generateCa", "true",
                "kubernetes.enabled", "false"));
        assertThat(optedOut.kubernetesEnabled()).isFalse();
        DaemonConfig otherPod = DaemonConfig.load(null, Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                Map.of("site", "tokyo", "dev.generateCa", "true"));
        assertThat(otherPod.kubernetesEnabled()).as("a pod that is not a router pod (no POD_IP)").isFalse();
    }

    @Test
    void rejectsBadKubernetesSettingsNamingThem() {
        Map<String, String> pod = Map.of("POD_IP", "10.1.0.5");
        assertThatThrownBy(() -> DaemonConfig.load(null, pod, Map.of("site", "tokyo", "dev.generateCa", "true",
                "kubernetes.serviceType", "LoadBalancer")))
                .hasMessage("--kubernetes-service-type: kubernetes.serviceType: \"LoadBalancer\" (expected: NodePort or ClusterIP)");
        assertThatThrownBy(() -> DaemonConfig.load(null, pod, Map.of("site", "tokyo", "dev.generateCa", "true",
                "kubernetes.routerPods.labels", "router")))
                .hasMessageContaining("kubernetes.routerPods.labels: \"router\" (expected: key=value pairs");
        assertThatThrownBy(() -> DaemonConfig.load(null, pod, Map.of("site", "tokyo", "dev.generateCa", "true",
                "kubernetes.apiServer", "10.96.0.1:443")))
                .hasMessageContaining("kubernetes.apiServer: \"10.96.0.1:443\" (expected: https://host:port)");
        assertThatThrownBy(() -> DaemonConfig.load(null, pod, Map.of("site", "tokyo", "dev.generateCa", "true",
                "credentials.reloadInterval", "0s")))
                .hasMessageContaining("credentials.reloadInterval");
    }

    @Test
    void routerSettingsLayerFileEnvironmentAndFlagsAndLeaveTheRestToTheRouter() throws IOException {
        Path file = file("site: tokyo\ndev: {generateCa: true}\nrouter:\n  ioThreads: 2\n  maxHeaderCount: 50\n"
                + "  requestHeaderTimeout: 3s\n  localSiteFirst: true\n");
        DaemonConfig config = DaemonConfig.load(file,
                Map.of("ISTHMUS_ROUTER_MAX_HEADER_COUNT", "40", "ISTHMUS_ROUTER_IDLE_TIMEOUT", "90s",
                        "ISTHMUS_ROUTER_MAX_CONNECTIONS_PER_ORIGIN", "8"),
                Map.of("router.maxConnectionsPerOrigin", "4", "router.maxPendingRequestsPerOrigin", "0"));
        assertThat(config.routerSettings()).containsOnly(
                Map.entry("router.ioThreads", 2),                                   // file
                Map.entry("router.maxHeaderCount", 40),                             // env beats file
                Map.entry("router.requestHeaderTimeout", Duration.ofSeconds(3)),
                Map.entry("router.maxConnectionsPerOrigin", 4),                     // flag beats env
                Map.entry("router.maxPendingRequestsPerOrigin", 0),
                Map.entry("router.idleTimeout", Duration.ofSeconds(90)),
                Map.entry("router.localSiteFirst", true));

        DaemonConfig none = DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true"));
        assertThat(none.routerSettings()).as("unset: the router's defaults").isEmpty();
        assertThat(DaemonConfig.envName("router.ioThreads")).isEqualTo("ISTHMUS_ROUTER_IO_THREADS");
        assertThat(DaemonConfig.flagName("router.maxPendingRequestsPerOrigin"))
                .isEqualTo("--router-max-pending-requests-per-origin");
    }

    @Test
    void rejectsRouterValuesThatDoNotParseNamingTheirSource() throws IOException {
        Map<String, String> dev = Map.of("site", "tokyo", "dev.generateCa", "true");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.maxHeaderCount", "many")))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage("--router-max-header-count: router.maxHeaderCount: \"many\" (expected: an integer)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_ROUTER_IO_THREADS", "1.5"), dev))
                .hasMessage("ISTHMUS_ROUTER_IO_THREADS: router.ioThreads: \"1.5\" (expected: an integer)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_ROUTER_RESPONSE_TIMEOUT", "soon"), dev))
                .hasMessage("ISTHMUS_ROUTER_RESPONSE_TIMEOUT: router.responseTimeout: \"soon\" "
                        + "(expected: a duration >= 0 such as 500ms, 5s, 1m)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.connectTimeout", "-5s")))
                .hasMessage("--router-connect-timeout: router.connectTimeout: \"-5s\" "
                        + "(expected: a duration >= 0 such as 500ms, 5s, 1m)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.localSiteFirst", "yes")))
                .hasMessage("--router-local-site-first: router.localSiteFirst: \"yes\" (expected: true or false)");
        Path list = file("site: tokyo\ndev: {generateCa: true}\nrouter: {maxConnections: [1, 2]}\n");
        assertThatThrownBy(() -> DaemonConfig.load(list, Map.of(), Map.of()))
                .hasMessage("daemon.yaml: router.maxConnections: [1, 2] (expected: a single value)");
    }

    @Test
    void rejectsUnknownRouterSettingsLikeAnyOther() throws IOException {
        Path file = file("site: tokyo\ndev: {generateCa: true}\nrouter:\n  ioThread: 2\n");
        assertThatThrownBy(() -> DaemonConfig.load(file, Map.of(), Map.of()))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith("daemon.yaml: router.ioThread: unknown setting (expected: one of site, ")
                .hasMessageContaining("router.ioThreads, router.maxConnections,");
        Path scalar = file("site: tokyo\ndev: {generateCa: true}\nrouter: fast\n");
        assertThatThrownBy(() -> DaemonConfig.load(scalar, Map.of(), Map.of()))
                .hasMessageStartingWith("daemon.yaml: router: unknown setting");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true",
                "router.maxHeaders", "10")))
                .hasMessageStartingWith("--set: router.maxHeaders: unknown setting");
    }

    @Test
    void valuesTheRouterRefusesFailWithItsExpectationNamingTheSetting() throws IOException {
        MeshRouter.Builder builder = MeshRouter.builder(
                MeshCertificateAuthority.create("dev.isthmus.local").issueSite("tokyo"), ConfigStore.inMemory());
        Map<String, String> dev = Map.of("site", "tokyo", "dev.generateCa", "true");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_ROUTER_IO_THREADS", "0"), dev)
                .configureRouter(builder))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage("ISTHMUS_ROUTER_IO_THREADS: router.ioThreads: 0 (expected: > 0)");
        Path file = file("site: tokyo\ndev: {generateCa: true}\nrouter: {maxHeaderSize: 512}\n");
        assertThatThrownBy(() -> DaemonConfig.load(file, Map.of(), Map.of()).configureRouter(builder))
                .hasMessage("daemon.yaml: router.maxHeaderSize: 512 (expected: >= 1024)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.maxPendingRequestsPerOrigin", "-1"))
                .configureRouter(builder))
                .hasMessage("--router-max-pending-requests-per-origin: router.maxPendingRequestsPerOrigin: -1 "
                        + "(expected: >= 0)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.tunnelConnectionsPerSite", "17"))
                .configureRouter(builder))
                .hasMessage("--router-tunnel-connections-per-site: router.tunnelConnectionsPerSite: 17 (expected: 1-16)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), with(dev, "router.requestHeaderTimeout", "0s"))
                .configureRouter(builder))
                .hasMessage("--router-request-header-timeout: router.requestHeaderTimeout: \"0s\" "
                        + "(expected: > 0 and < 24 days)");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("ISTHMUS_ROUTER_IDLE_TIMEOUT", "PT720H"), dev)
                .configureRouter(builder))
                .hasMessage("ISTHMUS_ROUTER_IDLE_TIMEOUT: router.idleTimeout: \"PT720H\" (expected: > 0 and < 24 days)");

        DaemonConfig.load(null, Map.of(), with(dev, "router.maxPendingRequestsPerOrigin", "0")).configureRouter(builder);
    }

    private static Map<String, String> with(Map<String, String> settings, String key, String value) {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put(key, value);
        return all;
    }

    @Test
    void derivesEnvironmentAndFlagNamesFromSettings() {
        assertThat(DaemonConfig.envName("admin.tls.enabled")).isEqualTo("ISTHMUS_ADMIN_TLS_ENABLED");
        assertThat(DaemonConfig.envName("routerId")).isEqualTo("ISTHMUS_ROUTER_ID");
        assertThat(DaemonConfig.flagName("dev.generateCa")).isEqualTo("--dev-generate-ca");
    }
}
