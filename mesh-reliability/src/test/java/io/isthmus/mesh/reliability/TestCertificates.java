package io.isthmus.mesh.reliability;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Leaf certificates the mesh CA would never issue — no SPIFFE id, two of them, another trust
 * domain — built with Bouncy Castle and signed with the mesh CA's own key, so that the chain itself
 * verifies and only the router's identity checks can refuse them.
 */
final class TestCertificates {

    /** A key and the leaf certificate that carries its public half. */
    record Leaf(PrivateKey key, X509Certificate certificate) {}

    private TestCertificates() {}

    /**
     * Issues a leaf signed by {@code ca}'s key, valid from an hour ago for a day, with the given URI
     * subject alternative names and the extensions of a site certificate.
     */
    static Leaf signedByMeshCa(MeshCertificateAuthority ca, String commonName, List<String> uris) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            Instant now = Instant.now();
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(),
                    new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                    new X500Name("CN=" + commonName), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            utils.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            utils.createAuthorityKeyIdentifier(ca.certificate()));
            GeneralName[] names = new GeneralName[uris.size() + 1];
            for (int i = 0; i < uris.size(); i++) {
                names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris.get(i));
            }
            names[uris.size()] = new GeneralName(GeneralName.dNSName, commonName);
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            PrivateKey caKey = caPrivateKey(ca);
            String algorithm = "EC".equals(caKey.getAlgorithm()) || "ECDSA".equals(caKey.getAlgorithm())
                    ? "SHA256withECDSA" : "SHA256withRSA";
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(caKey)));
            certificate.verify(ca.certificate().getPublicKey());
            return new Leaf(keys.getPrivate(), certificate);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot build a test certificate for " + commonName, e);
        }
    }

    private static PrivateKey caPrivateKey(MeshCertificateAuthority ca) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(ca.privateKeyPem()))) {
            Object pem = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (pem instanceof PEMKeyPair) {
                return converter.getKeyPair((PEMKeyPair) pem).getPrivate();
            }
            if (pem instanceof PrivateKeyInfo) {
                return converter.getPrivateKey((PrivateKeyInfo) pem);
            }
            throw new IllegalStateException("the mesh CA's key PEM holds " + pem);
        }
    }
}
