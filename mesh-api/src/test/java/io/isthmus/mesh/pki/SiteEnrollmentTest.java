package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The site checks what the CA side sends back before it uses it. */
class SiteEnrollmentTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @Test
    void completesWithACertificateForItsKeyAndIdentity() {
        SiteEnrollment nara = SiteEnrollment.create("mesh.test", "nara");
        CertificateSigningRequest csr = CertificateSigningRequest.fromPem(nara.csrPem());

        SiteCredentials credentials = nara.complete(
                EnrollmentResponse.of(List.of(CA.issueCertificate(csr)), CA.trustBundle()));

        assertThat(credentials.site()).isEqualTo("nara");
        assertThat(credentials.certificate().getPublicKey()).isEqualTo(nara.publicKey());
        assertThat(nara.toString()).isEqualTo("SiteEnrollment{spiffe://mesh.test/site/nara}");
    }

    @Test
    void refusesACertificateForAnotherKey() {
        SiteEnrollment nara = SiteEnrollment.create("mesh.test", "nara");
        SiteEnrollment other = SiteEnrollment.create("mesh.test", "nara");
        EnrollmentResponse forOther = EnrollmentResponse.of(List.of(CA.issueCertificate(other.csr())),
                CA.trustBundle());

        assertThatThrownBy(() -> nara.complete(forOther.certificateChainPem(), forOther.trustBundlePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=nara for spiffe://mesh.test/site/nara is not for the key of this "
                        + "enrollment (expected: the public key of the request)");
    }

    @Test
    void refusesACertificateForAnotherSite() {
        SiteEnrollment nara = SiteEnrollment.create("mesh.test", "nara");
        SiteCredentials kyoto = CA.issueSite("kyoto");

        assertThatThrownBy(() -> nara.complete(kyoto.certificateChainPem(), CA.trustBundlePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=kyoto carries spiffe://mesh.test/site/kyoto (expected: "
                        + "spiffe://mesh.test/site/nara, as requested)");
    }

    @Test
    void refusesACertificateThatItsBundleDoesNotTrust() {
        SiteEnrollment nara = SiteEnrollment.create("mesh.test", "nara");
        MeshCertificateAuthority rogue = MeshCertificateAuthority.create("mesh.test");
        String chain = Pem.writeCertificates(List.of(rogue.issueCertificate(nara.csr())));

        assertThatThrownBy(() -> nara.complete(chain, CA.trustBundlePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("is not issued by a root of the mesh.test trust bundle");
    }

    @Test
    void refusesMalformedAnswers() {
        SiteEnrollment nara = SiteEnrollment.create("mesh.test", "nara");

        assertThatThrownBy(() -> nara.complete("garbage", CA.trustBundlePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate chain: no \"CERTIFICATE\" PEM block found");
    }
}
