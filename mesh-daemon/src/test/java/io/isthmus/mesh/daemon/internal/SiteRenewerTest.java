package io.isthmus.mesh.daemon.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.daemon.DaemonConfig;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a joined site renews, and what it does while the CA daemon cannot be reached. */
class SiteRenewerTest {

    @TempDir
    Path state;

    @Test
    void renewsTwoThirdsOfTheWayToExpiry() {
        Instant now = Instant.parse("2026-11-25T00:00:00Z");
        assertThat(SiteRenewer.renewalDelay(now.plus(Duration.ofHours(24)), now)).isEqualTo(Duration.ofHours(16));
        assertThat(SiteRenewer.renewalDelay(now.plus(Duration.ofSeconds(9)), now)).isEqualTo(Duration.ofSeconds(6));
        assertThat(SiteRenewer.renewalDelay(now.minus(Duration.ofSeconds(1)), now)).isEqualTo(Duration.ZERO);
    }

    @Test
    void retriesAfterAGrowingDelayUpToFiveMinutes() {
        assertThat(List.of(1, 2, 3, 4, 9, 10, 1000).stream().map(SiteRenewer::retryDelay).toList())
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                        Duration.ofSeconds(8), Duration.ofSeconds(256), Duration.ofMinutes(5), Duration.ofMinutes(5));
        assertThat(SiteRenewer.format(Duration.ofHours(16).plusMinutes(3))).isEqualTo("16h 3m");
        assertThat(SiteRenewer.format(Duration.ofSeconds(250))).isEqualTo("4m 10s");
        assertThat(SiteRenewer.format(Duration.ofMillis(3441))).isEqualTo("3.4s");
    }

    @Test
    void retriesWhileTheCaDaemonIsUnreachableAndGivesUpAtExpiry() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        DaemonConfig config = DaemonConfig.load(null, Map.of(), Map.of("site", "kyoto", "trustDomain",
                "mesh.example", "stateDir", state.toString(), "join.token", "0123456789abcdef." + "a".repeat(43),
                "join.server", "https://127.0.0.1:" + closedPort));
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
        Instant now = Instant.now();
        SiteCredentials current = ca.issueSite("kyoto", now.minus(Duration.ofMinutes(1)), now.plusSeconds(12));
        List<SiteCredentials> applied = new CopyOnWriteArrayList<>();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            SiteRenewer renewer = new SiteRenewer(config, current, scheduler, applied::add);
            renewer.start();

            await().atMost(Duration.ofSeconds(60)).until(renewer::expired);

            assertThat(renewer.failures()).isGreaterThanOrEqualTo(2);
            assertThat(renewer.current()).isSameAs(current);
            assertThat(applied).isEmpty();
            assertThat(state.resolve("site.pem")).doesNotExist();
        } finally {
            scheduler.shutdownNow();
        }
    }
}
