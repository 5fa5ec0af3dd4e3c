package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.dns;
import static io.isthmus.mesh.pki.TestCertificates.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;

/** PKCS#10 requests: made and read back, issued from, and refused when forged or contradictory. */
class CertificateSigningRequestTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");
    private static final SpiffeId NARA = SpiffeId.ofSite("mesh.test", "nara");

    @Test
    void roundTripsThroughPemAndIssuesACertificateForTheRequestersKey() throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        String pem = CertificateSigningRequest.create(NARA, keys).toPem();

        CertificateSigningRequest csr = CertificateSigningRequest.fromPem(pem);
        X509Certificate certificate = CA.issueCertificate(csr);

        assertThat(pem).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
        assertThat(csr.spiffeId()).isEqualTo(NARA);
        assertThat(csr.site()).isEqualTo("nara");
        assertThat(csr.publicKey()).isEqualTo(keys.getPublic());
        assertThat(certificate.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(CA.trustBundle().verify(List.of(certificate))).isEqualTo(NARA);
        assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
        // The site's key and the issued certificate make working credentials.
        assertThat(SiteCredentials.of(keys.getPrivate(), List.of(certificate), CA.trustBundle()).site())
                .isEqualTo("nara");
    }

    @Test
    void acceptsARequestMadeByOpenSsl() throws Exception {
        // openssl req -new -key nara.key -subj /CN=nara -addext "subjectAltName=URI:spiffe://mesh.test/site/nara,
        //     DNS:nara.mesh.test" -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,..."
        String csrPem = resource("openssl-nara.csr");
        String keyPem = resource("openssl-nara.key");

        CertificateSigningRequest csr = CertificateSigningRequest.fromPem(csrPem);
        X509Certificate certificate = CA.issueCertificate(csr);

        assertThat(csr.spiffeId()).isEqualTo(NARA);
        SiteCredentials credentials = SiteCredentials.fromPem("mesh.test", Pem.writeCertificates(List.of(certificate)),
                keyPem, CA.trustBundlePem());
        assertThat(credentials.site()).isEqualTo("nara");
    }

    private static String resource(String name) throws Exception {
        try (java.io.InputStream in = CertificateSigningRequestTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    void acceptsAnRsaRequest() throws Exception {
        KeyPair keys = TestCertificates.rsaKeyPair();
        CertificateSigningRequest csr = CertificateSigningRequest.fromPem(
                CertificateSigningRequest.create(NARA, keys).toPem());

        assertThat(CA.issueCertificate(csr).getPublicKey()).isEqualTo(keys.getPublic());
    }

    @Test
    void refusesARequestSignedWithAnotherKeyThanTheOneItCarries() throws Exception {
        // Someone asks for a certificate for a public key whose private half they do not hold.
        KeyPair victim = TestCertificates.ecKeyPair();
        KeyPair attacker = TestCertificates.ecKeyPair();
        String pem = pem(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=nara"), victim.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, sans(uri(NARA.toString())))
                .build(signer(attacker)));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request with subject CN=nara: its signature does not verify with its "
                        + "public key (expected: signed by the private key of the public key it carries)");
    }

    @Test
    void refusesARequestWhoseCommonNameNamesAnotherSite() throws Exception {
        String pem = request("CN=kyoto", uri(NARA.toString()));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request for spiffe://mesh.test/site/nara has the subject CN=kyoto "
                        + "(expected: CN=nara or no CN)");
    }

    @Test
    void refusesARequestForTwoIdentities() throws Exception {
        String pem = request("CN=nara", uri(NARA.toString()), uri("spiffe://mesh.test/site/kyoto"));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request with subject CN=nara asks for 2 SPIFFE ids "
                        + "[spiffe://mesh.test/site/nara, spiffe://mesh.test/site/kyoto] (expected: exactly one URI SAN "
                        + "spiffe://<trust-domain>/site/<site>)");
    }

    @Test
    void refusesAMalformedSpiffeId() throws Exception {
        String pem = request("CN=nara", uri("spiffe://mesh.test/workload/nara"));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request with subject CN=nara asks for a malformed SPIFFE id "
                        + "spiffe://mesh.test/workload/nara (expected: spiffe://<trust-domain>/site/<site>)");
    }

    @Test
    void refusesARequestWithoutAnIdentity() throws Exception {
        String pem = request("CN=nara");

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate signing request with subject CN=nara asks for no SPIFFE id");
    }

    @Test
    void refusesADnsNameOfAnotherSiteAndOtherKindsOfNames() throws Exception {
        String otherDns = request("CN=nara", uri(NARA.toString()), dns("kyoto.mesh.test"));
        String ip = request("CN=nara", uri(NARA.toString()), new GeneralName(GeneralName.iPAddress, "10.0.0.1"));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(otherDns))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request for spiffe://mesh.test/site/nara also asks for the DNS name "
                        + "kyoto.mesh.test (expected: only nara.mesh.test)");
        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(ip))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("asks for the subject alternative name");
    }

    @Test
    void refusesARequestForACaCertificate() throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(uri(NARA.toString())));
        extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        String pem = pem(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=nara"), keys.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                .build(signer(keys)));

        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(pem))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request for spiffe://mesh.test/site/nara asks for a CA certificate "
                        + "(expected: a site certificate, basicConstraints CA=false)");
    }

    @Test
    void refusesTextThatIsNoRequest() {
        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(CA.certificatePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request: no \"CERTIFICATE REQUEST\" PEM block found (expected: "
                        + "-----BEGIN CERTIFICATE REQUEST-----)");
        assertThatThrownBy(() -> CertificateSigningRequest.fromPem(
                "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGRlcg==\n-----END CERTIFICATE REQUEST-----\n"))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate signing request: malformed PEM");
    }

    @Test
    void caRefusesARequestOfAnotherTrustDomain() throws Exception {
        CertificateSigningRequest csr = CertificateSigningRequest.create(SpiffeId.ofSite("other.test", "nara"),
                TestCertificates.ecKeyPair());

        assertThatThrownBy(() -> CA.issueCertificate(csr))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate signing request for spiffe://other.test/site/nara names trust domain "
                        + "other.test (expected: trust domain mesh.test)");
    }

    /** A request signed by its own key, with the given subject and SANs, built directly with Bouncy Castle. */
    static String request(String subject, GeneralName... names) throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        JcaPKCS10CertificationRequestBuilder builder =
                new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), keys.getPublic());
        if (names.length > 0) {
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, sans(names));
        }
        return pem(builder.build(signer(keys)));
    }

    private static org.bouncycastle.asn1.x509.Extensions sans(GeneralName... names) throws Exception {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        return extensions.generate();
    }

    private static org.bouncycastle.operator.ContentSigner signer(KeyPair keys) throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").setProvider(new BouncyCastleProvider())
                .build(keys.getPrivate());
    }

    private static String pem(PKCS10CertificationRequest request) throws Exception {
        java.io.StringWriter out = new java.io.StringWriter();
        try (org.bouncycastle.util.io.pem.PemWriter writer = new org.bouncycastle.util.io.pem.PemWriter(out)) {
            writer.writeObject(new PemObject("CERTIFICATE REQUEST", request.getEncoded()));
        }
        return out.toString();
    }
}
