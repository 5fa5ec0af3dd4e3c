package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The daemon's Kubernetes extension against fabric8's mock API server in CRUD mode. */
class DaemonKubernetesTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String ROUTER_NS = "isthmus-system";
    private static final Map<String, String> ROUTER_LABELS = Map.of("app.kubernetes.io/name", "isthmus-router");

    @TempDir
    Path state;

    private KubernetesMockServer server;
    private KubernetesClient setup;
    private RouterDaemon daemon;

    @BeforeEach
    void startApiServer() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(List.of()), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        setup = server.createClient();
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
        setup.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            System.err.println("Mock API server shut down uncleanly: " + e);
        }
    }

    @Test
    void inAPodSurfacesARemoteLoadBalancerAsServiceWithEndpointSlice() throws IOException {
        routerPod("tokyo-2", "10.1.0.9", "node-2");
        Map<String, String> env = new HashMap<>(podEnv());
        env.put("KUBERNETES_SERVICE_HOST", "10.96.0.1"); // as in a pod: the integration turns itself on
        Map<String, String> settings = settings();
        settings.put("kubernetes.apiServer", setup.getConfiguration().getMasterUrl());
        DaemonConfig config = DaemonConfig.load(null, env, settings);
        assertThat(config.kubernetesEnabled()).isTrue();

        daemon = RouterDaemon.start(config, loadedExtensions());
        daemon.store().put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.parse("10.0.0.7:8080")).build());
        daemon.store().put(LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                .defaultPool("osaka-pool").build());

        await().atMost(WAIT).until(() -> service("osaka-app") != null && slice("osaka-app") != null
                && slice("osaka-app").getEndpoints().size() == 2);
        Service service = service("osaka-app");
        assertThat(service.getSpec().getType()).isEqualTo("NodePort");
        assertThat(service.getMetadata().getAnnotations()).containsEntry("isthmus.io/discovery-creator", "tokyo/tokyo-1");
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(80);
            assertThat(p.getTargetPort().getIntVal()).isEqualTo(daemon.ingressAddress().getPort());
        });
        assertThat(slice("osaka-app").getEndpoints()).extracting(e -> e.getAddresses().get(0) + "@" + e.getNodeName())
                .containsExactly("10.1.0.5@node-1", "10.1.0.9@node-2");

        Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
            JsonNode kubernetes = Http.json(admin.get("/v1/status")).path("extensions").path("kubernetes");
            assertThat(kubernetes.path("state").asString()).isEqualTo("OK");
            assertThat(kubernetes.path("apiServer").asString()).startsWith(setup.getConfiguration().getMasterUrl()
                    .replaceAll("/$", ""));
            assertThat(kubernetes.path("loadBalancers")).singleElement().satisfies(lb -> {
                assertThat(lb.path("loadBalancer").asString()).isEqualTo("default/osaka-app");
                assertThat(lb.path("state").asString()).isEqualTo("SURFACED");
                assertThat(lb.path("service").asString()).isEqualTo("default/osaka-app");
            });
        });
    }

    @Test
    void routesToTheReadyPodsOfAKubernetesServiceOrigin() throws Exception {
        WireMockServer pod = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        pod.start();
        pod.stubFor(get(urlEqualTo("/orders")).willReturn(aResponse().withStatus(200).withBody("from the pod")));
        try {
            setup.services().inNamespace("shop").resource(new ServiceBuilder()
                    .withNewMetadata().withName("orders").endMetadata()
                    .withNewSpec().addToSelector("app", "orders")
                    .addNewPort().withName("http").withPort(8080).withTargetPort(new IntOrString("web")).endPort()
                    .endSpec().build()).create();
            setup.discovery().v1().endpointSlices().inNamespace("shop").resource(new EndpointSliceBuilder()
                    .withNewMetadata().withName("orders-abc").addToLabels("kubernetes.io/service-name", "orders")
                    .endMetadata()
                    .withAddressType("IPv4")
                    .addNewPort().withName("http").withPort(pod.port()).withProtocol("TCP").endPort()
                    .addNewEndpoint().withAddresses("127.0.0.1").withNewConditions().withReady(true).endConditions()
                    .endEndpoint()
                    .build()).create();
            Map<String, String> settings = settings();
            settings.put("kubernetes.enabled", "true");
            settings.put("kubernetes.apiServer", setup.getConfiguration().getMasterUrl());
            daemon = RouterDaemon.start(DaemonConfig.load(null, podEnv(), settings), loadedExtensions());
            daemon.store().put(OriginPool.builder("orders-pool").site("tokyo")
                    .origin(Origin.builder().kubernetesService("orders", "shop", 8080).build()).build());
            daemon.store().put(LoadBalancer.builder("orders").domain("orders.example").advertiseAt("tokyo")
                    .defaultPool("orders-pool").build());

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(ProxySelector.of(daemon.ingressAddress())).connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://orders.example/orders"))
                    .timeout(Duration.ofSeconds(10)).build();
            await().atMost(WAIT).untilAsserted(() -> {
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo("from the pod");
            });
        } finally {
            pod.stop();
        }
    }

    @Test
    void isNotReadyWhileTheApiServerCannotBeReached() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Map<String, String> settings = settings();
        settings.put("kubernetes.enabled", "true");
        settings.put("kubernetes.apiServer", "http://127.0.0.1:" + closed);
        daemon = RouterDaemon.start(DaemonConfig.load(null, podEnv(), settings), loadedExtensions());
        daemon.store().put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.parse("10.0.0.7:8080")).build());
        daemon.store().put(LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                .defaultPool("osaka-pool").build());

        Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(503);
            assertThat(admin.get("/readyz").body()).contains("kubernetes: no reconcile with the Kubernetes API at");
            JsonNode kubernetes = Http.json(admin.get("/v1/status")).path("extensions").path("kubernetes");
            assertThat(kubernetes.path("state").asString()).isEqualTo("STARTING");
            assertThat(kubernetes.path("lastReconciled").asString()).isEmpty();
        });
    }

    @Test
    void staysOffOutsideAClusterUnlessEnabled() throws IOException {
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), settings()), loadedExtensions());
        Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
        assertThat(daemon.config().kubernetesEnabled()).isFalse();
        await().atMost(WAIT).until(() -> admin.get("/readyz").statusCode() == 200);
        assertThat(Http.json(admin.get("/v1/status")).path("extensions").has("kubernetes")).isFalse();
    }

    @Test
    void refusesToEnableKubernetesWithoutThePodIp() throws IOException {
        Map<String, String> settings = settings();
        settings.put("kubernetes.enabled", "true");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of("NODE_NAME", "node-1"), settings))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessageContaining("kubernetes.enabled")
                .hasMessageContaining("POD_IP");
    }

    private Map<String, String> settings() throws IOException {
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        return AdminApiTest.settings(state.resolve("state"), tokens);
    }

    private static Map<String, String> podEnv() {
        return Map.of("POD_IP", "10.1.0.5", "NODE_NAME", "node-1", "POD_NAME", "tokyo-1", "POD_NAMESPACE", ROUTER_NS);
    }

    private static List<DaemonExtension> loadedExtensions() {
        List<DaemonExtension> extensions = new ArrayList<>();
        ServiceLoader.load(DaemonExtension.class).forEach(extensions::add);
        assertThat(extensions).extracting(DaemonExtension::name).contains("kubernetes");
        return extensions;
    }

    private Service service(String name) {
        return setup.services().inNamespace("default").withName(name).get();
    }

    private EndpointSlice slice(String name) {
        return setup.discovery().v1().endpointSlices().inNamespace("default").withName(name + "-isthmus-ipv4").get();
    }

    private void routerPod(String name, String ip, String node) {
        Pod pod = setup.pods().inNamespace(ROUTER_NS).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(ROUTER_LABELS).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("router").withImage("isthmus").endContainer()
                .endSpec().build()).create();
        setup.pods().inNamespace(ROUTER_NS).resource(new PodBuilder(pod).withNewStatus().withPodIP(ip)
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build()).updateStatus();
    }
}
