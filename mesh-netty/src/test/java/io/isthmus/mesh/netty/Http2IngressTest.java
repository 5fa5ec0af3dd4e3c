package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.binaryEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** h2c on the ingress port: prior knowledge and {@code Upgrade: h2c}, routed by :authority, and its abuse limits. */
class Http2IngressTest {

    private MeshFixture mesh;
    private WireMockServer origin;
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("x-origin", "osaka")
                .withBody("hello over h2")));
        tokyo = mesh.site("tokyo", b -> b.maxConcurrentStreams(50).maxHeaderSize(8192));
        MeshRouter osaka = mesh.site("osaka");
        mesh.loadBalancer("localhost", "tokyo", "osaka", Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.stop();
    }

    private URI ingress(String path) {
        return URI.create("http://localhost:" + tokyo.ingressAddress().getPort() + path);
    }

    @Test
    void upgradesToH2cAndRoutesByAuthorityThroughTheTunnel() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        // The first request upgrades the connection; the second one is a plain HTTP/2 stream.
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(ingress("/h2/" + i))
                    .header("x-tenant", "acme").timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("hello over h2");
        }
        origin.verify(1, getRequestedFor(urlEqualTo("/h2/1"))
                .withHeader("x-tenant", equalTo("acme"))
                .withHeader("via", equalTo("2.0 isthmus-tokyo"))
                .withoutHeader("upgrade")
                .withoutHeader("http2-settings"));
    }

    @Test
    void streamsAPostBodyOverAnUpgradedConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        client.send(HttpRequest.newBuilder(ingress("/warm-up")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding());
        byte[] body = new byte[300_000];
        new Random(7).nextBytes(body);
        // A publisher without a known length: the body goes out as DATA frames without content-length.
        HttpRequest.BodyPublisher streamed = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(ingress("/upload"))
                .POST(streamed).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(response.statusCode()).isEqualTo(200);
        origin.verify(1, postRequestedFor(urlEqualTo("/upload")).withRequestBody(binaryEqualTo(body)));
    }

    @Test
    void servesHttp2WithPriorKnowledgeAndAnnouncesTheStreamLimit() throws Exception {
        try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/prior")
                    .authority("localhost");
            client.frame(RawHttp2.HEADERS, 0x5, 1, client.encode(1, headers)).flush();
            List<RawHttp2.Frame> frames = client.readUntil(RawHttp2.DATA);
            RawHttp2.Frame settings = frames.stream().filter(f -> f.type() == RawHttp2.SETTINGS).findFirst().orElseThrow();
            assertThat(setting(settings.payload(), 0x3)).isEqualTo(50);
            RawHttp2.Frame head = frames.stream().filter(f -> f.type() == RawHttp2.HEADERS).findFirst().orElseThrow();
            Http2Headers response = client.decode(1, head.payload());
            assertThat(response.status().toString()).isEqualTo("200");
            assertThat(response.get("x-origin").toString()).isEqualTo("osaka");
            RawHttp2.Frame data = frames.get(frames.size() - 1);
            assertThat(new String(data.payload(), StandardCharsets.UTF_8)).isEqualTo("hello over h2");
        }
        origin.verify(1, getRequestedFor(urlEqualTo("/prior")).withHeader("Host", equalTo("localhost")));
    }

    private static long setting(byte[] payload, int id) {
        ByteBuffer b = ByteBuffer.wrap(payload);
        while (b.remaining() >= 6) {
            int key = b.getShort() & 0xffff;
            long value = b.getInt() & 0xffffffffL;
            if (key == id) {
                return value;
            }
        }
        return -1;
    }

    @Test
    void answersARapidResetFloodWithGoaway() throws Exception {
        try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/reset")
                    .authority("localhost");
            for (int i = 0; i < 500; i++) {
                int stream = 1 + 2 * i;
                client.frame(RawHttp2.HEADERS, 0x4, stream, client.encode(stream, headers));
                client.frame(RawHttp2.RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8});
            }
            List<RawHttp2.Frame> frames = client.flush().readUntil(RawHttp2.GOAWAY);
            RawHttp2.Frame last = frames.get(frames.size() - 1);
            assertThat(last.type()).isEqualTo(RawHttp2.GOAWAY);
            int error = ByteBuffer.wrap(last.payload(), 4, 4).getInt();
            assertThat(error).as("ENHANCE_YOUR_CALM").isEqualTo(0xb);
            // Cut by the premature resets (32 streams reset before their response), not by the 200 RST_STREAM.
            assertThat(new String(last.payload(), 8, last.payload().length - 8, StandardCharsets.UTF_8))
                    .contains("reset before their response");
        }
        assertThat(origin.getAllServeEvents().size()).isLessThan(500);
    }

    @Test
    void aClientThatCancelsAsManyRequestsAsItCompletesKeepsItsConnection() throws Exception {
        try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
            Http2Headers cancelled = new DefaultHttp2Headers().method("GET").scheme("http").path("/cancelled")
                    .authority("localhost");
            Http2Headers kept = new DefaultHttp2Headers().method("GET").scheme("http").path("/kept")
                    .authority("localhost");
            // 81 streams: 40 reset before their response, each after a completed one; more than the 32
            // premature resets a client may have beyond those answered, which it never exceeds here.
            for (int i = 0; i < 40; i++) {
                int answered = 1 + 4 * i;
                int reset = answered + 2;
                client.frame(RawHttp2.HEADERS, 0x5, answered, client.encode(answered, kept));
                assertThat(responseStatus(client.flush(), answered)).as("stream %d", answered).isEqualTo("200");
                client.frame(RawHttp2.HEADERS, 0x5, reset, client.encode(reset, cancelled));
                client.frame(RawHttp2.RST_STREAM, 0, reset, new byte[] {0, 0, 0, 8});
            }
            int last = 1 + 4 * 40;
            client.frame(RawHttp2.HEADERS, 0x5, last, client.encode(last, kept));
            assertThat(responseStatus(client.flush(), last)).as("stream %d", last).isEqualTo("200");
        }
    }

    /** Reads until the response headers of {@code stream} (decoding every header block on the way). */
    private static String responseStatus(RawHttp2 client, int stream) throws Exception {
        for (int reads = 0; reads < 10; reads++) {
            for (RawHttp2.Frame frame : client.readUntil(RawHttp2.HEADERS)) {
                assertThat(frame.type()).as("frame on stream %d", frame.streamId()).isNotEqualTo(RawHttp2.GOAWAY);
                if (frame.type() == RawHttp2.HEADERS) {
                    Http2Headers headers = client.decode(frame.streamId(), frame.payload());
                    if (frame.streamId() == stream) {
                        return String.valueOf(headers.status());
                    }
                }
            }
        }
        throw new AssertionError("no response on stream " + stream);
    }

    @Test
    void aStreamResetInTheReadThatOpenedItNeverReachesAnOriginWhileItsNeighbourIsServed() throws Exception {
        try (TestOrigin local = new TestOrigin()) {
            mesh.loadBalancer("local", "tokyo", "tokyo", Endpoint.of("127.0.0.1", local.address().getPort()));
            mesh.awaitApplied(tokyo);
            try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
                Http2Headers reset = new DefaultHttp2Headers().method("GET").scheme("http").path("/reset")
                        .authority("local");
                Http2Headers kept = new DefaultHttp2Headers().method("GET").scheme("http").path("/kept")
                        .authority("local");
                // One write, so one read at the router: stream 1 is opened and reset, stream 3 stays.
                client.frame(RawHttp2.HEADERS, 0x5, 1, client.encode(1, reset));
                client.frame(RawHttp2.RST_STREAM, 0, 1, new byte[] {0, 0, 0, 8});
                client.frame(RawHttp2.HEADERS, 0x5, 3, client.encode(3, kept));
                List<RawHttp2.Frame> frames = client.flush().readUntil(RawHttp2.DATA);
                RawHttp2.Frame head = frames.stream().filter(f -> f.type() == RawHttp2.HEADERS).findFirst().orElseThrow();
                assertThat(head.streamId()).isEqualTo(3);
                assertThat(client.decode(3, head.payload()).status().toString()).isEqualTo("200");
            }
            assertThat(local.requests).as("requests at the origin").hasValue(1);
            assertThat(local.connections).as("origin connections: none for the reset stream").hasValue(1);
        }
    }

    @Test
    void answersAContinuationFloodWithGoaway() throws Exception {
        try (RawHttp2 client = new RawHttp2(tokyo.ingressAddress())) {
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/flood")
                    .authority("localhost");
            client.frame(RawHttp2.HEADERS, 0x0, 1, client.encode(1, headers));
            byte[] junk = new byte[16_000];
            for (int i = 0; i < junk.length; i += 8) {
                // Literal header fields without indexing, new names: 0x00, name length 2, "ab", value length 3, "xyz".
                System.arraycopy(new byte[] {0x00, 0x02, 'a', 'b', 0x03, 'x', 'y', 'z'}, 0, junk, i, 8);
            }
            // 20 frames (320 kB) exceed the 16 kB header limit many times over.
            for (int i = 0; i < 20; i++) {
                client.frame(RawHttp2.CONTINUATION, 0x0, 1, junk);
            }
            try {
                client.flush();
            } catch (java.net.SocketException closedByTheRouter) {
                // The router closed while the flood was still being written: what it sent before is read all the same.
            }
            List<RawHttp2.Frame> frames = client.readUntil(RawHttp2.GOAWAY);
            assertThat(frames).isNotEmpty();
            assertThat(frames.get(frames.size() - 1).type()).isEqualTo(RawHttp2.GOAWAY);
        }
        assertThat(origin.getAllServeEvents()).isEmpty();
    }
}
