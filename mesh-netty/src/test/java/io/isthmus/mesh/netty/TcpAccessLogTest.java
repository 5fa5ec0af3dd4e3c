package io.isthmus.mesh.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.PolicyAction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every connection of a TCP load balancer ends with one JSON line in the access log ({@code
 * isthmus.access}) and is counted, with its bytes, in the registry the router was given.
 */
class TcpAccessLogTest {

    private MeshFixture mesh;
    private TcpLoadBalancerTest.EchoServer echo;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private MeshRouter tokyo;
    private MeshRouter osaka;
    private PrintStream originalErr;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() throws IOException {
        // The test logger (slf4j-simple) writes to whatever System.err is at the time of each line.
        originalErr = System.err;
        PrintStream original = originalErr;
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (captured) {
                    captured.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (captured) {
                    captured.write(b, off, len);
                }
                original.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
        mesh = new MeshFixture();
        echo = new TcpLoadBalancerTest.EchoServer();
        tokyo = mesh.site("tokyo", b -> b.meterRegistry(registry));
        osaka = mesh.site("osaka");
    }

    @AfterEach
    void tearDown() throws IOException {
        mesh.close();
        echo.close();
        System.setErr(originalErr);
    }

    /** The access-log lines of a TCP listener written so far. */
    private List<String> accessLines(int port) {
        String all;
        synchronized (captured) {
            all = captured.toString(StandardCharsets.UTF_8);
        }
        return all.lines().filter(l -> l.contains("isthmus.access") && l.contains("\"listener\":\"tcp:" + port + '"'))
                .toList();
    }

    private int tcpLoadBalancer(String name, String poolSite, Endpoint origin) throws IOException {
        int port = MeshFixture.closedPort();
        mesh.store.put(OriginPool.builder(name + "-pool").site(poolSite).endpoint(origin).build());
        mesh.store.put(LoadBalancer.builder(name).domain(name).type(LoadBalancer.Type.TCP).port(port)
                .advertiseAt("tokyo").defaultPool(name + "-pool").build());
        mesh.awaitApplied(tokyo, osaka);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return port;
    }

    /**
     * The connections the echo origin accepted, once the count has stopped moving: the probe connection
     * of {@link #tcpLoadBalancer} may still be on its way through the tunnel when the probe returns.
     */
    private int settledAccepted() {
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger(-1);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> seen.getAndSet(echo.accepted()) == echo.accepted());
        return echo.accepted();
    }

    /** Sends the text, half-closes, and reads the answer until the far end closes. */
    private static String roundTrip(int port, String text) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.net.SocketException e) {
            return "";
        }
    }

    private double count(String name, String lb, String decision) {
        Counter counter = registry.find(name).tags("site", "tokyo", "load_balancer", lb, "decision", decision)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private double bytes(String name, String lb) {
        Counter counter = registry.find(name).tags("site", "tokyo", "load_balancer", lb).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void logsAndCountsAConnectionCarriedThroughTheTunnelWithItsBytesEachWay() throws Exception {
        int port = tcpLoadBalancer("echo", "osaka", Endpoint.of("127.0.0.1", echo.port()));
        // The probe connections of the setup are logged too (they fail or are routed); count from here.
        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() >= 1);
        int before = accessLines(port).size();
        double routedBefore = count("isthmus.tcp.connections", "default/echo", "routed");
        double receivedBefore = bytes("isthmus.tcp.bytes.received", "default/echo");
        double sentBefore = bytes("isthmus.tcp.bytes.sent", "default/echo");

        assertThat(roundTrip(port, "hello, osaka")).isEqualTo("hello, osaka");

        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() == before + 1);
        String line = accessLines(port).get(before);
        assertThat(line).contains("\"protocol\":\"TCP\"", "\"site\":\"tokyo\"", "\"client\":\"127.0.0.1\"",
                "\"load_balancer\":\"default/echo\"", "\"pool\":\"default/echo-pool\"", "\"pool_site\":\"osaka\"",
                "\"request_bytes\":12", "\"response_bytes\":12", "\"decision\":\"routed\"", "\"duration_ms\":");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(count("isthmus.tcp.connections", "default/echo", "routed")).isEqualTo(routedBefore + 1);
            assertThat(bytes("isthmus.tcp.bytes.received", "default/echo")).isEqualTo(receivedBefore + 12);
            assertThat(bytes("isthmus.tcp.bytes.sent", "default/echo")).isEqualTo(sentBefore + 12);
        });
    }

    @Test
    void logsTheOriginEndpointOfALocalPool() throws Exception {
        int port = tcpLoadBalancer("local-echo", "tokyo", Endpoint.of("127.0.0.1", echo.port()));
        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() >= 1);
        int before = accessLines(port).size();

        assertThat(roundTrip(port, "hello, tokyo")).isEqualTo("hello, tokyo");

        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() == before + 1);
        assertThat(accessLines(port).get(before)).contains("\"pool_site\":\"tokyo\"",
                "\"endpoint\":\"127.0.0.1:" + echo.port() + '"', "\"request_bytes\":12", "\"response_bytes\":12",
                "\"decision\":\"routed\"");
    }

    @Test
    void logsAndCountsAConnectionWhoseOriginIsUnreachableAsFailed() throws Exception {
        int port = tcpLoadBalancer("dead", "tokyo", Endpoint.of("127.0.0.1", MeshFixture.closedPort()));
        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() >= 1);
        int before = accessLines(port).size();
        double failedBefore = count("isthmus.tcp.connections", "default/dead", "failed");

        assertThat(roundTrip(port, "anyone?")).isEmpty();

        await().atMost(Duration.ofSeconds(5)).until(() -> accessLines(port).size() == before + 1);
        assertThat(accessLines(port).get(before)).contains("\"load_balancer\":\"default/dead\"",
                "\"decision\":\"failed\"", "\"reason\":\"origin_unreachable\"", "\"response_bytes\":0");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(count("isthmus.tcp.connections", "default/dead", "failed")).isEqualTo(failedBefore + 1));
        assertThat(count("isthmus.tcp.connections", "default/dead", "routed")).isZero();
    }

    @Test
    void logsAndCountsAConnectionTheFirewallClosesAtAcceptAsDenied() throws Exception {
        int port = tcpLoadBalancer("echo", "osaka", Endpoint.of("127.0.0.1", echo.port()));
        mesh.store.put(NetworkFirewall.builder("tcp-guard").site("tokyo").listener("echo")
                .rule(FirewallRule.deny().name("no-loopback").sourceCidr("127.0.0.0/8"))
                .defaultAction(PolicyAction.ALLOW).build());
        mesh.awaitApplied(tokyo);
        int accepted = settledAccepted();

        assertThat(roundTrip(port, "let me in")).isEmpty();

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(accessLines(port)).anySatisfy(l -> assertThat(l).contains("\"decision\":\"denied\"",
                    "\"reason\":\"firewall\"", "\"load_balancer\":\"default/echo\"", "\"client\":\"127.0.0.1\""));
            assertThat(count("isthmus.tcp.connections", "default/echo", "denied")).isEqualTo(1);
        });
        assertThat(echo.accepted()).isEqualTo(accepted);
    }
}
