package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;

class MeshCertificateAuthorityTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @Test
    void createsASelfSignedP256RootValidForTenYears() throws Exception {
        Instant before = Instant.now();
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.test");
        X509Certificate root = ca.certificate();

        assertThat(ca.trustDomain()).isEqualTo("mesh.test");
        assertThat(root.getSubjectX500Principal().getName()).isEqualTo("CN=Isthmus mesh CA mesh.test");
        assertThat(root.getIssuerX500Principal()).isEqualTo(root.getSubjectX500Principal());
        root.verify(root.getPublicKey());
        assertThat(root.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(((ECPublicKey) root.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(root.getKeyUsage()).startsWith(false, false, false, false, false, true, true);
        assertThat(root.getCriticalExtensionOIDs())
                .contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
        assertThat(root.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
        assertThat(root.getNotBefore().toInstant())
                .isBetween(before.minus(Duration.ofMinutes(1)).minusSeconds(1), Instant.now().minus(Duration.ofMinutes(1)));
        assertThat(root.getNotAfter().toInstant())
                .isBetween(before.atOffset(ZoneOffset.UTC).plusYears(10).toInstant().minusSeconds(1),
                        Instant.now().atOffset(ZoneOffset.UTC).plusYears(10).toInstant());
        assertThat(ca.trustBundle().roots()).containsExactly(root);
        assertThat(ca.trustBundle().trustDomain()).isEqualTo("mesh.test");
    }

    @Test
    void issuesSiteCertificateWithSpiffeAndDnsNamesForServerAndClientAuth() throws Exception {
        Instant before = Instant.now();
        SiteCredentials osaka = CA.issueSite("osaka");
        X509Certificate leaf = osaka.certificate();

        assertThat(osaka.spiffeId()).hasToString("spiffe://mesh.test/site/osaka");
        assertThat(osaka.site()).isEqualTo("osaka");
        assertThat(osaka.certificateChain()).containsExactly(leaf);
        assertThat(osaka.trustBundle()).isEqualTo(CA.trustBundle());
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=osaka");
        assertThat(leaf.getIssuerX500Principal()).isEqualTo(CA.certificate().getSubjectX500Principal());
        leaf.verify(CA.certificate().getPublicKey());
        assertThat(leaf.getSubjectAlternativeNames())
                .containsExactlyInAnyOrder(List.of(6, "spiffe://mesh.test/site/osaka"), List.of(2, "osaka.mesh.test"));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getKeyUsage()).startsWith(true, false, false, false, false, false, false);
        assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.keyUsage.getId());
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
        assertThat(leaf.getExtensionValue(Extension.authorityKeyIdentifier.getId())).isNotNull();
        assertThat(leaf.getSerialNumber()).isPositive();
        assertThat(leaf.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
        assertThat(leaf.getNotBefore().toInstant())
                .isBetween(before.minus(Duration.ofMinutes(1)).minusSeconds(1), Instant.now().minus(Duration.ofMinutes(1)));
        assertThat(osaka.notAfter())
                .isBetween(before.plus(Duration.ofHours(24)).minusSeconds(1), Instant.now().plus(Duration.ofHours(24)));
        assertThat(osaka.privateKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void issueAndVerifyRoundTripGivesTheSpiffeId() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThat(CA.trustBundle().verify(osaka.certificateChain())).isEqualTo(osaka.spiffeId());
        assertThat(osaka.trustBundle().verify(CA.issueSite("kyoto").certificateChain()))
                .isEqualTo(SpiffeId.ofSite("mesh.test", "kyoto"));
    }

    @Test
    void issuesForTheRequestedValidity() {
        SiteCredentials osaka = CA.issueSite("osaka", Duration.ofHours(1));

        assertThat(Duration.between(osaka.certificate().getNotBefore().toInstant(), osaka.notAfter()))
                .isEqualTo(Duration.ofMinutes(61));
    }

    @Test
    void takesValidityPeriodsAndTimeFromTheBuilder() {
        Instant start = Instant.parse("2031-03-01T12:00:00Z");
        MeshCertificateAuthority ca = MeshCertificateAuthority.builder("mesh.test")
                .validity(Duration.ofDays(30))
                .siteCertificateValidity(Duration.ofDays(7))
                .clock(Clock.fixed(start, ZoneOffset.UTC))
                .build();
        SiteCredentials osaka = ca.issueSite("osaka");

        assertThat(ca.certificate().getNotBefore().toInstant()).isEqualTo(start.minus(Duration.ofMinutes(1)));
        assertThat(ca.certificate().getNotAfter().toInstant()).isEqualTo(start.plus(Duration.ofDays(30)));
        assertThat(osaka.certificate().getNotBefore().toInstant()).isEqualTo(start.minus(Duration.ofMinutes(1)));
        assertThat(osaka.notAfter()).isEqualTo(start.plus(Duration.ofDays(7)));
        assertThat(ca.trustBundle().verify(osaka.certificateChain(), start).site()).isEqualTo("osaka");
    }

    @Test
    void usesRandomSerialNumbers() {
        Set<BigInteger> serials = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            serials.add(CA.issueSite("osaka").certificate().getSerialNumber());
        }

        assertThat(serials).hasSize(20);
    }

    @Test
    void issuesConcurrently() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(8);
        try {
            List<Future<SiteCredentials>> futures = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String site = "site-" + i;
                futures.add(executor.submit(() -> CA.issueSite(site)));
            }
            Set<BigInteger> serials = new HashSet<>();
            for (int i = 0; i < futures.size(); i++) {
                SiteCredentials credentials = futures.get(i).get(30, TimeUnit.SECONDS);
                assertThat(CA.trustBundle().verify(credentials.certificateChain()).site()).isEqualTo("site-" + i);
                serials.add(credentials.certificate().getSerialNumber());
            }
            assertThat(serials).hasSize(32);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void roundTripsThroughPem() {
        MeshCertificateAuthority loaded = MeshCertificateAuthority.fromPem("mesh.test", CA.certificatePem(),
                CA.privateKeyPem());

        assertThat(loaded.certificate()).isEqualTo(CA.certificate());
        assertThat(loaded.certificatePem()).isEqualTo(CA.certificatePem());
        assertThat(loaded.privateKeyPem()).isEqualTo(CA.privateKeyPem());
        assertThat(loaded.trustBundle()).isEqualTo(CA.trustBundle());
        assertThat(CA.trustBundle().verify(loaded.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
    }

    @Test
    void writesPkcs8PrivateKeyPem() {
        assertThat(CA.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----").contains("-----END PRIVATE KEY-----");
        assertThat(CA.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
    }

    @Test
    void rejectsACaKeyThatDoesNotMatchTheCertificate() {
        String otherKey = MeshCertificateAuthority.create("mesh.test").privateKeyPem();

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", CA.certificatePem(), otherKey))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("CA private key (EC) does not match certificate CN=Isthmus mesh CA mesh.test "
                        + "(EC public key)");
    }

    @Test
    void rejectsASiteCertificateAsCaCertificate() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", osaka.certificateChainPem(),
                osaka.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=osaka is not a CA certificate (expected: basicConstraints CA=true)");
    }

    @Test
    void validatesSiteNamesAndPeriods() {
        Instant now = Instant.now();

        assertThatThrownBy(() -> CA.issueSite("Osaka!"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("site: \"Osaka!\" (expected: a lowercase DNS label)");
        assertThatThrownBy(() -> CA.issueSite("osaka", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("validity: PT0S (expected: > 0)");
        assertThatThrownBy(() -> CA.issueSite("osaka", now, now))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("notAfter: ");
        assertThatThrownBy(() -> MeshCertificateAuthority.builder("mesh.test").siteCertificateValidity(Duration.ofDays(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("siteCertificateValidity: PT-24H (expected: > 0)");
        assertThatThrownBy(() -> MeshCertificateAuthority.create("Mesh_Test"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("trustDomain: \"Mesh_Test\"");
    }

    @Test
    void neverPrintsItsKey() {
        assertThat(CA.toString()).contains("mesh.test").doesNotContain("PRIVATE");
    }
}
