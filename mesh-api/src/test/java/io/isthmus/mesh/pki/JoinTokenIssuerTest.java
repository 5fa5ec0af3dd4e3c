package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Join tokens: a new site obtains its certificate with a one-time, expiring token and a CSR of its own key. */
class JoinTokenIssuerTest {

    private static final Instant START = Instant.parse("2026-11-25T00:00:00Z");

    private ManualScheduler.MutableClock clock;
    private MeshCertificateAuthority ca;
    private JoinTokenStore store;
    private JoinTokenIssuer tokens;

    @BeforeEach
    void setUp() {
        clock = new ManualScheduler.MutableClock(START);
        ca = MeshCertificateAuthority.builder("mesh.test").clock(clock).build();
        store = JoinTokenStore.inMemory();
        tokens = JoinTokenIssuer.builder(ca).tokenLifetime(Duration.ofMinutes(30)).store(store).build();
    }

    private ExecutorService pool;

    @AfterEach
    void stopPool() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    private SiteEnrollment enrollment(String site) {
        return SiteEnrollment.create(SpiffeId.ofSite("mesh.test", site), clock);
    }

    @Test
    void aNewSiteJoinsWithATokenAndAKeyThatNeverLeavesIt() {
        JoinToken token = tokens.issue("nara");
        SiteEnrollment nara = enrollment("nara");

        // Only strings cross the wire: the token and the CSR one way, two PEM texts back.
        EnrollmentResponse response = tokens.redeem(token.value(), nara.csrPem());
        SiteCredentials credentials = nara.complete(response.certificateChainPem(), response.trustBundlePem());

        assertThat(nara.csrPem()).doesNotContain("PRIVATE");
        assertThat(credentials.spiffeId()).isEqualTo(SpiffeId.ofSite("mesh.test", "nara"));
        assertThat(credentials.certificate().getPublicKey()).isEqualTo(nara.publicKey());
        assertThat(credentials.trustBundle()).isEqualTo(ca.trustBundle());
        assertThat(ca.trustBundle().verify(credentials.certificateChain(), START)).isEqualTo(credentials.spiffeId());
        assertThat(credentials.notAfter()).isEqualTo(START.plus(Duration.ofHours(24)));
        // A peer issued by the same CA accepts it, and the other way round.
        SiteCredentials osaka = ca.issueSite("osaka");
        assertThat(credentials.trustBundle().verify(osaka.certificateChain(), START).site()).isEqualTo("osaka");
    }

    @Test
    void anAuthenticatedSiteRenewsForItsOwnIdentityOnlyLikeAJoin() {
        JoinTokenIssuer issuer = JoinTokenIssuer.builder(ca).siteCertificateValidity(Duration.ofHours(2)).build();
        SpiffeId nara = SpiffeId.ofSite("mesh.test", "nara");
        SiteEnrollment renewal = enrollment("nara");

        EnrollmentResponse response = issuer.renew(nara, renewal.csr());
        SiteCredentials renewed = renewal.complete(response);

        assertThat(renewed.spiffeId()).isEqualTo(nara);
        assertThat(renewed.notAfter()).isEqualTo(START.plus(Duration.ofHours(2)));
        assertThat(response.trustBundle()).isEqualTo(ca.trustBundle());
        assertThatThrownBy(() -> issuer.renew(nara, enrollment("kobe").csr()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("spiffe://mesh.test/site/nara may renew only its own certificate, CSR for "
                        + "spiffe://mesh.test/site/kobe");
    }

    @Test
    void tokensAreRandomWithAnIdAndASecretAndPrintNoSecret() {
        JoinToken token = tokens.issue("nara");
        String[] parts = token.value().split("\\.");

        assertThat(parts).hasSize(2);
        assertThat(parts[0]).isEqualTo(token.id()).matches("[0-9a-f]{16}");
        assertThat(parts[1]).matches("[A-Za-z0-9_-]{43}"); // 256 bits, base64url
        assertThat(token.site()).isEqualTo("nara");
        assertThat(token.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(30)));
        assertThat(token.toString()).contains(token.id(), "nara").doesNotContain(parts[1]);

        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            JoinToken another = tokens.issue("nara");
            assertThat(seen.add(another.id())).isTrue();
            assertThat(seen.add(another.value().substring(17))).isTrue();
        }
    }

    @Test
    void theStoreHoldsOnlyAHashOfTheSecret() throws Exception {
        JoinToken token = tokens.issue("nara");
        String secret = token.value().substring(token.value().indexOf('.') + 1);

        List<JoinTokenRecord> dump = store.records();

        assertThat(dump).singleElement().satisfies(record -> {
            assertThat(record.id()).isEqualTo(token.id());
            assertThat(record.secretHash()).isEqualTo(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.US_ASCII)));
            assertThat(record.toString()).doesNotContain(secret);
            assertThat(new String(record.secretHash(), StandardCharsets.ISO_8859_1)).doesNotContain(secret);
        });
        // The hash is useless as a token: presenting it in place of the secret is refused.
        String hashAsSecret = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(dump.get(0).secretHash()).substring(0, 43);
        JoinTokenException refused = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem(token.id() + "." + hashAsSecret, enrollment("nara").csrPem()));
        assertThat(refused.reason()).isEqualTo(JoinTokenException.Reason.UNKNOWN);
    }

    @Test
    void aTokenCanBeUsedOnce() {
        JoinToken token = tokens.issue("nara");
        tokens.redeem(token.value(), enrollment("nara").csrPem());
        clock.set(START.plusSeconds(5));

        JoinTokenException second = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem(token.value(), enrollment("nara").csrPem()));

        assertThat(second.reason()).isEqualTo(JoinTokenException.Reason.ALREADY_USED);
        assertThat(second.tokenId()).isEqualTo(token.id());
        assertThat(second).hasMessage("join token " + token.id() + " for site nara was already used at "
                + START + " (expected: an unused token; each token gives one certificate)");
    }

    @Test
    void anExpiredTokenIsRefused() {
        JoinToken token = tokens.issue("nara");
        String csr = enrollment("nara").csrPem();
        clock.set(START.plus(Duration.ofMinutes(30)));

        JoinTokenException expired = catchThrowableOfType(JoinTokenException.class, () -> tokens.redeem(token.value(),
                csr));

        assertThat(expired.reason()).isEqualTo(JoinTokenException.Reason.EXPIRED);
        assertThat(expired).hasMessage("join token " + token.id() + " for site nara expired at 2026-11-25T00:30:00Z "
                + "(now 2026-11-25T00:30:00Z; issue a new one)");
    }

    @Test
    void aTokenIsAcceptedUntilJustBeforeItExpires() {
        JoinToken token = tokens.issue("nara", Duration.ofMinutes(5));
        clock.set(START.plus(Duration.ofMinutes(5)).minusMillis(1));

        assertThat(tokens.redeem(token.value(), enrollment("nara").csrPem()).spiffeId().site()).isEqualTo("nara");
    }

    @Test
    void aTokenForAnotherSiteIsRefusedAndStaysUsable() {
        JoinToken token = tokens.issue("kyoto");

        JoinTokenException mismatch = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem(token.value(), enrollment("nara").csrPem()));

        assertThat(mismatch.reason()).isEqualTo(JoinTokenException.Reason.SITE_MISMATCH);
        assertThat(mismatch).hasMessage("join token " + token.id() + " is for site kyoto, CSR for nara");
        // A refusal changes nothing: kyoto can still join with it.
        assertThat(tokens.pending()).extracting(JoinTokenRecord::id).containsExactly(token.id());
        assertThat(tokens.redeem(token.value(), enrollment("kyoto").csrPem()).spiffeId().site()).isEqualTo("kyoto");
    }

    @Test
    void aCsrOfAnotherTrustDomainIsRefused() {
        JoinToken token = tokens.issue("nara");
        String csr = SiteEnrollment.create("other.test", "nara").csrPem();

        JoinTokenException mismatch = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem(token.value(), csr));

        assertThat(mismatch.reason()).isEqualTo(JoinTokenException.Reason.TRUST_DOMAIN_MISMATCH);
        assertThat(mismatch).hasMessage("join token " + token.id() + " is for trust domain mesh.test, CSR for "
                + "other.test (spiffe://other.test/site/nara)");
    }

    @Test
    void aForgedCsrIsRefusedWithoutUsingTheToken() throws Exception {
        JoinToken token = tokens.issue("nara");
        // Asks for nara in the SPIFFE id but for kyoto in the subject.
        String forged = CertificateSigningRequestTest.request("CN=kyoto",
                TestCertificates.uri("spiffe://mesh.test/site/nara"));

        assertThatThrownBy(() -> tokens.redeem(token.value(), forged))
                .isInstanceOf(MeshIdentityException.class)
                .isNotInstanceOf(JoinTokenException.class)
                .hasMessageContaining("has the subject CN=kyoto");
        assertThat(tokens.pending()).hasSize(1);
    }

    @Test
    void unknownWrongAndMalformedTokensAreRefused() {
        JoinToken token = tokens.issue("nara");
        String csr = enrollment("nara").csrPem();
        String wrongSecret = token.id() + "." + "A".repeat(43);
        String unknownId = "0123456789abcdef." + token.value().substring(17);

        JoinTokenException wrong = catchThrowableOfType(JoinTokenException.class, () -> tokens.redeem(wrongSecret, csr));
        JoinTokenException unknown = catchThrowableOfType(JoinTokenException.class, () -> tokens.redeem(unknownId, csr));
        JoinTokenException malformed = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem("not-a-token", csr));

        assertThat(wrong.reason()).isEqualTo(JoinTokenException.Reason.UNKNOWN);
        assertThat(wrong).hasMessage("unknown join token " + token.id() + " (no such token, revoked, or a wrong secret)");
        assertThat(unknown.reason()).isEqualTo(JoinTokenException.Reason.UNKNOWN);
        assertThat(malformed.reason()).isEqualTo(JoinTokenException.Reason.MALFORMED);
        assertThat(malformed.tokenId()).isNull();
        assertThat(malformed).hasMessage("join token of 11 characters is malformed (expected: <id>.<secret>, 16 hex "
                + "digits, a dot and 43 base64url characters)");
        assertThat(tokens.redeem(token.value(), csr).spiffeId().site()).isEqualTo("nara");
    }

    @Test
    void ofConcurrentRedemptionsExactlyOneWins() throws Exception {
        int contenders = 8;
        pool = Executors.newFixedThreadPool(contenders);
        for (int round = 0; round < 5; round++) {
            JoinToken token = tokens.issue("nara");
            List<String> csrs = new ArrayList<>();
            for (int i = 0; i < contenders; i++) {
                csrs.add(enrollment("nara").csrPem());
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> outcomes = new ArrayList<>();
            for (String csr : csrs) {
                Callable<Object> redeem = () -> {
                    assertThat(go.await(10, TimeUnit.SECONDS)).isTrue();
                    try {
                        return tokens.redeem(token.value(), csr);
                    } catch (JoinTokenException e) {
                        return e;
                    }
                };
                outcomes.add(pool.submit(redeem));
            }
            go.countDown();

            int won = 0;
            for (Future<Object> outcome : outcomes) {
                Object result = outcome.get(10, TimeUnit.SECONDS);
                if (result instanceof EnrollmentResponse) {
                    won++;
                } else {
                    assertThat(((JoinTokenException) result).reason())
                            .isEqualTo(JoinTokenException.Reason.ALREADY_USED);
                }
            }
            assertThat(won).as("winners of round %s", round).isEqualTo(1);
        }
    }

    @Test
    void revokedTokensArePurgedAndExpiredOnesDropped() {
        JoinToken revoked = tokens.issue("nara");
        JoinToken used = tokens.issue("kyoto");
        JoinToken expiring = tokens.issue("osaka", Duration.ofMinutes(1));
        JoinToken pending = tokens.issue("sapporo");
        tokens.redeem(used.value(), enrollment("kyoto").csrPem());

        assertThat(tokens.revoke(revoked.id())).isTrue();
        assertThat(tokens.revoke(revoked.id())).isFalse();
        assertThat(tokens.revoke(used.id())).isFalse();
        clock.set(START.plus(Duration.ofMinutes(2)));

        assertThat(tokens.pending()).extracting(JoinTokenRecord::id).containsExactly(pending.id());
        assertThat(tokens.purge()).isEqualTo(2);
        assertThat(store.records()).extracting(JoinTokenRecord::id).containsExactly(pending.id());
        JoinTokenException afterRevoke = catchThrowableOfType(JoinTokenException.class,
                () -> tokens.redeem(revoked.value(), enrollment("nara").csrPem()));
        assertThat(afterRevoke.reason()).isEqualTo(JoinTokenException.Reason.UNKNOWN);
        assertThat(expiring.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(1)));
    }

    @Test
    void handsOutTheConfiguredBundleDuringARotation() {
        MeshCertificateAuthority next = MeshCertificateAuthority.builder("mesh.test").clock(clock).build();
        TrustBundle both = ca.trustBundle().withRoot(next.certificate());
        JoinTokenIssuer rotating = JoinTokenIssuer.builder(next).trustBundle(both).build();
        JoinToken token = rotating.issue("nara");

        SiteEnrollment enrollment = enrollment("nara");

        SiteCredentials nara = enrollment.complete(rotating.redeem(token.value(), enrollment.csrPem()));

        assertThat(nara.trustBundle().roots()).containsExactly(ca.certificate(), next.certificate());
        assertThatThrownBy(() -> JoinTokenIssuer.builder(next).trustBundle(ca.trustBundle()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(expected: trust domain mesh.test, holding the CA's root)");
    }

    @Test
    void validatesItsArguments() {
        assertThatThrownBy(() -> tokens.issue("Nara!")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("site: \"Nara!\" (expected: a lowercase DNS label)");
        assertThatThrownBy(() -> tokens.issue("nara", Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("lifetime: PT0S (expected: > 0)");
        assertThatThrownBy(() -> JoinTokenIssuer.builder(ca).tokenLifetime(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("tokenLifetime: PT-1S (expected: > 0)");
    }
}
