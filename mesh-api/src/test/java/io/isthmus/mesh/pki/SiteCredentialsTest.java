package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.leaf;
import static io.isthmus.mesh.pki.TestCertificates.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.MeshException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteCredentialsTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @Test
    void roundTripsThroughPem() {
        SiteCredentials osaka = CA.issueSite("osaka");

        SiteCredentials read = SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), osaka.privateKeyPem(),
                osaka.trustBundle().toPem());

        assertThat(read).isEqualTo(osaka).hasSameHashCodeAs(osaka);
        assertThat(read.spiffeId()).isEqualTo(osaka.spiffeId());
        assertThat(read.certificateChain()).isEqualTo(osaka.certificateChain());
        assertThat(read.privateKeyPem()).isEqualTo(osaka.privateKeyPem());
        assertThat(read.trustBundle()).isEqualTo(CA.trustBundle());
        assertThat(read.notAfter()).isEqualTo(osaka.notAfter());
        assertThat(osaka.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----");
    }

    @Test
    void readsSec1EcPrivateKeys() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        String sec1 = sec1Pem(osaka);

        SiteCredentials read = SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), sec1,
                CA.trustBundle().toPem());

        assertThat(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(read).isEqualTo(osaka);
        assertThat(read.privateKeyPem()).isEqualTo(osaka.privateKeyPem());
    }

    @Test
    void rejectsSec1EcPrivateKeyWithoutCurve() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        // Bouncy Castle writes the JDK's key as SEC1 without the curve, which no reader can use.
        String withoutCurve = openSslPem(osaka.privateKey());

        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), withoutCurve,
                CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("private key: the \"EC PRIVATE KEY\" does not name its curve");
    }

    @Test
    void readsPkcs1RsaPrivateKeys() throws Exception {
        KeyPair rsa = TestCertificates.rsaKeyPair();
        X509Certificate certificate = leaf(CA, rsa, "osaka", uri("spiffe://mesh.test/site/osaka"));
        String pkcs1 = openSslPem(rsa.getPrivate());
        String chain = Pem.writeCertificates(List.of(certificate));

        SiteCredentials read = SiteCredentials.fromPem("mesh.test", chain, pkcs1, CA.trustBundle().toPem());

        assertThat(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(read.site()).isEqualTo("osaka");
        assertThat(read.privateKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(CA.trustBundle().verify(read.certificateChain()).site()).isEqualTo("osaka");
    }

    @Test
    void rejectsKeyCertMismatch() {
        SiteCredentials osaka = CA.issueSite("osaka");
        SiteCredentials kyoto = CA.issueSite("kyoto");

        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(),
                kyoto.privateKeyPem(), CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("private key (EC) does not match certificate CN=osaka (EC public key)");
    }

    @Test
    void rejectsAnRsaKeyForAnEcCertificate() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        String rsaKey = openSslPem(TestCertificates.rsaKeyPair().getPrivate());

        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), rsaKey,
                CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("private key (RSA) does not match certificate CN=osaka (EC public key)");
    }

    @Test
    void rejectsACertificateOfAnotherTrustDomain() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThatThrownBy(() -> SiteCredentials.fromPem("other.test", osaka.certificateChainPem(),
                osaka.privateKeyPem(), CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=osaka carries spiffe://mesh.test/site/osaka of trust domain mesh.test "
                        + "(expected: trust domain other.test)");
    }

    @Test
    void rejectsACertificateWithoutSpiffeId() throws Exception {
        KeyPair keys = TestCertificates.ecKeyPair();
        X509Certificate certificate = leaf(CA, keys, "osaka", TestCertificates.dns("osaka.mesh.test"));

        assertThatThrownBy(() -> SiteCredentials.of(keys.getPrivate(), List.of(certificate), CA.trustBundle()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate CN=osaka carries no SPIFFE id");
    }

    @Test
    void rejectsMissingOrEncryptedKeys() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        String encrypted = encryptedPem(osaka.privateKey());

        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(),
                osaka.certificateChainPem(), CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("private key: no private key PEM block found");
        assertThat(encrypted).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), encrypted,
                CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("private key: the key is encrypted");
    }

    @Test
    void readsCredentialsFromFiles(@TempDir Path dir) throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        Path chain = Files.writeString(dir.resolve("osaka.crt"), osaka.certificateChainPem());
        Path key = Files.writeString(dir.resolve("osaka.key"), osaka.privateKeyPem());
        Path bundle = Files.writeString(dir.resolve("ca.crt"), CA.trustBundle().toPem());

        assertThat(SiteCredentials.fromFiles("mesh.test", chain, key, bundle)).isEqualTo(osaka);
    }

    @Test
    void namesTheFileThatCannotBeRead(@TempDir Path dir) throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        Path chain = Files.writeString(dir.resolve("osaka.crt"), osaka.certificateChainPem());
        Path bundle = Files.writeString(dir.resolve("ca.crt"), CA.trustBundle().toPem());
        Path missing = dir.resolve("missing.key");

        assertThatThrownBy(() -> SiteCredentials.fromFiles("mesh.test", chain, missing, bundle))
                .isExactlyInstanceOf(MeshException.class)
                .hasMessageStartingWith("cannot read the private key file " + missing.toAbsolutePath());
    }

    @Test
    void namesTheFilesOfMismatchedCredentials(@TempDir Path dir) throws Exception {
        Path chain = Files.writeString(dir.resolve("osaka.crt"), CA.issueSite("osaka").certificateChainPem());
        Path key = Files.writeString(dir.resolve("kyoto.key"), CA.issueSite("kyoto").privateKeyPem(),
                StandardCharsets.US_ASCII);
        Path bundle = Files.writeString(dir.resolve("ca.crt"), CA.trustBundle().toPem());

        assertThatThrownBy(() -> SiteCredentials.fromFiles("mesh.test", chain, key, bundle))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("does not match certificate CN=osaka")
                .hasMessageContaining(key.toString());
    }

    @Test
    void replacesTheTrustBundleForRotation() {
        SiteCredentials osaka = CA.issueSite("osaka");
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle overlap = CA.trustBundle().withRoot(next.certificate());

        SiteCredentials rotated = osaka.withTrustBundle(overlap);

        assertThat(rotated.trustBundle()).isEqualTo(overlap);
        assertThat(rotated.certificateChain()).isEqualTo(osaka.certificateChain());
        assertThat(rotated).isNotEqualTo(osaka);
        assertThat(osaka.trustBundle()).isEqualTo(CA.trustBundle());
        assertThatThrownBy(() -> osaka.withTrustBundle(MeshCertificateAuthority.create("other.test").trustBundle()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("(expected: trust domain mesh.test)");
    }

    @Test
    void neverPrintsItsKey() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThat(osaka.toString()).contains("spiffe://mesh.test/site/osaka").doesNotContain("PRIVATE");
    }

    /** Writes a key the way OpenSSL's traditional format does: SEC1 for EC, PKCS#1 for RSA. */
    private static String openSslPem(PrivateKey key) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(key);
        }
        return out.toString();
    }

    /** Writes an EC key as OpenSSL's {@code ec} command does: SEC1 with the curve and the public key. */
    private static String sec1Pem(SiteCredentials credentials) throws Exception {
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(
                credentials.certificate().getPublicKey().getEncoded());
        ECPrivateKey sec1 = new ECPrivateKey(256, ((java.security.interfaces.ECPrivateKey) credentials.privateKey()).getS(),
                new DERBitString(publicKey.getPublicKeyData().getBytes()),
                new X962Parameters(SECObjectIdentifiers.secp256r1));
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
        }
        return out.toString();
    }

    private static String encryptedPem(PrivateKey key) throws Exception {
        OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(new BouncyCastleProvider())
                .setPassword("secret".toCharArray())
                .build();
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(new JcaPKCS8Generator(key, encryptor));
        }
        return out.toString();
    }
}
