package io.isthmus.mesh.pki;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * PEM reading and writing of certificates and private keys. Certificates and keys read are JDK
 * objects (not Bouncy Castle ones), so that any TLS engine accepts them.
 */
final class Pem {

    private Pem() {}

    /**
     * Reads every {@code CERTIFICATE} block, in order; other blocks are skipped.
     *
     * @param what names the text in messages, e.g. "certificate chain"
     * @throws MeshIdentityException when the text is malformed or holds no certificate
     */
    static List<X509Certificate> readCertificates(String pem, String what) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof X509CertificateHolder) {
                    certificates.add(converter.getCertificate((X509CertificateHolder) object));
                }
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            // PEMParser reports malformed base64 or DER as IOException or an unchecked exception.
            throw new MeshIdentityException(what + ": malformed PEM (" + e.getMessage() + ")", e);
        }
        if (certificates.isEmpty()) {
            throw new MeshIdentityException(what + ": no \"CERTIFICATE\" PEM block found (expected: one or more "
                    + "-----BEGIN CERTIFICATE----- blocks)");
        }
        return certificates;
    }

    /**
     * Reads the first private key: PKCS#8 {@code PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY} or PKCS#1
     * {@code RSA PRIVATE KEY}. Encrypted keys are rejected.
     *
     * @param what names the text in messages, e.g. "private key"
     * @throws MeshIdentityException when no usable key is found
     */
    static PrivateKey readPrivateKey(String pem, String what) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(Certificates.PROVIDER);
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PrivateKeyInfo) {
                    return toJdkKey(converter.getPrivateKey((PrivateKeyInfo) object));
                }
                if (object instanceof PEMKeyPair) {
                    // Only the private half: SEC1 keys may omit the optional public key.
                    PrivateKeyInfo info = ((PEMKeyPair) object).getPrivateKeyInfo();
                    AlgorithmIdentifier algorithm = info.getPrivateKeyAlgorithm();
                    if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm.getAlgorithm())
                            && algorithm.getParameters() == null) {
                        throw new MeshIdentityException(what + ": the \"EC PRIVATE KEY\" does not name its curve "
                                + "(expected: SEC1 with curve parameters, as OpenSSL writes it, or PKCS#8 \"PRIVATE KEY\")");
                    }
                    return toJdkKey(converter.getPrivateKey(info));
                }
                if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new MeshIdentityException(what + ": the key is encrypted (expected: an unencrypted "
                            + "PEM private key, e.g. from `openssl pkcs8 -topk8 -nocrypt`)");
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MeshIdentityException) {
                throw (MeshIdentityException) e;
            }
            throw new MeshIdentityException(what + ": malformed PEM private key (" + e.getMessage() + ")", e);
        }
        throw new MeshIdentityException(what + ": no private key PEM block found (expected: PKCS#8 \"PRIVATE KEY\", "
                + "\"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\")");
    }

    /**
     * Converts a key read by Bouncy Castle into the JDK's form, so that TLS engines accept it and its
     * PKCS#8 encoding is the same as that of a JDK-generated key; keeps the key as it is when the JDK
     * does not know the algorithm.
     */
    private static PrivateKey toJdkKey(PrivateKey key) {
        try {
            if (key instanceof ECPrivateKey) {
                ECPrivateKey ec = (ECPrivateKey) key;
                return KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(ec.getS(), ec.getParams()));
            }
            return KeyFactory.getInstance(key.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            return key;
        }
    }

    /** Writes certificates as {@code CERTIFICATE} blocks. */
    static String writeCertificates(List<X509Certificate> certificates) {
        List<PemObject> objects = new ArrayList<>(certificates.size());
        for (X509Certificate certificate : certificates) {
            try {
                objects.add(new PemObject("CERTIFICATE", certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new MeshException("cannot encode certificate " + Certificates.describe(certificate) + ": "
                        + e.getMessage(), e);
            }
        }
        return write(objects);
    }

    /** Writes a key as a PKCS#8 {@code PRIVATE KEY} block. */
    static String writePrivateKey(PrivateKey key) {
        byte[] encoded = key.getEncoded();
        if (encoded == null || !"PKCS#8".equals(key.getFormat())) {
            throw new MeshException("private key (" + key.getAlgorithm() + ", format " + key.getFormat()
                    + ") cannot be written as PEM (expected: a PKCS#8-encodable key, not one held in hardware)");
        }
        return write(List.of(new PemObject("PRIVATE KEY", encoded)));
    }

    private static String write(List<PemObject> objects) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            for (PemObject object : objects) {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            // A StringWriter does not fail; this is for the checked signature only.
            throw new MeshException("cannot write PEM: " + e.getMessage(), e);
        }
        return out.toString();
    }
}
