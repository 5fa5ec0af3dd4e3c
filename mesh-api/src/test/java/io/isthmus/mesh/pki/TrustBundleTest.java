package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.leaf;
import static io.isthmus.mesh.pki.TestCertificates.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrustBundleTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @Test
    void verifiesAnIssuedChainToItsSpiffeId() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThat(CA.trustBundle().verify(osaka.certificateChain())).isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"));
    }

    @Test
    void acceptsAChainThatEndsWithTheRoot() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThat(CA.trustBundle().verify(List.of(osaka.certificate(), CA.certificate())).site()).isEqualTo("osaka");
    }

    @Test
    void rejectsChainFromAnotherCa() {
        // Same trust domain and same CA name: only the key tells them apart.
        SiteCredentials rogue = MeshCertificateAuthority.create("mesh.test").issueSite("osaka");

        assertThatThrownBy(() -> CA.trustBundle().verify(rogue.certificateChain()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate CN=osaka (issuer CN=Isthmus mesh CA mesh.test) is not issued by a "
                        + "root of the mesh.test trust bundle [CN=Isthmus mesh CA mesh.test (serial "
                        + CA.certificate().getSerialNumber().toString(16) + ")]");
    }

    @Test
    void rejectsAChainThatIncludesAnotherCasRoot() {
        MeshCertificateAuthority rogueCa = MeshCertificateAuthority.create("mesh.test");
        SiteCredentials rogue = rogueCa.issueSite("osaka");

        assertThatThrownBy(() -> CA.trustBundle().verify(List.of(rogue.certificate(), rogueCa.certificate())))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("is not issued by a root of the mesh.test trust bundle");
    }

    @Test
    void rejectsExpiredCertificateWithItsDates() {
        Instant now = Instant.parse("2030-01-02T00:00:00Z");
        Instant notBefore = Instant.parse("2029-01-01T00:00:00Z");
        Instant notAfter = Instant.parse("2030-01-01T00:00:00Z");
        MeshCertificateAuthority ca = caValidFrom(Instant.parse("2028-01-01T00:00:00Z"));
        SiteCredentials expired = ca.issueSite("osaka", notBefore, notAfter);

        assertThatThrownBy(() -> ca.trustBundle().verify(expired.certificateChain(), now))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=osaka expired at 2030-01-01T00:00:00Z (valid from 2029-01-01T00:00:00Z to "
                        + "2030-01-01T00:00:00Z, checked at 2030-01-02T00:00:00Z)");
    }

    @Test
    void rejectsNotYetValidCertificateWithItsDates() {
        Instant now = Instant.parse("2029-06-01T00:00:00Z");
        MeshCertificateAuthority ca = caValidFrom(Instant.parse("2028-01-01T00:00:00Z"));
        SiteCredentials future = ca.issueSite("osaka", Instant.parse("2029-07-01T00:00:00Z"),
                Instant.parse("2029-08-01T00:00:00Z"));

        assertThatThrownBy(() -> ca.trustBundle().verify(future.certificateChain(), now))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=osaka is not yet valid (valid from 2029-07-01T00:00:00Z to "
                        + "2029-08-01T00:00:00Z, checked at 2029-06-01T00:00:00Z)");
        assertThat(ca.trustBundle().verify(future.certificateChain(), Instant.parse("2029-07-15T00:00:00Z")).site())
                .isEqualTo("osaka");
    }

    @Test
    void rejectsExpiredAndNotYetValidCertificatesAtTheCurrentTime() {
        Instant now = Instant.now();
        SiteCredentials expired = CA.issueSite("osaka", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
        SiteCredentials future = CA.issueSite("osaka", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)));

        assertThatThrownBy(() -> CA.trustBundle().verify(expired.certificateChain()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("expired at");
        assertThatThrownBy(() -> CA.trustBundle().verify(future.certificateChain()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("is not yet valid");
    }

    @Test
    void rejectsAChainOfAnExpiredRoot() {
        MeshCertificateAuthority shortLived = MeshCertificateAuthority.builder("mesh.test")
                .validity(Duration.ofDays(1))
                .clock(Clock.fixed(Instant.parse("2029-01-01T00:00:00Z"), ZoneOffset.UTC))
                .build();
        SiteCredentials osaka = shortLived.issueSite("osaka", Duration.ofDays(30));

        assertThatThrownBy(() -> shortLived.trustBundle().verify(osaka.certificateChain(),
                Instant.parse("2029-01-10T00:00:00Z")))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate CN=Isthmus mesh CA mesh.test expired at 2029-01-02T00:00:00Z");
    }

    @Test
    void rejectsWrongTrustDomain() {
        MeshCertificateAuthority other = MeshCertificateAuthority.create("other.test");
        // A bundle that trusts the other CA's root, but for mesh.test identities only.
        TrustBundle mixed = TrustBundle.of("mesh.test", List.of(CA.certificate(), other.certificate()));

        assertThatThrownBy(() -> mixed.verify(other.issueSite("osaka").certificateChain()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=osaka carries spiffe://other.test/site/osaka of trust domain other.test "
                        + "(expected: trust domain mesh.test)");
    }

    @Test
    void rejectsTrustedCertificateWithoutSpiffeId() throws Exception {
        X509Certificate none = leaf(CA, TestCertificates.dns("osaka.mesh.test"));

        assertThatThrownBy(() -> CA.trustBundle().verify(List.of(none)))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("certificate CN=odd carries no SPIFFE id");
    }

    @Test
    void rejectsTrustedCertificateWithTwoSpiffeIds() throws Exception {
        X509Certificate two = leaf(CA, uri("spiffe://mesh.test/site/osaka"), uri("spiffe://mesh.test/site/kyoto"));

        assertThatThrownBy(() -> CA.trustBundle().verify(List.of(two)))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("certificate CN=odd carries 2 SPIFFE ids");
    }

    @Test
    void rejectsTheRootItselfAsAPeerCertificate() {
        assertThatThrownBy(() -> CA.trustBundle().verify(List.of(CA.certificate())))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=Isthmus mesh CA mesh.test is a root of the mesh.test trust bundle "
                        + "(expected: a site certificate)");
    }

    @Test
    void rejectsAnEmptyChain() {
        assertThatThrownBy(() -> CA.trustBundle().verify(List.of()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate chain is empty");
    }

    @Test
    void trustBundleWithTwoRootsVerifiesChainsOfBoth() {
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle overlap = CA.trustBundle().withRoot(next.certificate());

        assertThat(overlap.roots()).containsExactly(CA.certificate(), next.certificate());
        assertThat(overlap.verify(CA.issueSite("osaka").certificateChain()).site()).isEqualTo("osaka");
        assertThat(overlap.verify(next.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
    }

    @Test
    void withoutRootDropsTheOldRootAfterRotation() {
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle overlap = CA.trustBundle().withRoot(next.certificate());

        TrustBundle afterRotation = overlap.withoutRoot(CA.certificate());

        assertThat(afterRotation.roots()).containsExactly(next.certificate());
        assertThat(afterRotation.verify(next.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
        assertThatThrownBy(() -> afterRotation.verify(CA.issueSite("osaka").certificateChain()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("is not issued by a root of the mesh.test trust bundle");
        assertThat(overlap.roots()).as("the original bundle is unchanged").hasSize(2);
    }

    @Test
    void refusesToDropTheLastRoot() {
        assertThatThrownBy(() -> CA.trustBundle().withoutRoot(CA.certificate()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("root: CN=Isthmus mesh CA mesh.test (expected: not the last root of the mesh.test trust "
                        + "bundle)");
    }

    @Test
    void addingAKnownRootOrDroppingAnUnknownOneChangesNothing() {
        TrustBundle bundle = CA.trustBundle();
        X509Certificate stranger = MeshCertificateAuthority.create("mesh.test").certificate();

        assertThat(bundle.withRoot(CA.certificate())).isSameAs(bundle);
        assertThat(bundle.withoutRoot(stranger)).isSameAs(bundle);
    }

    @Test
    void roundTripsThroughPem() {
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle bundle = CA.trustBundle().withRoot(next.certificate());

        TrustBundle read = TrustBundle.fromPem("mesh.test", bundle.toPem());

        assertThat(read).isEqualTo(bundle).hasSameHashCodeAs(bundle);
        assertThat(bundle.toPem()).startsWith("-----BEGIN CERTIFICATE-----").contains("-----END CERTIFICATE-----");
    }

    @Test
    void rejectsPemWithoutCertificate() {
        assertThatThrownBy(() -> TrustBundle.fromPem("mesh.test", "not a certificate"))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("trust bundle of mesh.test: no \"CERTIFICATE\" PEM block found");
        assertThatThrownBy(() -> TrustBundle.fromPem("mesh.test",
                "-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n"))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("trust bundle of mesh.test: malformed PEM");
    }

    @Test
    void validatesItsArguments() {
        assertThatThrownBy(() -> TrustBundle.of("mesh.test", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("roots: [] (expected: at least one root certificate)");
        assertThatThrownBy(() -> TrustBundle.of("Mesh", List.of(CA.certificate())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("trustDomain: \"Mesh\"");
    }

    private static MeshCertificateAuthority caValidFrom(Instant start) {
        return MeshCertificateAuthority.builder("mesh.test")
                .clock(Clock.fixed(start, ZoneOffset.UTC))
                .build();
    }
}
