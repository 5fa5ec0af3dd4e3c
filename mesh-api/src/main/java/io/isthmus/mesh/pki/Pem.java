package io.isthmus.mesh.pki;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;

/** PEM reading and writing of certificates and keys. */
final class Pem {

    static final BouncyCastleProvider PROVIDER = new BouncyCastleProvider();

    private Pem() {}

    static List<X509Certificate> readCertificates(String pem, String what) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter().setProvider(PROVIDER);
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof X509CertificateHolder) {
                    certificates.add(converter.getCertificate((X509CertificateHolder) object));
                }
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new MeshIdentityException(what + ": not a PEM certificate list (" + e.getMessage() + ")", e);
        }
        if (certificates.isEmpty()) {
            throw new MeshIdentityException(what + ": no \"CERTIFICATE\" block found (expected: PEM certificates)");
        }
        return certificates;
    }

    static PrivateKey readPrivateKey(String pem, String what) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(PROVIDER);
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof PrivateKeyInfo) {
                    return toJdkKey(converter.getPrivateKey((PrivateKeyInfo) object));
                }
                if (object instanceof PEMKeyPair) {
                    return toJdkKey(converter.getKeyPair((PEMKeyPair) object).getPrivate());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new MeshIdentityException(what + ": not a PEM private key (" + e.getMessage() + ")", e);
        }
        throw new MeshIdentityException(what + ": no private key block found (expected: PKCS#8 \"PRIVATE KEY\", "
                + "\"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\")");
    }

    /** Re-encodes a key with the JDK's providers so that every TLS engine accepts it. */
    private static PrivateKey toJdkKey(PrivateKey key) {
        try {
            String algorithm = key.getAlgorithm().equals("ECDSA") ? "EC" : key.getAlgorithm();
            return java.security.KeyFactory.getInstance(algorithm)
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            return key;
        }
    }

    static String write(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object object : objects) {
                if (object instanceof PrivateKey) {
                    writer.writeObject(new PemObject("PRIVATE KEY", ((PrivateKey) object).getEncoded()));
                } else {
                    writer.writeObject(object);
                }
            }
        } catch (IOException e) {
            throw new MeshException("cannot write PEM: " + e.getMessage(), e);
        }
        return out.toString();
    }
}
