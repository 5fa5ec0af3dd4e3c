package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.TrustBundle;
import io.isthmus.mesh.reliability.RawTunnelClient.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Certificates and the CA itself rotate while tokyo's applications keep calling osaka: both sites'
 * certificates are re-issued and applied, then a new CA is rolled in through an overlapping trust
 * bundle (new root added everywhere, certificates re-issued from the new CA, old root removed). Not
 * one request may fail, and afterwards a peer still presenting a certificate from the old root is refused.
 */
class RotationUnderLoadTest {

    private static final int STEP_REQUESTS = 150;

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void noRequestFailsWhileCertificatesAndTheCaRotate() throws Exception {
        try (MeshFixture mesh = new MeshFixture(); CountingOrigin origin = new CountingOrigin();
                RawTunnelClient rogue = new RawTunnelClient()) {
            MeshRouter tokyo = mesh.site("tokyo");
            MeshRouter osaka = mesh.site("osaka");
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(tokyo, osaka);
            long start = System.nanoTime();
            List<SteadyLoad.Result> results;
            TrustBundle newOnly;
            try (SteadyLoad load = new SteadyLoad(tokyo, "http://osaka-app/rotation", 2, 20_000,
                    Duration.ofSeconds(90))) {
                awaitMore(load);
                // (a) Re-issued certificates from the same CA.
                tokyo.updateCredentials(mesh.ca.issueSite("tokyo"));
                osaka.updateCredentials(mesh.ca.issueSite("osaka"));
                awaitMore(load);
                // (b) CA rotation: add the new root everywhere, re-issue from the new CA, drop the old root.
                MeshCertificateAuthority newCa = MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN);
                TrustBundle both = mesh.ca.trustBundle().withRoot(newCa.certificate());
                tokyo.updateCredentials(mesh.ca.issueSite("tokyo").withTrustBundle(both));
                osaka.updateCredentials(mesh.ca.issueSite("osaka").withTrustBundle(both));
                awaitMore(load);
                tokyo.updateCredentials(newCa.issueSite("tokyo").withTrustBundle(both));
                osaka.updateCredentials(newCa.issueSite("osaka").withTrustBundle(both));
                awaitMore(load);
                newOnly = both.withoutRoot(mesh.ca.certificate());
                tokyo.updateCredentials(newCa.issueSite("tokyo").withTrustBundle(newOnly));
                osaka.updateCredentials(newCa.issueSite("osaka").withTrustBundle(newOnly));
                awaitMore(load);
                results = load.stop();
            }
            long failed = results.stream().filter(r -> !r.ok()).count();
            System.out.printf("rotation: %d requests in %d ms, %d failed%n", results.size(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), failed);
            assertThat(results.stream().filter(r -> !r.ok()).limit(5).toList()).as("failed requests").isEmpty();
            assertThat(results.size()).isGreaterThanOrEqualTo(5 * STEP_REQUESTS);
            assertThat(origin.requestsTo("/rotation/")).isEqualTo(results.size());

            SiteCredentials oldRoot = mesh.ca.issueSite("tokyo");
            Outcome outcome = rogue.request(osaka.tunnelAddress(), oldRoot.privateKey(), oldRoot.certificateChain(),
                    newOnly.roots(), "TLSv1.3", "osaka-app", "default/osaka-app-pool", "/old-root")
                    .get(20, TimeUnit.SECONDS);
            assertThat(outcome.answered()).as("peer with an old-root certificate got %s", outcome).isFalse();
            assertThat(origin.requestsTo("/old-root")).isZero();
        }
    }

    private static void awaitMore(SteadyLoad load) {
        int target = load.count() + STEP_REQUESTS;
        await().atMost(Duration.ofSeconds(20)).until(() -> load.count() >= target);
    }
}
