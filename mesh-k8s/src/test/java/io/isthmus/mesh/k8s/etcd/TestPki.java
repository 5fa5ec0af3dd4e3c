package io.isthmus.mesh.k8s.etcd;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObjectGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A throw-away CA with one server certificate (for {@code 127.0.0.1}) and one client certificate,
 * written as PEM files (certificates, PKCS#8 keys) for etcd and the store under test.
 */
final class TestPki {

    private static final SecureRandom RANDOM = new SecureRandom();

    final Path caFile;
    final Path serverCertFile;
    final Path serverKeyFile;
    final Path clientCertFile;
    final Path clientKeyFile;
    private final X509Certificate ca;
    private final X509Certificate client;
    private final PrivateKey clientKey;

    private TestPki(Path dir) throws GeneralSecurityException, OperatorCreationException, IOException {
        KeyPair caKeys = keyPair();
        ca = certificate("CN=isthmus test CA", caKeys, "CN=isthmus test CA", caKeys.getPrivate(), true, null);
        KeyPair serverKeys = keyPair();
        X509Certificate server = certificate("CN=etcd", serverKeys, "CN=isthmus test CA", caKeys.getPrivate(), false,
                KeyPurposeId.id_kp_serverAuth);
        KeyPair clientKeys = keyPair();
        client = certificate("CN=isthmus", clientKeys, "CN=isthmus test CA", caKeys.getPrivate(), false,
                KeyPurposeId.id_kp_clientAuth);
        clientKey = clientKeys.getPrivate();
        caFile = write(dir.resolve("ca.pem"), ca);
        serverCertFile = write(dir.resolve("server.pem"), server);
        serverKeyFile = write(dir.resolve("server-key.pem"), new JcaPKCS8Generator(serverKeys.getPrivate(), null));
        clientCertFile = write(dir.resolve("client.pem"), client);
        clientKeyFile = write(dir.resolve("client-key.pem"), new JcaPKCS8Generator(clientKey, null));
    }

    static TestPki create(Path dir) {
        try {
            return new TestPki(dir);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JDK TLS context that trusts the CA and presents the client certificate, e.g. for health checks. */
    SSLContext clientContext() throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        char[] password = "test".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("client", clientKey, password, new Certificate[] {client, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), RANDOM);
        return context;
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static X509Certificate certificate(String subject, KeyPair keys, String issuer, PrivateKey issuerKey,
            boolean isCa, @Nullable KeyPurposeId purpose) throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                new BigInteger(64, RANDOM), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(Duration.ofDays(1))), new X500Name(subject), keys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        if (isCa) {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            if (purpose != null) {
                builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private static Path write(Path file, Object pemObject) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            if (pemObject instanceof PemObjectGenerator) {
                writer.writeObject((PemObjectGenerator) pemObject);
            } else {
                writer.writeObject(pemObject);
            }
        }
        return Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
    }
}
