package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.OutputStream;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Key stores for an HTTPS WireMock admin API: a server certificate for 127.0.0.1 signed by a mesh CA
 * (what a daemon's admin listener would present), and trust stores for client certificates.
 */
final class AdminTls {

    /** The password of every key store written here. */
    public static final String PASSWORD = "changeit";

    private AdminTls() {}

    /**
     * Writes a PKCS#12 key store with a certificate for {@code 127.0.0.1} and {@code localhost}, issued by
     * the CA.
     *
     * @param ca the issuing CA
     * @param dir where to write it
     * @return the key store's path
     * @throws Exception when writing fails
     */
    public static Path serverKeyStoreFor127001(MeshCertificateAuthority ca, Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(),
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(Duration.ofDays(1))), new X500Name("CN=admin"), keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(privateKey(ca.privateKeyPem()))));
        return keyStore(keys.getPrivate(), new Certificate[] {certificate, ca.certificate()}, dir.resolve("admin-server.p12"));
    }

    /**
     * Writes a PKCS#12 key store with a site's key and certificate (whose names do not include 127.0.0.1).
     *
     * @param site the site's credentials
     * @param dir where to write it
     * @return the key store's path
     * @throws Exception when writing fails
     */
    public static Path siteKeyStore(SiteCredentials site, Path dir) throws Exception {
        return keyStore(site.privateKey(), site.certificateChain().toArray(new Certificate[0]),
                dir.resolve("site-" + site.site() + ".p12"));
    }

    /**
     * Writes a PKCS#12 trust store holding the CA's certificate.
     *
     * @param ca the CA
     * @param dir where to write it
     * @return the trust store's path
     * @throws Exception when writing fails
     */
    public static Path trustStore(MeshCertificateAuthority ca, Path dir) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca.certificate());
        Path path = dir.resolve("trust-" + ca.trustDomain() + ".p12");
        try (OutputStream out = Files.newOutputStream(path)) {
            store.store(out, PASSWORD.toCharArray());
        }
        return path;
    }

    private static Path keyStore(PrivateKey key, Certificate[] chain, Path path) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", key, PASSWORD.toCharArray(), chain);
        try (OutputStream out = Files.newOutputStream(path)) {
            store.store(out, PASSWORD.toCharArray());
        }
        return path;
    }

    private static PrivateKey privateKey(String pem) throws Exception {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            return object instanceof PEMKeyPair ? converter.getPrivateKey(((PEMKeyPair) object).getPrivateKeyInfo())
                    : converter.getPrivateKey((PrivateKeyInfo) object);
        }
    }
}
