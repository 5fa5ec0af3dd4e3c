package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.isthmus.mesh.model.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a request carries when it leaves the mesh at the origin's site, after ingress and tunnel. */
class ForwardingHeadersTest {

    private MeshFixture mesh;
    private WireMockServer origin;
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Keep-Alive", "timeout=5")
                .withHeader("Connection", "x-origin-private").withHeader("x-origin-private", "secret").withBody("ok")));
        tokyo = mesh.site("tokyo");
        MeshRouter osaka = mesh.site("osaka");
        mesh.loadBalancer("app", "tokyo", "osaka", Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.stop();
    }

    private LoggedRequest onlyRequest() {
        assertThat(origin.getAllServeEvents()).hasSize(1);
        return origin.getAllServeEvents().get(0).getRequest();
    }

    @Test
    void appendsForwardingHeadersRemovesHopByHopOnesAndPassesTraceContext() throws Exception {
        String response;
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            response = client.send("GET /orders HTTP/1.1\r\nHost: app\r\n"
                    + "X-Forwarded-For: 203.0.113.7\r\n"
                    + "Forwarded: for=203.0.113.7;proto=https\r\n"
                    + "Via: 1.1 corp-proxy\r\n"
                    + "Connection: keep-alive, X-Drop-Me\r\n"
                    + "X-Drop-Me: 1\r\n"
                    + "Keep-Alive: timeout=5\r\n"
                    + "TE: trailers\r\n"
                    + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                    + "X-Isthmus-Pool: default/something-else\r\n"
                    + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
                    + "tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r\n"
                    + "\r\n").readResponse();
        }
        assertThat(response).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("x-origin-private")
                .doesNotContainIgnoringCase("keep-alive: timeout");
        LoggedRequest r = onlyRequest();
        assertThat(r.getHeader("X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
        assertThat(r.getHeader("Forwarded")).isEqualTo("for=203.0.113.7;proto=https, for=127.0.0.1;host=app;proto=http");
        assertThat(r.getHeader("Via")).isEqualTo("1.1 corp-proxy, 1.1 isthmus-tokyo");
        assertThat(r.getHeader("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(r.getHeader("X-Forwarded-Host")).isEqualTo("app");
        assertThat(r.getHeader("x-request-id")).matches("[0-9a-f]{32}");
        assertThat(r.getHeader("traceparent")).isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assertThat(r.getHeader("tracestate")).isEqualTo("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        for (String hopByHop : new String[] {"X-Drop-Me", "Keep-Alive", "TE", "Proxy-Authorization",
                "X-Isthmus-Pool", "Upgrade", "Trailer"}) {
            assertThat(r.containsHeader(hopByHop)).as(hopByHop).isFalse();
        }
    }

    @Test
    void keepsTheRequestIdTheClientSent() throws Exception {
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            client.send("GET / HTTP/1.1\r\nHost: app\r\nx-request-id: my-own-id-42\r\n\r\n").readResponse();
        }
        assertThat(onlyRequest().getHeader("x-request-id")).isEqualTo("my-own-id-42");
    }

    @Test
    void forwardsAChunkedBodyChunkedAfterRemovingTransferEncodingFromTheIncomingHop() throws Exception {
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            assertThat(client.send("POST /up HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").readResponse()).startsWith("HTTP/1.1 200");
        }
        assertThat(onlyRequest().getBodyAsString()).isEqualTo("hello world");
    }
}
