package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.reliability.RawTunnelClient.Outcome;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A long run, bounded in time ({@code -Dreliability.longRun=PT60S} by default) and in count: while
 * refused peers keep knocking on osaka's tunnel port (another CA, an expired certificate, an unknown
 * site, plaintext), tokyo's applications keep calling osaka through the real tunnel. Every real
 * request must succeed, no refused peer may get a response, and the origin must see exactly the real
 * requests. Runs with {@code -Plong}.
 */
@Tag("long")
class RefusedPeersUnderLoadTest {

    private static final int MAX_ATTEMPTS_PER_WORKER = 100_000;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void realTrafficFlowsWhileRefusedPeersKeepTrying() throws Exception {
        Duration runFor = Duration.parse(System.getProperty("reliability.longRun", "PT60S"));
        try (MeshFixture mesh = new MeshFixture(); CountingOrigin origin = new CountingOrigin();
                RawTunnelClient rogue = new RawTunnelClient()) {
            MeshRouter tokyo = mesh.site("tokyo");
            MeshRouter osaka = mesh.site("osaka");
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            Instant now = Instant.now();
            List<SiteCredentials> refused = List.of(
                    MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN).issueSite("tokyo"),
                    mesh.ca.issueSite("tokyo", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))),
                    mesh.ca.issueSite("nara"));
            Instant deadline = Instant.now().plus(runFor);
            AtomicInteger served = new AtomicInteger();
            AtomicInteger refusedTls = new AtomicInteger();
            AtomicInteger refusedPlaintext = new AtomicInteger();
            ExecutorService workers = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> running = new ArrayList<>();
                running.add(workers.submit(() -> {
                    HttpClient client = MeshFixture.clientOf(tokyo);
                    for (int i = 0; i < MAX_ATTEMPTS_PER_WORKER && Instant.now().isBefore(deadline); i++) {
                        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                                URI.create("http://osaka-app/real/" + i)).timeout(Duration.ofSeconds(15)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(response.statusCode()).as("real request %d", i).isEqualTo(200);
                        served.incrementAndGet();
                    }
                    return null;
                }));
                running.add(workers.submit(() -> {
                    for (int i = 0; i < MAX_ATTEMPTS_PER_WORKER && Instant.now().isBefore(deadline); i++) {
                        SiteCredentials credentials = refused.get(i % refused.size());
                        Outcome outcome = rogue.request(osaka.tunnelAddress(), credentials.privateKey(),
                                credentials.certificateChain(), mesh.ca.trustBundle().roots(), "TLSv1.3",
                                "osaka-app", "default/osaka-app-pool", "/rogue/" + i).get(20, TimeUnit.SECONDS);
                        assertThat(outcome.answered()).as("refused peer %s got %s", credentials.spiffeId(), outcome)
                                .isFalse();
                        refusedTls.incrementAndGet();
                    }
                    return null;
                }));
                running.add(workers.submit(() -> {
                    for (int i = 0; i < MAX_ATTEMPTS_PER_WORKER && Instant.now().isBefore(deadline); i++) {
                        assertThat(plaintext(osaka.tunnelAddress())).doesNotContain("HTTP/");
                        refusedPlaintext.incrementAndGet();
                    }
                    return null;
                }));
                for (Future<?> worker : running) {
                    worker.get(runFor.toSeconds() + 120, TimeUnit.SECONDS);
                }
            } finally {
                workers.shutdownNow();
            }
            System.out.printf("refused-peers-under-load: %s, %d real requests served, %d refused TLS peers, "
                    + "%d refused plaintext connections%n", runFor, served.get(), refusedTls.get(), refusedPlaintext.get());
            assertThat(served.get()).isPositive();
            assertThat(refusedTls.get()).isPositive();
            assertThat(refusedPlaintext.get()).isPositive();
            assertThat(origin.requestsTo("/rogue/")).isZero();
            assertThat(origin.requestHeads).hasValue(served.get());
            assertThat(mesh.events("in", "osaka")).containsOnly("in osaka spiffe://mesh.test/site/tokyo");
        }
    }

    private static String plaintext(InetSocketAddress tunnel) throws IOException {
        try (Socket socket = new Socket(tunnel.getAddress(), tunnel.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: osaka-app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            try {
                return new String(in.readNBytes(1 << 12), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException reset) {
                return "";
            }
        }
    }
}
