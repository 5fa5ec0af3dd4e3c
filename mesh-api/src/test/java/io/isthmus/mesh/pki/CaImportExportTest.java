package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.MeshException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing a CA from PEM text and files, with clear refusals, and exporting the CA and its bundle. */
class CaImportExportTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @TempDir
    Path dir;

    @Test
    void importsFromFilesAndIssuesSitesTheOriginalTrusts() throws Exception {
        Path cert = Files.writeString(dir.resolve("ca.crt"), CA.certificatePem(), StandardCharsets.US_ASCII);
        Path key = Files.writeString(dir.resolve("ca.key"), CA.privateKeyPem(), StandardCharsets.US_ASCII);

        MeshCertificateAuthority loaded = MeshCertificateAuthority.fromFiles("mesh.test", cert, key);

        assertThat(loaded.certificate()).isEqualTo(CA.certificate());
        assertThat(loaded.siteCertificateValidity()).isEqualTo(Duration.ofHours(24));
        assertThat(CA.trustBundle().verify(loaded.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
    }

    @Test
    void importsWithTheBuildersClockAndSiteValidity() {
        // A day into the shared CA's validity, which starts when the test runs.
        Instant start = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).plus(Duration.ofDays(1));
        MeshCertificateAuthority loaded = MeshCertificateAuthority.builder("mesh.test")
                .clock(Clock.fixed(start, ZoneOffset.UTC))
                .siteCertificateValidity(Duration.ofHours(6))
                .fromPem(CA.certificatePem(), CA.privateKeyPem());

        assertThat(loaded.issueSite("nara").notAfter()).isEqualTo(start.plus(Duration.ofHours(6)));
    }

    @Test
    void exportsTheCaAndTheTrustBundleAsPem() {
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle both = CA.trustBundle().withRoot(next.certificate());

        assertThat(CA.trustBundlePem()).isEqualTo(CA.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(TrustBundle.fromPem("mesh.test", both.toPem())).isEqualTo(both);
        assertThat(TrustBundle.fromPem("mesh.test", CA.trustBundlePem())).isEqualTo(CA.trustBundle());
    }

    @Test
    void rejectsAnExpiredCa() {
        Instant longAgo = Instant.parse("2020-01-01T00:00:00Z");
        MeshCertificateAuthority old = MeshCertificateAuthority.builder("mesh.test")
                .clock(Clock.fixed(longAgo, ZoneOffset.UTC)).validity(Duration.ofDays(30)).build();

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", old.certificatePem(), old.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("CA certificate CN=Isthmus mesh CA mesh.test expired at 2020-01-31T00:00:00Z "
                        + "(valid from 2019-12-31T23:59:00Z to 2020-01-31T00:00:00Z, now ");
    }

    @Test
    void rejectsACaThatIsNotYetValid() {
        MeshCertificateAuthority future = MeshCertificateAuthority.builder("mesh.test")
                .clock(Clock.fixed(Instant.now().plus(Duration.ofDays(2)), ZoneOffset.UTC)).build();

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", future.certificatePem(),
                future.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("is not yet valid (valid from ");
    }

    @Test
    void rejectsTheRootOfAnotherTrustDomain() {
        MeshCertificateAuthority other = MeshCertificateAuthority.create("other.test");

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", other.certificatePem(),
                other.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("CA certificate CN=Isthmus mesh CA other.test is the root of trust domain other.test "
                        + "(expected: trust domain mesh.test)");
    }

    @Test
    void rejectsARootWhoseSpiffeIdNamesAnotherTrustDomain() throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        X509Certificate root = selfSignedCa(keys, "CN=Corp Root", TestCertificates.uri("spiffe://other.test"));

        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", Pem.writeCertificates(List.of(root)),
                Pem.writePrivateKey(keys.getPrivate())))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("CA certificate CN=Corp Root names spiffe://other.test of trust domain other.test "
                        + "(expected: trust domain mesh.test)");
    }

    @Test
    void acceptsARootMadeElsewhereThatNamesNoTrustDomain() throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        X509Certificate root = selfSignedCa(keys, "CN=Corp Root");

        MeshCertificateAuthority loaded = MeshCertificateAuthority.fromPem("mesh.test",
                Pem.writeCertificates(List.of(root)), Pem.writePrivateKey(keys.getPrivate()));

        assertThat(loaded.trustBundle().verify(loaded.issueSite("nara").certificateChain()).site()).isEqualTo("nara");
    }

    @Test
    void rejectsAMismatchedKeyNamingTheFiles() throws Exception {
        Path cert = Files.writeString(dir.resolve("ca.crt"), CA.certificatePem(), StandardCharsets.US_ASCII);
        Path key = Files.writeString(dir.resolve("other.key"),
                MeshCertificateAuthority.create("mesh.test").privateKeyPem(), StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> MeshCertificateAuthority.fromFiles("mesh.test", cert, key))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("CA private key (EC) does not match certificate CN=Isthmus mesh CA mesh.test (EC public key)"
                        + " (files: " + cert + ", " + key + ")");
    }

    @Test
    void rejectsASiteCertificateAsTheCaFromFiles() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        Path cert = Files.writeString(dir.resolve("osaka.crt"), osaka.certificateChainPem(), StandardCharsets.US_ASCII);
        Path key = Files.writeString(dir.resolve("osaka.key"), osaka.privateKeyPem(), StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> MeshCertificateAuthority.fromFiles("mesh.test", cert, key))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate CN=osaka is not a CA certificate (expected: basicConstraints CA=true)");
    }

    @Test
    void namesAMissingFile() throws Exception {
        Path cert = Files.writeString(dir.resolve("ca.crt"), CA.certificatePem(), StandardCharsets.US_ASCII);
        Path missing = dir.resolve("missing.key");

        assertThatThrownBy(() -> MeshCertificateAuthority.fromFiles("mesh.test", cert, missing))
                .isInstanceOf(MeshException.class)
                .hasMessageStartingWith("cannot read the CA private key file " + missing.toAbsolutePath());
    }

    @Test
    void rejectsTextWithoutAKeyOrCertificate() {
        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", "hello", CA.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("CA certificate: no \"CERTIFICATE\" PEM block found");
        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", CA.certificatePem(), CA.certificatePem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("CA private key: no private key PEM block found");
    }

    private static X509Certificate selfSignedCa(KeyPair keys, String subject,
            org.bouncycastle.asn1.x509.GeneralName... names) throws Exception {
        Instant now = Instant.now();
        X500Name name = new X500Name(subject);
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        if (names.length > 0) {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        }
        return new JcaX509CertificateConverter().getCertificate(builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").setProvider(new BouncyCastleProvider())
                        .build(keys.getPrivate())));
    }
}
