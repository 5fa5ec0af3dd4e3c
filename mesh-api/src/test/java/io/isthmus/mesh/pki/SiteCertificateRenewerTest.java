package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Renewal timing, retries and publication, with a test clock and a scheduler it drives (no sleeping). */
class SiteCertificateRenewerTest {

    private static final Instant START = Instant.parse("2026-11-25T00:00:00Z");
    private static final Duration LIFETIME = Duration.ofHours(24);

    private ManualScheduler scheduler;
    private MeshCertificateAuthority ca;
    private SiteCredentials initial;
    private final List<SiteCredentials> published = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        scheduler = new ManualScheduler(START);
        ca = MeshCertificateAuthority.builder("mesh.test").clock(scheduler.clock()).build();
        initial = ca.issueSite("osaka");
    }

    private SiteCertificateRenewer.Builder renewer(SiteCredentialIssuer issuer) {
        return SiteCertificateRenewer.builder(initial, issuer, scheduler).clock(scheduler.clock());
    }

    /** When the certificate has lived the given fraction of its lifetime (which starts one minute back). */
    private static Instant fractionOfLifetime(SiteCredentials credentials, double fraction) {
        Instant notBefore = credentials.certificate().getNotBefore().toInstant();
        long millis = Duration.between(notBefore, credentials.notAfter()).toMillis();
        return notBefore.plusMillis((long) (millis * fraction));
    }

    @Test
    void issuesSiteCertificatesForTwentyFourHoursByDefault() {
        assertThat(ca.siteCertificateValidity()).isEqualTo(LIFETIME);
        assertThat(initial.notAfter()).isEqualTo(START.plus(LIFETIME));
        assertThat(initial.certificate().getNotBefore().toInstant()).isEqualTo(START.minusSeconds(60));
    }

    @Test
    void renewsAtTwoThirdsOfTheLifetimeAndPublishesTheNewCredentials() {
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca)).build();
        renewer.addListener(published::add);
        renewer.start();

        Instant due = fractionOfLifetime(initial, 2.0 / 3);
        // 24 h + 1 min of lifetime; two thirds of it are 960 min 40 s.
        assertThat(due).isEqualTo(START.minusSeconds(60).plus(Duration.ofMinutes(960)).plusSeconds(40));
        assertThat(renewer.nextAttempt()).isEqualTo(due);

        scheduler.advanceTo(due.minusMillis(1));
        assertThat(published).isEmpty();
        assertThat(renewer.current()).isEqualTo(initial);

        scheduler.advanceTo(due);
        assertThat(published).hasSize(1);
        SiteCredentials renewed = published.get(0);
        assertThat(renewer.current()).isEqualTo(renewed);
        assertThat(renewed.spiffeId()).isEqualTo(initial.spiffeId());
        assertThat(renewed.privateKey()).isNotEqualTo(initial.privateKey());
        assertThat(renewed.notAfter()).isEqualTo(due.plus(LIFETIME));
        assertThat(renewed.trustBundle().verify(renewed.certificateChain(), due)).isEqualTo(initial.spiffeId());

        // The next renewal is at two thirds of the new certificate's lifetime, and so on.
        Instant nextDue = fractionOfLifetime(renewed, 2.0 / 3);
        assertThat(renewer.nextAttempt()).isEqualTo(nextDue);
        scheduler.advanceTo(nextDue);
        assertThat(published).hasSize(2);
        assertThat(published.get(1).notAfter()).isEqualTo(nextDue.plus(LIFETIME));
    }

    @Test
    void renewsAtAConfiguredFraction() {
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca, Duration.ofHours(2)))
                .renewAtFraction(0.5).build();
        renewer.addListener(published::add);
        renewer.start();

        Instant due = fractionOfLifetime(initial, 0.5);
        assertThat(renewer.nextAttempt()).isEqualTo(due);
        scheduler.advanceTo(due);

        assertThat(published).singleElement().satisfies(c -> assertThat(c.notAfter()).isEqualTo(due.plusSeconds(7200)));
        assertThat(renewer.nextAttempt()).isEqualTo(fractionOfLifetime(published.get(0), 0.5));
    }

    @Test
    void renewsAtOnceWhenTheRenewalTimeHasPassed() {
        scheduler.advance(Duration.ofHours(20));
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca)).build();
        renewer.addListener(published::add);
        renewer.start();

        assertThat(renewer.nextAttempt()).isEqualTo(scheduler.now());
        scheduler.advance(Duration.ZERO);
        assertThat(published).hasSize(1);
    }

    @Test
    void retriesAFailedRenewalWithExponentialBackoffUntilItSucceeds() {
        AtomicInteger calls = new AtomicInteger();
        List<Instant> attempts = new CopyOnWriteArrayList<>();
        SiteCredentialIssuer flaky = current -> {
            attempts.add(scheduler.now());
            if (calls.incrementAndGet() <= 3) {
                throw new IOException("CA unreachable (attempt " + calls.get() + ")");
            }
            return ca.issueSite(current.site());
        };
        SiteCertificateRenewer renewer = renewer(flaky).retryBackoff(Duration.ofSeconds(5), Duration.ofSeconds(12))
                .build();
        renewer.addListener(published::add);
        renewer.start();
        Instant due = fractionOfLifetime(initial, 2.0 / 3);

        scheduler.advanceTo(due);
        assertThat(published).isEmpty();
        assertThat(renewer.consecutiveFailures()).isEqualTo(1);
        assertThat(renewer.lastFailure()).isInstanceOf(IOException.class).hasMessage("CA unreachable (attempt 1)");
        assertThat(renewer.current()).isEqualTo(initial);
        assertThat(renewer.nextAttempt()).isEqualTo(due.plusSeconds(5));

        scheduler.advanceTo(due.plusSeconds(5));
        assertThat(renewer.consecutiveFailures()).isEqualTo(2);
        assertThat(renewer.nextAttempt()).isEqualTo(due.plusSeconds(5 + 10));

        scheduler.advanceTo(due.plusSeconds(15));
        assertThat(renewer.consecutiveFailures()).isEqualTo(3);
        // 20 s would be next, but the backoff is capped at 12 s.
        assertThat(renewer.nextAttempt()).isEqualTo(due.plusSeconds(15 + 12));

        scheduler.advanceTo(due.plusSeconds(27));
        assertThat(attempts).containsExactly(due, due.plusSeconds(5), due.plusSeconds(15), due.plusSeconds(27));
        assertThat(published).hasSize(1);
        assertThat(renewer.consecutiveFailures()).isZero();
        assertThat(renewer.lastFailure()).isNull();
        assertThat(renewer.current().notAfter()).isEqualTo(due.plusSeconds(27).plus(LIFETIME));
        assertThat(renewer.nextAttempt()).isEqualTo(fractionOfLifetime(renewer.current(), 2.0 / 3));
    }

    @Test
    void refusesCredentialsOfAnotherSiteFromTheIssuerAndRetries() {
        SiteCertificateRenewer renewer = renewer(current -> ca.issueSite("kyoto")).build();
        renewer.addListener(published::add);
        renewer.start();

        scheduler.advanceTo(fractionOfLifetime(initial, 2.0 / 3));

        assertThat(published).isEmpty();
        assertThat(renewer.current()).isEqualTo(initial);
        assertThat(renewer.lastFailure()).isInstanceOf(MeshIdentityException.class)
                .hasMessage("issuer returned credentials for spiffe://mesh.test/site/kyoto (expected: "
                        + "spiffe://mesh.test/site/osaka)");
        assertThat(renewer.nextAttempt()).isEqualTo(scheduler.now().plusSeconds(5));
    }

    @Test
    void renewNowRenewsAtOnceAndReschedules() throws Exception {
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca)).build();
        renewer.start();
        scheduler.advance(Duration.ofHours(1));

        CompletableFuture<SiteCredentials> renewal = renewer.renewNow();
        assertThat(renewal).isNotDone();
        scheduler.advance(Duration.ZERO);

        SiteCredentials renewed = renewal.get(0, TimeUnit.SECONDS);
        assertThat(renewed.notAfter()).isEqualTo(START.plus(Duration.ofHours(1)).plus(LIFETIME));
        assertThat(renewer.current()).isEqualTo(renewed);
        assertThat(scheduler.pendingDueTimes()).containsExactly(fractionOfLifetime(renewed, 2.0 / 3));
    }

    @Test
    void renewNowDuringARenewalRunsAnotherOneAfterIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<CompletableFuture<SiteCredentials>> requested = new CopyOnWriteArrayList<>();
        SiteCertificateRenewer[] self = new SiteCertificateRenewer[1];
        SiteCertificateRenewer renewer = renewer(current -> {
            if (calls.incrementAndGet() == 1) {
                // E.g. a trust bundle change asks for a renewal while one is in flight.
                requested.add(self[0].renewNow());
            }
            return ca.issueSite(current.site());
        }).build();
        self[0] = renewer;
        renewer.addListener(published::add);
        renewer.start();

        scheduler.advanceTo(fractionOfLifetime(initial, 2.0 / 3));

        assertThat(calls).hasValue(2);
        assertThat(published).hasSize(2);
        assertThat(requested).singleElement().satisfies(f -> assertThat(f.get(0, TimeUnit.SECONDS))
                .isEqualTo(published.get(1)));
        assertThat(scheduler.pendingDueTimes()).containsExactly(fractionOfLifetime(published.get(1), 2.0 / 3));
    }

    @Test
    void renewNowReportsTheFailureOfItsAttempt() {
        SiteCertificateRenewer renewer = renewer(current -> {
            throw new IOException("CA unreachable");
        }).build();
        renewer.start();

        CompletableFuture<SiteCredentials> renewal = renewer.renewNow();
        scheduler.advance(Duration.ZERO);

        assertThat(renewal).isCompletedExceptionally();
        assertThatThrownBy(renewal::get).isInstanceOf(ExecutionException.class).hasRootCauseMessage("CA unreachable");
        assertThat(renewer.nextAttempt()).isEqualTo(scheduler.now().plusSeconds(5));
    }

    @Test
    void renewalKeepsEveryRootOfTheCurrentBundleAndUpdateTrustBundleDropsThem() {
        MeshCertificateAuthority next = MeshCertificateAuthority.builder("mesh.test").clock(scheduler.clock()).build();
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(next)).build();
        renewer.addListener(published::add);
        renewer.start();

        SiteCredentials overlap = renewer.updateTrustBundle(ca.trustBundle().withRoot(next.certificate()));
        assertThat(published).containsExactly(overlap);

        // Issued by the new CA, whose own bundle has only the new root; the old root stays.
        SiteCredentials renewed = renewer.renewNow().getNow(null);
        assertThat(renewed).isNull();
        scheduler.advance(Duration.ZERO);
        renewed = renewer.current();
        assertThat(renewed.trustBundle().roots()).containsExactly(ca.certificate(), next.certificate());
        assertThat(renewed.trustBundle().verify(renewed.certificateChain(), scheduler.now()).site()).isEqualTo("osaka");

        SiteCredentials after = renewer.updateTrustBundle(renewed.trustBundle().withoutRoot(ca.certificate()));
        assertThat(after.trustBundle().roots()).containsExactly(next.certificate());
        assertThat(after.certificate()).isEqualTo(renewed.certificate());
        assertThat(published).containsExactly(overlap, renewed, after);
    }

    @Test
    void aFailingListenerDoesNotStopTheOthers() {
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca)).build();
        renewer.addListener(credentials -> {
            throw new IllegalStateException("listener bug");
        });
        renewer.addListener(published::add);
        renewer.start();

        scheduler.advanceTo(fractionOfLifetime(initial, 2.0 / 3));

        assertThat(published).hasSize(1);
        assertThat(renewer.consecutiveFailures()).isZero();
    }

    @Test
    void closeCancelsTheScheduledRenewalAndLeavesTheExecutorToItsOwner() {
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.fromCa(ca)).build();
        renewer.addListener(published::add);
        renewer.start();

        renewer.close();
        renewer.close();
        scheduler.advance(Duration.ofDays(3));

        assertThat(published).isEmpty();
        assertThat(renewer.nextAttempt()).isNull();
        assertThat(scheduler.isShutdown()).isFalse();
        assertThatThrownBy(renewer::renewNow).isInstanceOf(IllegalStateException.class)
                .hasMessage("renewer of spiffe://mesh.test/site/osaka: CLOSED (expected: started)");
    }

    @Test
    void renewsThroughARemoteSignerWithAKeyMadeAtTheSite() {
        List<String> requests = new CopyOnWriteArrayList<>();
        SiteCredentialIssuer.CsrSigner signer = (csrPem, current) -> {
            requests.add(csrPem);
            // The CA side: the peer authenticated as `current` (its chain verified), and renews its own identity.
            SpiffeId peer = ca.trustBundle().verify(current.certificateChain(), scheduler.now());
            return ca.renewForPeer(peer, csrPem);
        };
        SiteCertificateRenewer renewer = renewer(SiteCredentialIssuer.enrolling(signer, scheduler.clock())).build();
        renewer.addListener(published::add);
        renewer.start();

        scheduler.advanceTo(fractionOfLifetime(initial, 2.0 / 3));

        assertThat(requests).singleElement().asString().startsWith("-----BEGIN CERTIFICATE REQUEST-----")
                .doesNotContain("PRIVATE KEY");
        SiteCredentials renewed = published.get(0);
        assertThat(renewed.privateKey()).isNotEqualTo(initial.privateKey());
        assertThat(renewed.trustBundle().verify(renewed.certificateChain(), scheduler.now())).isEqualTo(
                initial.spiffeId());
    }

    @Test
    void theCaRenewsOnlyThePeersOwnIdentity() {
        SpiffeId osaka = initial.spiffeId();
        String kyotoCsr = SiteEnrollment.create("mesh.test", "kyoto").csrPem();

        assertThatThrownBy(() -> ca.renewForPeer(osaka, kyotoCsr))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("peer spiffe://mesh.test/site/osaka may renew only its own certificate, CSR for "
                        + "spiffe://mesh.test/site/kyoto");
    }

    @Test
    void validatesItsSettings() {
        assertThatThrownBy(() -> SiteCredentialIssuer.fromCa(ca, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("validity: PT0S (expected: > 0)");
        SiteCertificateRenewer.Builder builder = renewer(SiteCredentialIssuer.fromCa(ca));
        assertThatThrownBy(() -> builder.renewAtFraction(1.0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("renewAtFraction: 1.0 (expected: > 0 and < 1)");
        assertThatThrownBy(() -> builder.renewAtFraction(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.retryBackoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("initial: PT0S (expected: > 0)");
        assertThatThrownBy(() -> builder.retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("max: PT1S (expected: >= initial PT2S)");
        SiteCertificateRenewer renewer = builder.build().start();
        assertThatThrownBy(renewer::start).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> renewer.updateTrustBundle(MeshCertificateAuthority.create("other.test").trustBundle()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void worksOnARealScheduledExecutor() throws Exception {
        ScheduledExecutorService real = Executors.newSingleThreadScheduledExecutor();
        try {
            MeshCertificateAuthority systemCa = MeshCertificateAuthority.create("mesh.test");
            SiteCertificateRenewer renewer = SiteCertificateRenewer
                    .builder(systemCa.issueSite("osaka"), SiteCredentialIssuer.fromCa(systemCa), real).build().start();
            CompletableFuture<SiteCredentials> published = new CompletableFuture<>();
            renewer.addListener(published::complete);

            SiteCredentials renewed = renewer.renewNow().get(10, TimeUnit.SECONDS);

            assertThat(published.get(10, TimeUnit.SECONDS)).isEqualTo(renewed);
            assertThat(renewer.nextAttempt()).isAfter(Instant.now().plus(Duration.ofHours(15)));
            renewer.close();
        } finally {
            real.shutdownNow();
            assertThat(real.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
