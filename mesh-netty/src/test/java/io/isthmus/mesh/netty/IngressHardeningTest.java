package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The ingress refuses malformed, oversized and slow requests on real sockets and forwards none of them. */
class IngressHardeningTest {

    private static final String VALID = "GET /ok HTTP/1.1\r\nHost: app\r\n\r\n";

    private MeshFixture mesh;
    private WireMockServer origin;
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("fine")));
        tokyo = mesh.site("tokyo", b -> b
                .maxHeaderCount(20)
                .maxHeaderSize(4096)
                .requestHeaderTimeout(Duration.ofMillis(400))
                .maxConnections(3));
        mesh.loadBalancer("app", "tokyo", "tokyo", Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(tokyo);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.stop();
    }

    private String refusedWithClose(String raw) throws Exception {
        String response;
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            response = client.send(raw).readUntilClosed();
        }
        assertThat(origin.getAllServeEvents()).as("requests the origin received").isEmpty();
        assertThat(servesNextConnection()).startsWith("HTTP/1.1 200");
        return response;
    }

    private String servesNextConnection() throws Exception {
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            return client.send(VALID).readResponse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "content-length-and-transfer-encoding",
        "conflicting-content-lengths",
        "duplicate-equal-content-lengths",
        "bad-chunk-size",
        "control-character-in-header-name",
        "bare-lf-line-endings",
        "space-before-colon",
        "obs-fold",
    })
    void rejectsRequestSmugglingShapesWith400AndClosesTheConnection(String shape) throws Exception {
        String raw;
        switch (shape) {
            case "content-length-and-transfer-encoding":
                raw = "POST /x HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n";
                break;
            case "conflicting-content-lengths":
                raw = "POST /x HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde";
                break;
            case "duplicate-equal-content-lengths":
                raw = "POST /x HTTP/1.1\r\nHost: app\r\nContent-Length: 4, 4\r\n\r\nabcd";
                break;
            case "bad-chunk-size":
                raw = "POST /x HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n";
                break;
            case "control-character-in-header-name":
                raw = "GET /x HTTP/1.1\r\nHost: app\r\nX-B\u0001ad: v\r\n\r\n";
                break;
            case "bare-lf-line-endings":
                raw = "GET /x HTTP/1.1\nHost: app\n\n";
                break;
            case "obs-fold":
                raw = "GET /x HTTP/1.1\r\nHost: app\r\nX-Folded: first\r\n second\r\n\r\n";
                break;
            case "space-before-colon":
                raw = "GET /x HTTP/1.1\r\nHost: app\r\nContent-Length : 4\r\n\r\nabcd";
                break;
            default:
                throw new IllegalArgumentException(shape);
        }
        assertThat(refusedWithClose(raw)).startsWith("HTTP/1.1 400 ").contains("connection: close");
    }

    @Test
    void rejectsObsFoldEvenInASecondPipelinedRequestAfterAChunkedBody() throws Exception {
        String response;
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            response = client.send("POST /first HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4\r\n \r\n \r\n0\r\n\r\n"
                    + "GET /second HTTP/1.1\r\nHost: app\r\nX-Folded: first\r\n second\r\n\r\n").readUntilClosed();
        }
        assertThat(response).startsWith("HTTP/1.1 200").contains("HTTP/1.1 400 ").contains("obsolete line folding");
        assertThat(origin.getAllServeEvents()).singleElement()
                .satisfies(e -> assertThat(e.getRequest().getUrl()).isEqualTo("/first"));
    }

    @Test
    void answersOversizedHeadersWith431AndClosesTheConnection() throws Exception {
        String big = "GET /x HTTP/1.1\r\nHost: app\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n";
        assertThat(refusedWithClose(big)).startsWith("HTTP/1.1 431 ");
    }

    @Test
    void answersTooManyHeaderFieldsWith431AndClosesTheConnection() throws Exception {
        StringBuilder raw = new StringBuilder("GET /x HTTP/1.1\r\nHost: app\r\n");
        for (int i = 0; i < 25; i++) {
            raw.append("X-H").append(i).append(": v\r\n");
        }
        assertThat(refusedWithClose(raw.append("\r\n").toString()))
                .startsWith("HTTP/1.1 431 ")
                .contains("26 header fields (expected: at most 20)");
    }

    @Test
    void closesASlowClientThatDoesNotFinishItsRequestHeadInTime() throws Exception {
        try (RawHttp slow = new RawHttp(tokyo.ingressAddress())) {
            long start = System.nanoTime();
            slow.send("GET /x HTTP/1.1\r\nHost: app\r\nX-Slow: ");
            assertThat(slow.closedByServer()).isTrue();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(elapsedMillis).isBetween(300L, 4000L);
        }
        assertThat(origin.getAllServeEvents()).isEmpty();
        assertThat(servesNextConnection()).startsWith("HTTP/1.1 200");
    }

    @Test
    void keepsServingAKeepAliveClientThatSendsRequestsInTime() throws Exception {
        try (RawHttp client = new RawHttp(tokyo.ingressAddress())) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.send(VALID).readResponse()).startsWith("HTTP/1.1 200").contains("fine");
            }
        }
    }

    @Test
    void closesConnectionsBeyondTheLimitAtAcceptAndServesAgainBelowIt() throws Exception {
        MeshRouter osaka = mesh.site("osaka", b -> b.maxConnections(3));
        mesh.loadBalancer("app", "osaka", "osaka", Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(osaka);
        List<RawHttp> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                RawHttp c = new RawHttp(osaka.ingressAddress());
                held.add(c);
                // Each held connection sends a request, so it is surely accepted before the next one.
                assertThat(c.send(VALID).readResponse()).startsWith("HTTP/1.1 200");
            }
            try (RawHttp beyond = new RawHttp(osaka.ingressAddress())) {
                assertThat(beyond.closedByServer()).isTrue();
            }
        } finally {
            for (RawHttp c : held) {
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            try (RawHttp client = new RawHttp(osaka.ingressAddress())) {
                assertThat(client.send(VALID).readResponse()).startsWith("HTTP/1.1 200");
            }
        });
    }
}
