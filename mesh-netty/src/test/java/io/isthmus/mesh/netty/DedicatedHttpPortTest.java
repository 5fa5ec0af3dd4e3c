package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP load balancers with a port of their own: the router opens a listener on that port next to the
 * shared ingress port, routes it by Host among the load balancers of that port only, and opens and
 * closes it as the configuration changes.
 */
class DedicatedHttpPortTest {

    private MeshFixture mesh;
    private WireMockServer originA;
    private WireMockServer originB;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        originA = origin("from A");
        originB = origin("from B");
        tokyo = mesh.site("tokyo", b -> b.meterRegistry(registry));
        mesh.store.put(pool("a-pool", originA));
        mesh.store.put(pool("b-pool", originB));
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        originA.stop();
        originB.stop();
    }

    private static WireMockServer origin(String body) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(body)));
        return server;
    }

    private static OriginPool pool(String name, WireMockServer origin) {
        return OriginPool.builder(name).site("tokyo").endpoint(Endpoint.of("127.0.0.1", origin.port())).build();
    }

    private void httpLoadBalancer(String name, String pool, int port) {
        LoadBalancer.Builder b = LoadBalancer.builder(name).domain(name).advertiseAt("tokyo").defaultPool(pool);
        if (port != LoadBalancer.DEFAULT_HTTP_PORT) {
            b.port(port);
        }
        mesh.store.put(b.build());
    }

    private static InetSocketAddress local(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(local(port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String get(InetSocketAddress address, String host) throws IOException {
        try (RawHttp client = new RawHttp(address)) {
            return client.send("GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse();
        }
    }

    private double listenerFailures() {
        FunctionCounter counter = registry.find("isthmus.listeners.failed").tags("site", "tokyo").functionCounter();
        assertThat(counter).isNotNull();
        return counter.count();
    }

    /** A free port, and the setup done with it; the setup runs once more with another port if it got taken. */
    private int withFreePort(PortSetup setup) throws Exception {
        int port = MeshFixture.closedPort();
        try {
            setup.run(port);
            return port;
        } catch (AssertionError | org.awaitility.core.ConditionTimeoutException e) {
            int other = MeshFixture.closedPort();
            setup.run(other);
            return other;
        }
    }

    interface PortSetup {
        void run(int port) throws Exception;
    }

    @Test
    void routesTwoLoadBalancersOnOneDedicatedPortByHostAndKeepsOthersOff() throws Exception {
        int port = withFreePort(p -> {
            httpLoadBalancer("a", "a-pool", p);
            httpLoadBalancer("b", "b-pool", p);
            httpLoadBalancer("c", "b-pool", LoadBalancer.DEFAULT_HTTP_PORT);
            mesh.awaitApplied(tokyo);
            await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
        });

        assertThat(get(local(port), "a")).startsWith("HTTP/1.1 200").contains("from A");
        assertThat(get(local(port), "b:" + port)).startsWith("HTTP/1.1 200").contains("from B");
        String other = get(local(port), "c");
        assertThat(other).startsWith("HTTP/1.1 404").contains("on port " + port);
        assertThat(get(local(port), "nobody")).startsWith("HTTP/1.1 404");
        // The shared ingress port still serves all three by Host.
        assertThat(get(tokyo.ingressAddress(), "a")).startsWith("HTTP/1.1 200").contains("from A");
        assertThat(get(tokyo.ingressAddress(), "b")).startsWith("HTTP/1.1 200").contains("from B");
        assertThat(get(tokyo.ingressAddress(), "c")).startsWith("HTTP/1.1 200").contains("from B");
        assertThat(originA.getAllServeEvents()).hasSize(2);
        assertThat(originB.getAllServeEvents()).hasSize(3);
        assertThat(listenerFailures()).isZero();
    }

    @Test
    void opensTheListenerWhenTheLoadBalancerIsCreatedAndClosesItWhenDeleted() throws Exception {
        int port = withFreePort(p -> {
            assertThat(accepts(p)).isFalse();
            httpLoadBalancer("a", "a-pool", p);
            mesh.awaitApplied(tokyo);
            await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
        });
        assertThat(get(local(port), "a")).contains("from A");

        mesh.store.delete(ObjectKey.of(Kind.LOAD_BALANCER, "default", "a"));
        mesh.awaitApplied(tokyo);

        await().atMost(Duration.ofSeconds(5)).until(() -> !accepts(port));
        assertThat(get(tokyo.ingressAddress(), "a")).startsWith("HTTP/1.1 404");
    }

    @Test
    void movesTheListenerWhenTheLoadBalancerChangesPort() throws Exception {
        int first = withFreePort(p -> {
            httpLoadBalancer("a", "a-pool", p);
            mesh.awaitApplied(tokyo);
            await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
        });
        int second = withFreePort(p -> {
            httpLoadBalancer("a", "a-pool", p);
            mesh.awaitApplied(tokyo);
            await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
        });

        await().atMost(Duration.ofSeconds(5)).until(() -> !accepts(first));
        assertThat(get(local(second), "a")).contains("from A");
    }

    @Test
    void aPortTakenByAnotherProcessIsCountedLeavesOtherListenersAloneAndIsRetriedOnTheNextChange()
            throws Exception {
        try (ServerSocket squatter = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int taken = squatter.getLocalPort();
            httpLoadBalancer("a", "a-pool", taken);
            int free = withFreePort(p -> {
                httpLoadBalancer("b", "b-pool", p);
                mesh.awaitApplied(tokyo);
                await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> listenerFailures() >= 1);
            assertThat(get(local(free), "b")).contains("from B");
            // Still served on the shared port.
            assertThat(get(tokyo.ingressAddress(), "a")).contains("from A");

            squatter.close();
            double failures = listenerFailures();
            mesh.store.put(OriginPool.builder("unrelated").site("tokyo").endpoint(Endpoint.of("127.0.0.1", 9)).build());
            mesh.awaitApplied(tokyo);

            await().atMost(Duration.ofSeconds(5)).until(() -> accepts(taken));
            assertThat(get(local(taken), "a")).startsWith("HTTP/1.1 200").contains("from A");
            assertThat(listenerFailures()).isEqualTo(failures);
        }
    }

    @Test
    void aTcpLoadBalancerKeepsItsPortWhenAnHttpLoadBalancerClaimsItToo() throws Exception {
        TcpLoadBalancerTest.EchoServer echo = new TcpLoadBalancerTest.EchoServer();
        try {
            int port = withFreePort(p -> {
                mesh.store.put(OriginPool.builder("echo-pool").site("tokyo")
                        .endpoint(Endpoint.of("127.0.0.1", echo.port())).build());
                mesh.store.put(LoadBalancer.builder("echo").domain("echo").type(LoadBalancer.Type.TCP).port(p)
                        .advertiseAt("tokyo").defaultPool("echo-pool").build());
                mesh.awaitApplied(tokyo);
                await().atMost(Duration.ofSeconds(5)).until(() -> accepts(p));
            });
            httpLoadBalancer("a", "a-pool", port);
            mesh.awaitApplied(tokyo);
            await().atMost(Duration.ofSeconds(5)).until(() -> listenerFailures() >= 1);

            // The port still echoes: the TCP load balancer has it.
            try (Socket s = new Socket()) {
                s.connect(local(port), 5_000);
                s.setSoTimeout(5_000);
                s.getOutputStream().write("ping".getBytes());
                s.shutdownOutput();
                assertThat(new String(s.getInputStream().readAllBytes())).isEqualTo("ping");
            }
            assertThat(get(tokyo.ingressAddress(), "a")).contains("from A");
        } finally {
            echo.close();
        }
    }
}
