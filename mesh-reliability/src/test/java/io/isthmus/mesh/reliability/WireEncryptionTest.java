package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a wiretap between two sites sees: a recording relay sits between tokyo and osaka's tunnel
 * port (osaka's site lists the relay as its tunnel endpoint), requests and responses carry unique
 * markers, and none of them may appear in the relayed bytes. The control puts the same relay in front
 * of the plaintext origin, where the markers must appear, so the search for them is known to work.
 */
class WireEncryptionTest {

    private MeshFixture mesh;
    private CountingOrigin origin;
    private MeshRouter tokyo;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new CountingOrigin();
        tokyo = mesh.site("tokyo");
        osaka = mesh.site("osaka");
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.close();
    }

    /** Markers unique to one test run, so that no byte pattern of the handshake can match by chance. */
    private record Markers(String path, String header, String body, String response) {
        static Markers create() {
            String run = UUID.randomUUID().toString().replace("-", "");
            return new Markers("pathmarker" + run, "headermarker" + run, "bodymarker" + run, "responsemarker" + run);
        }
    }

    private HttpResponse<String> send(Markers markers) throws Exception {
        origin.responseBody = "answer " + markers.response() + "\n";
        return MeshFixture.clientOf(tokyo).send(HttpRequest.newBuilder(URI.create("http://osaka-app/orders/" + markers.path()))
                        .header("x-secret", markers.header())
                        .timeout(Duration.ofSeconds(15))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"card\":\"" + markers.body() + "\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void assertDelivered(Markers markers, HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains(markers.response());
        CountingOrigin.Received received = origin.received.get(origin.received.size() - 1);
        assertThat(received.uri()).contains(markers.path());
        assertThat(received.headers()).contains(markers.header());
        assertThat(received.body()).contains(markers.body());
    }

    @Test
    void aWiretapOnTheTunnelSeesNoneOfTheMarkersOfRequestsAndResponses() throws Exception {
        try (RecordingRelay wiretap = new RecordingRelay(osaka.tunnelAddress())) {
            mesh.store.put(Site.builder("osaka").tunnelEndpoint(MeshFixture.endpoint(wiretap.address())).build());
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);

            Markers[] sent = new Markers[3];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = Markers.create();
                assertDelivered(sent[i], send(sent[i]));
            }

            assertThat(wiretap.connections).as("tunnels through the wiretap").hasValue(1);
            String up = new String(wiretap.clientToTarget(), StandardCharsets.ISO_8859_1);
            String down = new String(wiretap.targetToClient(), StandardCharsets.ISO_8859_1);
            // A TLS handshake record opens each direction; application data follows it.
            assertThat(wiretap.clientToTarget()).startsWith(0x16, 0x03);
            assertThat(wiretap.targetToClient()).startsWith(0x16, 0x03);
            assertThat(up.length()).isGreaterThan(500);
            assertThat(down.length()).isGreaterThan(500);
            for (Markers markers : sent) {
                for (String marker : new String[] {markers.path(), markers.header(), markers.body(), markers.response()}) {
                    assertThat(up).doesNotContain(marker);
                    assertThat(down).doesNotContain(marker);
                }
            }
            for (String plaintext : new String[] {"osaka-app", "x-secret", "x-isthmus-pool", "HTTP/1.1", "orders"}) {
                assertThat(up).doesNotContain(plaintext);
                assertThat(down).doesNotContain(plaintext);
            }
        }
    }

    @Test
    void theSameWiretapInFrontOfThePlaintextOriginSeesEveryMarker() throws Exception {
        try (RecordingRelay wiretap = new RecordingRelay(origin.address())) {
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", Endpoint.of("127.0.0.1", wiretap.address().getPort()));
            mesh.awaitApplied(tokyo, osaka);
            Markers markers = Markers.create();

            assertDelivered(markers, send(markers));

            String up = new String(wiretap.clientToTarget(), StandardCharsets.ISO_8859_1);
            String down = new String(wiretap.targetToClient(), StandardCharsets.ISO_8859_1);
            assertThat(up).contains(markers.path(), markers.header(), markers.body());
            assertThat(down).contains(markers.response());
        }
    }
}
