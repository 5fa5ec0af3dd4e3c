package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.k8s.SurfacingStatus.State;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ServiceSurfacerTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int LISTENER_PORT = 18080;
    private static final String ROUTER_NS = "isthmus-system";
    private static final Map<String, String> ROUTER_LABELS = Map.of("app.kubernetes.io/name", "isthmus-router");

    @RegisterExtension
    final MockKubernetes k8s = new MockKubernetes();

    private final ConfigStore store = ConfigStore.inMemory();
    private final List<SurfacingStatus> events = new CopyOnWriteArrayList<>();
    private ServiceSurfacer surfacer;
    private KubernetesClient setup;

    private final LoadBalancer osakaApp = LoadBalancer.builder("osaka-app").domain("osaka-app.mesh.example")
            .advertiseAt("tokyo").defaultPool("osaka-pool").build();

    @BeforeEach
    void remotePool() {
        setup = k8s.setup();
        store.put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.parse("10.0.0.7:8080")).build());
    }

    @AfterEach
    void close() {
        if (surfacer != null) {
            surfacer.close();
        }
        store.close();
    }

    private ServiceSurfacer.Builder builder() {
        return ServiceSurfacer.builder(k8s.client(), store, "tokyo", "router-a")
                .listenerPort(LISTENER_PORT)
                .downwardApi(Map.of("POD_IP", "10.1.0.5", "NODE_NAME", "node-1"))
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .listener(events::add);
    }

    private ServiceSurfacer start(ServiceSurfacer.Builder b) {
        surfacer = b.build().start();
        return surfacer;
    }

    private Service service(String namespace, String name) {
        return setup.services().inNamespace(namespace).withName(name).get();
    }

    private EndpointSlice slice(String namespace, String name) {
        return setup.discovery().v1().endpointSlices().inNamespace(namespace).withName(name + "-isthmus-ipv4").get();
    }

    @Test
    void surfacesRemoteLoadBalancerAsSelectorlessNodePortServiceWithEndpointSlice() throws Exception {
        store.put(osakaApp);
        start(builder());

        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key()))
                .hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(State.SURFACED)));
        Service service = service("default", "osaka-app");
        assertThat(service.getSpec().getType()).isEqualTo("NodePort");
        assertThat(service.getSpec().getSelector()).isNullOrEmpty();
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(80);
            assertThat(p.getTargetPort().getIntVal()).isEqualTo(LISTENER_PORT);
            assertThat(p.getName()).isEqualTo("http");
        });
        assertThat(service.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "isthmus");
        assertThat(service.getMetadata().getAnnotations()).containsEntry("isthmus.io/discovery-creator", "tokyo/router-a");

        EndpointSlice slice = slice("default", "osaka-app");
        assertThat(slice.getMetadata().getLabels())
                .containsEntry("kubernetes.io/service-name", "osaka-app")
                .containsEntry("endpointslice.kubernetes.io/managed-by", "isthmus.io");
        assertThat(slice.getAddressType()).isEqualTo("IPv4");
        assertThat(slice.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(LISTENER_PORT);
            assertThat(p.getName()).isEqualTo("http");
        });
        assertThat(slice.getEndpoints()).singleElement().satisfies(e -> {
            assertThat(e.getAddresses()).containsExactly("10.1.0.5");
            assertThat(e.getNodeName()).isEqualTo("node-1");
            assertThat(e.getConditions().getReady()).isTrue();
        });
        assertThat(events).extracting(SurfacingStatus::state).containsExactly(State.SURFACED);
        assertThat(k8s.requests()).extracting(r -> r.apiGroup() + "/" + r.resource() + ":" + r.verb())
                .contains("/services:get", "/services:create", "/services:list",
                        "discovery.k8s.io/endpointslices:create", "discovery.k8s.io/endpointslices:list");
    }

    @Test
    void servicePortIsTheLoadBalancersPort() {
        LoadBalancer api = LoadBalancer.builder("osaka-api").domain("osaka-api").port(8443)
                .advertiseAt("tokyo").defaultPool("osaka-pool").build();
        store.put(api);
        start(builder());

        await().atMost(WAIT).until(() -> service("default", "osaka-api") != null);
        assertThat(service("default", "osaka-api").getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(8443);
            assertThat(p.getTargetPort().getIntVal()).isEqualTo(LISTENER_PORT);
        });
    }

    @Test
    void dualStackRouterGetsOneEndpointSlicePerAddressFamily() {
        store.put(osakaApp);
        start(builder().downwardApi(Map.of("POD_IPS", "10.1.0.8,fd00::8")));

        await().atMost(WAIT).until(() -> setup.discovery().v1().endpointSlices().inNamespace("default")
                .withName("osaka-app-isthmus-ipv6").get() != null && slice("default", "osaka-app") != null);
        EndpointSlice v6 = setup.discovery().v1().endpointSlices().inNamespace("default").withName("osaka-app-isthmus-ipv6").get();
        assertThat(v6.getAddressType()).isEqualTo("IPv6");
        assertThat(v6.getEndpoints()).extracting(e -> e.getAddresses().get(0)).containsExactly("fd00::8");
        assertThat(slice("default", "osaka-app").getEndpoints()).extracting(e -> e.getAddresses().get(0))
                .containsExactly("10.1.0.5", "10.1.0.8");
    }

    @Test
    void createsClusterIpServiceInTheLoadBalancersNamespaceWhenConfigured() {
        LoadBalancer shop = LoadBalancer.builder("orders").namespace("shop").domain("orders")
                .advertiseAt("tokyo").defaultPool("osaka-pool").build();
        store.put(OriginPool.builder("osaka-pool").namespace("shop").site("osaka")
                .endpoint(Endpoint.parse("10.0.0.7:8080")).build());
        store.put(shop);
        start(builder().serviceType(ServiceSurfacer.ServiceType.CLUSTER_IP));

        await().atMost(WAIT).until(() -> service("shop", "orders") != null && slice("shop", "orders") != null);
        assertThat(service("shop", "orders").getSpec().getType()).isEqualTo("ClusterIP");
    }

    @Test
    void followsLoadBalancerChangesAndDeletesTheServiceWithTheLoadBalancer() {
        store.put(osakaApp);
        start(builder());
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null);

        store.put(LoadBalancer.builder("osaka-app").domain("kansai-app").advertiseAt("tokyo").defaultPool("osaka-pool").build());
        await().atMost(WAIT).until(() -> service("default", "kansai-app") != null && slice("default", "kansai-app") != null);
        await().atMost(WAIT).until(() -> service("default", "osaka-app") == null && slice("default", "osaka-app") == null);
        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key()))
                .hasValueSatisfying(s -> assertThat(s.serviceName()).isEqualTo("kansai-app")));

        store.delete(osakaApp.key());
        await().atMost(WAIT).until(() -> service("default", "kansai-app") == null && slice("default", "kansai-app") == null);
        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key())).isEmpty());
        assertThat(events).extracting(SurfacingStatus::state).endsWith(State.REMOVED);
    }

    @Test
    void recreatesASurfacedServiceDeletedBehindItsBack() {
        store.put(osakaApp);
        start(builder());
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null && slice("default", "osaka-app") != null);
        String oldUid = service("default", "osaka-app").getMetadata().getUid();

        setup.services().inNamespace("default").withName("osaka-app").delete();
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null
                && !service("default", "osaka-app").getMetadata().getUid().equals(oldUid));
        String newUid = service("default", "osaka-app").getMetadata().getUid();
        await().atMost(WAIT).untilAsserted(() -> assertThat(slice("default", "osaka-app").getMetadata().getOwnerReferences())
                .singleElement().satisfies(o -> assertThat(o.getUid()).isEqualTo(newUid)));
    }

    @Test
    void leavesServicesThatAreAlreadyCurrentUnchanged() {
        store.put(osakaApp);
        start(builder());
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null && slice("default", "osaka-app") != null);
        String serviceVersion = service("default", "osaka-app").getMetadata().getResourceVersion();
        String sliceVersion = slice("default", "osaka-app").getMetadata().getResourceVersion();

        store.put(LoadBalancer.builder("kyoto-app").domain("kyoto-app").advertiseAt("tokyo").defaultPool("osaka-pool").build());
        await().atMost(WAIT).until(() -> service("default", "kyoto-app") != null && slice("default", "kyoto-app") != null);
        assertThat(service("default", "osaka-app").getMetadata().getResourceVersion()).isEqualTo(serviceVersion);
        assertThat(slice("default", "osaka-app").getMetadata().getResourceVersion()).isEqualTo(sliceVersion);
    }

    @Test
    void withdrawsTheServiceWhenTheLoadBalancerIsNoLongerAdvertisedHere() {
        store.put(osakaApp);
        start(builder());
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null);

        store.put(LoadBalancer.builder("osaka-app").domain("osaka-app.mesh.example").advertiseAt("kyoto").defaultPool("osaka-pool").build());
        await().atMost(WAIT).until(() -> service("default", "osaka-app") == null && slice("default", "osaka-app") == null);
        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key())).isEmpty());
    }

    @Test
    void doesNotSurfaceALoadBalancerWhosePoolIsAtThisSite() {
        store.put(OriginPool.builder("tokyo-pool").site("tokyo").endpoint(Endpoint.parse("10.0.0.9:8080")).build());
        LoadBalancer local = LoadBalancer.builder("tokyo-app").domain("tokyo-app").advertiseAt("tokyo")
                .defaultPool("tokyo-pool").build();
        store.put(local);
        store.put(osakaApp);
        start(builder());

        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null);
        assertThat(service("default", "tokyo-app")).isNull();
        assertThat(surfacer.status(local.key())).isEmpty();
    }

    @Test
    void leavesAUsersServiceOfTheSameNameUntouchedAndReportsTheConflict() {
        Service mine = setup.services().inNamespace("default").resource(new ServiceBuilder()
                .withNewMetadata().withName("osaka-app").addToLabels("team", "payments").endMetadata()
                .withNewSpec().addToSelector("app", "payments").addNewPort().withPort(8443).endPort().endSpec()
                .build()).create();
        store.put(osakaApp);
        start(builder());

        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key()))
                .hasValueSatisfying(s -> {
                    assertThat(s.state()).isEqualTo(State.CONFLICT);
                    assertThat(s.reason()).contains("default/osaka-app", "not managed by Isthmus");
                }));
        await().atMost(WAIT).until(() -> !setup.v1().events().inNamespace("default").list().getItems().isEmpty());
        Event event = setup.v1().events().inNamespace("default").list().getItems().get(0);
        assertThat(event.getReason()).isEqualTo("ServiceNameConflict");
        assertThat(event.getType()).isEqualTo("Warning");
        assertThat(event.getInvolvedObject().getName()).isEqualTo("osaka-app");
        assertThat(event.getMessage()).contains("wants Service default/osaka-app,", "left untouched");

        Service after = service("default", "osaka-app");
        assertThat(after.getMetadata().getResourceVersion()).isEqualTo(mine.getMetadata().getResourceVersion());
        assertThat(after.getSpec()).isEqualTo(mine.getSpec());
        assertThat(after.getMetadata().getLabels()).isEqualTo(Map.of("team", "payments"));
        assertThat(slice("default", "osaka-app")).isNull();
        assertThat(setup.services().inNamespace("default").list().getItems()).hasSize(1);

        // Later reconciles keep the conflict without repeating the event.
        store.put(LoadBalancer.builder("kyoto-app").domain("kyoto-app").advertiseAt("tokyo").defaultPool("osaka-pool").build());
        await().atMost(WAIT).until(() -> service("default", "kyoto-app") != null);
        assertThat(setup.v1().events().inNamespace("default").list().getItems()).hasSize(1);
        assertThat(surfacer.status(osakaApp.key())).hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(State.CONFLICT));
    }

    @Test
    void deletesItsOwnOrphansAtStartButNoServiceItDoesNotOwn() {
        create(owned("gone-app", "tokyo/router-old"));
        setup.discovery().v1().endpointSlices().inNamespace("default").resource(new EndpointSliceBuilder()
                .withNewMetadata().withName("gone-app-isthmus-ipv4")
                    .addToLabels("endpointslice.kubernetes.io/managed-by", "isthmus.io")
                    .addToLabels("kubernetes.io/service-name", "gone-app")
                    .addToAnnotations("isthmus.io/discovery-creator", "tokyo/router-old").endMetadata()
                .withAddressType("IPv4").build()).create();
        // Same label, no creator annotation: a user's Service that merely looks like ours.
        create(new ServiceBuilder().withNewMetadata().withName("lookalike")
                .addToLabels("app.kubernetes.io/managed-by", "isthmus").endMetadata()
                .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build());
        // Owned by another site of the mesh.
        create(owned("kyoto-app", "kyoto/router-k"));
        // Same name as the orphan, in another namespace, not Isthmus's.
        setup.services().inNamespace("team").resource(new ServiceBuilder().withNewMetadata().withName("gone-app")
                .endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();
        store.put(osakaApp);
        start(builder());

        await().atMost(WAIT).until(() -> service("default", "gone-app") == null && slice("default", "gone-app") == null);
        assertThat(service("default", "osaka-app")).isNotNull();
        assertThat(service("default", "lookalike")).isNotNull();
        assertThat(service("default", "kyoto-app")).isNotNull();
        assertThat(service("team", "gone-app")).isNotNull();
    }

    @Test
    void endpointSliceFollowsRouterPodsComingAndGoing() {
        store.put(osakaApp);
        start(builder().routerPods(ROUTER_NS, ROUTER_LABELS));
        await().atMost(WAIT).until(() -> slice("default", "osaka-app") != null);

        Pod b = routerPod("router-b", "10.1.0.6", "node-2", true);
        await().atMost(WAIT).untilAsserted(() -> assertThat(endpoints()).containsExactly(
                "10.1.0.5@node-1:true", "10.1.0.6@node-2:true"));

        setup.pods().inNamespace(ROUTER_NS).resource(new PodBuilder(setup.pods().inNamespace(ROUTER_NS)
                .withName("router-b").get()).editStatus().editFirstCondition().withStatus("False").endCondition()
                .endStatus().build()).updateStatus();
        await().atMost(WAIT).untilAsserted(() -> assertThat(endpoints()).containsExactly(
                "10.1.0.5@node-1:true", "10.1.0.6@node-2:false"));

        routerPod("router-c", "10.1.0.7", "node-3", true);
        await().atMost(WAIT).untilAsserted(() -> assertThat(endpoints()).containsExactly(
                "10.1.0.5@node-1:true", "10.1.0.6@node-2:false", "10.1.0.7@node-3:true"));

        setup.pods().inNamespace(ROUTER_NS).resource(b).delete();
        await().atMost(WAIT).untilAsserted(() -> assertThat(endpoints()).containsExactly(
                "10.1.0.5@node-1:true", "10.1.0.7@node-3:true"));
    }

    @Test
    void rejectsALoadBalancerWithoutADomainUsableAsServiceName() {
        LoadBalancer wildcard = LoadBalancer.builder("wild").domain("*.osaka.example").advertiseAt("tokyo")
                .defaultPool("osaka-pool").build();
        store.put(wildcard);
        store.put(osakaApp);
        start(builder());

        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(wildcard.key()))
                .hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(State.REJECTED)));
        await().atMost(WAIT).until(() -> service("default", "osaka-app") != null);
    }

    @Test
    void secondLoadBalancerWantingTheSameServiceNameIsAConflict() {
        LoadBalancer twin = LoadBalancer.builder("osaka-app-2").domain("osaka-app").advertiseAt("tokyo")
                .defaultPool("osaka-pool").build();
        store.put(osakaApp);
        store.put(twin);
        start(builder());

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(surfacer.status(osakaApp.key())).hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(State.SURFACED));
            assertThat(surfacer.status(twin.key())).hasValueSatisfying(s -> {
                assertThat(s.state()).isEqualTo(State.CONFLICT);
                assertThat(s.reason()).contains("already surfaces load balancer");
            });
        });
    }

    @Test
    void retriesWithBackoffAfterTheApiServerWasDown() throws Exception {
        k8s.stop();
        store.put(osakaApp);
        start(builder());
        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key()))
                .hasValueSatisfying(s -> {
                    assertThat(s.state()).isEqualTo(State.PENDING);
                    assertThat(s.reason()).startsWith("Kubernetes API error, retrying");
                }));

        k8s.resume();
        await().atMost(WAIT).untilAsserted(() -> assertThat(surfacer.status(osakaApp.key()))
                .hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(State.SURFACED)));
        assertThat(service("default", "osaka-app")).isNotNull();
        assertThat(slice("default", "osaka-app")).isNotNull();
    }

    @Test
    void builderNamesWhatIsMissingOrWrong() {
        assertThatThrownBy(() -> ServiceSurfacer.builder(k8s.client(), store, "tokyo", "r").podIp("10.0.0.1").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("listenerPort");
        assertThatThrownBy(() -> ServiceSurfacer.builder(k8s.client(), store, "tokyo", "r").listenerPort(80).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("podIp");
        assertThatThrownBy(() -> ServiceSurfacer.builder(k8s.client(), store, "tokyo", "r").downwardApi(Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("POD_IP");
        assertThatThrownBy(() -> ServiceSurfacer.builder(k8s.client(), store, "tokyo", "r").podIp("node-1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("podIp: \"node-1\"");
        assertThatThrownBy(() -> ServiceSurfacer.builder(k8s.client(), store, "tokyo", "r").listenerPort(70000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("listenerPort: 70000");
    }

    @Test
    void serviceNameIsTheFirstLabelOfTheFirstUsableDomain() {
        assertThat(ServiceSurfacer.serviceNameOf(LoadBalancer.builder("x").domains(List.of("*.a.example", "orders.shop.example"))
                .defaultPool("p").build())).contains("orders");
        assertThat(ServiceSurfacer.serviceNameOf(LoadBalancer.builder("x").domain("9lives.example")
                .defaultPool("p").build())).isEmpty();
    }

    private List<String> endpoints() {
        EndpointSlice slice = slice("default", "osaka-app");
        return slice.getEndpoints().stream()
                .map(e -> e.getAddresses().get(0) + '@' + e.getNodeName() + ':' + e.getConditions().getReady())
                .sorted().toList();
    }

    private Pod routerPod(String name, String ip, String node, boolean ready) {
        Pod pod = setup.pods().inNamespace(ROUTER_NS).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(ROUTER_LABELS).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("router").withImage("isthmus").endContainer()
                .endSpec().build()).create();
        return setup.pods().inNamespace(ROUTER_NS).resource(new PodBuilder(pod).withNewStatus().withPodIP(ip)
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus().build()).updateStatus();
    }

    private Service owned(String name, String creator) {
        return new ServiceBuilder().withNewMetadata().withName(name)
                .addToLabels("app.kubernetes.io/managed-by", "isthmus")
                .addToAnnotations("isthmus.io/discovery-creator", creator).endMetadata()
                .withNewSpec().withType("NodePort").addNewPort().withName("http").withPort(80).endPort().endSpec().build();
    }

    private void create(Service service) {
        setup.services().inNamespace("default").resource(service).create();
    }
}
