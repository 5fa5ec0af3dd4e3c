package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.isthmus.mesh.model.Endpoint;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class KubernetesEndpointDiscoveryTest {

    private static final Duration WITHIN_A_SECOND = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ServiceReference ORDERS = ServiceReference.parse("orders.shop:8080");

    @RegisterExtension
    final MockKubernetes k8s = new MockKubernetes();

    private KubernetesClient setup;
    private KubernetesEndpointDiscovery discovery;
    private final AtomicReference<@Nullable List<DiscoveredEndpoint>> seen = new AtomicReference<>();
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() {
        setup = k8s.setup();
        discovery = KubernetesEndpointDiscovery.of(k8s.client());
    }

    @AfterEach
    void stop() {
        discovery.close();
    }

    private Subscription subscribe() {
        return discovery.subscribe(ORDERS, (service, endpoints) -> {
            assertThat(service).isEqualTo(ORDERS);
            seen.set(endpoints);
            calls.incrementAndGet();
        });
    }

    private void ordersService(IntOrString targetPort) {
        setup.services().inNamespace("shop").resource(new ServiceBuilder()
                .withNewMetadata().withName("orders").endMetadata()
                .withNewSpec().addToSelector("app", "orders")
                    .addNewPort().withName("http").withPort(8080).withTargetPort(targetPort).endPort()
                    .addNewPort().withName("metrics").withPort(9100).withTargetPort(new IntOrString(9100)).endPort()
                .endSpec().build()).create();
    }

    private static EndpointSliceBuilder slice(String name, String portName, int port) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withName(name).addToLabels("kubernetes.io/service-name", "orders").endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName(portName).withPort(port).withProtocol("TCP").endPort()
                .addNewPort().withName("metrics").withPort(9100).endPort();
    }

    private static io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint(String ip, @Nullable Boolean ready,
            @Nullable String zone) {
        EndpointBuilder b = new EndpointBuilder().withAddresses(ip).withZone(zone);
        if (ready != null) {
            b.withNewConditions().withReady(ready).endConditions();
        }
        return b.build();
    }

    private EndpointSlice create(EndpointSlice slice) {
        return setup.discovery().v1().endpointSlices().inNamespace("shop").resource(slice).create();
    }

    private void update(EndpointSlice slice) {
        setup.discovery().v1().endpointSlices().inNamespace("shop").resource(slice).update();
    }

    private static DiscoveredEndpoint at(String hostPort, @Nullable String zone) {
        return DiscoveredEndpoint.of(Endpoint.parse(hostPort), zone);
    }

    @Test
    void deliversReadyEndpointsWithZonesThroughANamedTargetPort() {
        ordersService(new IntOrString("web"));
        create(slice("orders-abc", "http", 8081).withEndpoints(
                endpoint("10.0.0.1", true, "zone-a"),
                endpoint("10.0.0.2", null, "zone-b"),
                endpoint("10.0.0.3", false, "zone-a")).build());
        subscribe();

        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(
                at("10.0.0.1:8081", "zone-a"), at("10.0.0.2:8081", "zone-b")));
    }

    @Test
    void skipsAddressesThatAreNotValidEndpointsAndKeepsIpv6() {
        ordersService(new IntOrString("web"));
        create(slice("orders-abc", "http", 8081).withAddressType("IPv6")
                .withEndpoints(endpoint("fd00::1", true, null), endpoint("not a host!", true, null)).build());
        subscribe();

        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("[fd00::1]:8081", null)));
    }

    @Test
    void usesANumericTargetPortWhenTheSliceNamesNoSuchPort() {
        ordersService(new IntOrString(8443));
        create(slice("orders-abc", "other", 1).withEndpoints(endpoint("10.0.0.1", true, null)).build());
        subscribe();

        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("10.0.0.1:8443", null)));
    }

    @Test
    void readinessChangesAndScaleUpReachTheListenerWithinASecond() {
        ordersService(new IntOrString("web"));
        EndpointSlice first = create(slice("orders-abc", "http", 8081)
                .withEndpoints(endpoint("10.0.0.1", true, "zone-a"), endpoint("10.0.0.2", false, "zone-a")).build());
        subscribe();
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("10.0.0.1:8081", "zone-a")));

        update(new EndpointSliceBuilder(first).withEndpoints(
                endpoint("10.0.0.1", true, "zone-a"), endpoint("10.0.0.2", true, "zone-a")).build());
        await().atMost(WITHIN_A_SECOND).untilAsserted(() -> assertThat(seen.get()).containsExactly(
                at("10.0.0.1:8081", "zone-a"), at("10.0.0.2:8081", "zone-a")));

        create(slice("orders-def", "http", 8081).withEndpoints(endpoint("10.0.1.9", true, "zone-b")).build());
        await().atMost(WITHIN_A_SECOND).untilAsserted(() -> assertThat(seen.get()).containsExactly(
                at("10.0.0.1:8081", "zone-a"), at("10.0.0.2:8081", "zone-a"), at("10.0.1.9:8081", "zone-b")));

        setup.discovery().v1().endpointSlices().inNamespace("shop").withName("orders-abc").delete();
        await().atMost(WITHIN_A_SECOND).untilAsserted(() -> assertThat(seen.get()).containsExactly(
                at("10.0.1.9:8081", "zone-b")));
    }

    @Test
    void ignoresSlicesOfOtherServicesAndPortsOfOtherServicePorts() {
        ordersService(new IntOrString("web"));
        create(new EndpointSliceBuilder(slice("payments-abc", "http", 7000).withEndpoints(endpoint("10.9.9.9", true, null))
                .build()).editMetadata().addToLabels("kubernetes.io/service-name", "payments").endMetadata().build());
        create(slice("orders-abc", "http", 8081).withEndpoints(endpoint("10.0.0.1", true, null)).build());
        subscribe();

        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("10.0.0.1:8081", null)));
    }

    @Test
    void deliversAnEmptyListForAMissingServiceThenItsEndpointsOnceCreated() {
        subscribe();
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).isEmpty());

        create(slice("orders-abc", "http", 8081).withEndpoints(endpoint("10.0.0.1", true, null)).build());
        ordersService(new IntOrString("web"));
        await().atMost(WITHIN_A_SECOND).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("10.0.0.1:8081", null)));

        setup.services().inNamespace("shop").withName("orders").delete();
        await().atMost(WITHIN_A_SECOND).untilAsserted(() -> assertThat(seen.get()).isEmpty());
    }

    @Test
    void recoversAfterTheApiServerRestarts() throws Exception {
        ordersService(new IntOrString("web"));
        EndpointSlice slice = create(slice("orders-abc", "http", 8081).withEndpoints(endpoint("10.0.0.1", true, null)).build());
        Subscription subscription = subscribe();
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(at("10.0.0.1:8081", null)));
        await().atMost(WAIT).until(subscription::isWatching);

        long servicesWatches = watches("services");
        long sliceWatches = watches("endpointslices");
        k8s.restart();
        // The mock server does not replay history to a watch that resumes from a resourceVersion (a
        // real API server does, or answers 410 and the informer re-lists), so change the slice once
        // both watches are back.
        await().atMost(WAIT).until(() -> watches("services") > servicesWatches && watches("endpointslices") > sliceWatches
                && subscription.isWatching());
        update(new EndpointSliceBuilder(slice).withEndpoints(endpoint("10.0.0.1", true, null), endpoint("10.0.0.5", true, null))
                .build());
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactly(
                at("10.0.0.1:8081", null), at("10.0.0.5:8081", null)));
    }

    private long watches(String resource) throws InterruptedException {
        return k8s.requests().stream().filter(r -> r.resource().equals(resource) && r.verb().equals("watch")).count();
    }

    @Test
    void closedSubscriptionHearsNoMore() {
        ordersService(new IntOrString("web"));
        EndpointSlice slice = create(slice("orders-abc", "http", 8081).withEndpoints(endpoint("10.0.0.1", true, null)).build());
        Subscription closed = discovery.subscribe(ORDERS, (s, e) -> calls.incrementAndGet());
        AtomicReference<@Nullable List<DiscoveredEndpoint>> open = new AtomicReference<>();
        Subscription other = discovery.subscribe(ORDERS, (s, e) -> open.set(e));
        await().atMost(WAIT).until(() -> calls.get() == 1 && open.get() != null
                && closed.isWatching() && other.isWatching() && k8s.openWatches() == 4);

        closed.close();
        assertThat(closed.isWatching()).isFalse();
        await().atMost(WAIT).until(() -> k8s.openWatches() == 2);
        update(new EndpointSliceBuilder(slice).withEndpoints(endpoint("10.0.0.2", true, null)).build());

        // The open subscription hears the change; by then the closed one would have been told too.
        await().atMost(WAIT).untilAsserted(() -> assertThat(open.get()).containsExactly(at("10.0.0.2:8081", null)));
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test
    void refusesSubscriptionsAfterClose() {
        discovery.close();
        assertThatThrownBy(() -> discovery.subscribe(ORDERS, (s, e) -> {}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("orders.shop:8080");
    }
}
