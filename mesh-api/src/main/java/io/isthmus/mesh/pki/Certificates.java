package io.isthmus.mesh.pki;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/** Key generation, certificate signing and the checks shared by the PKI types. */
final class Certificates {

    /**
     * Bouncy Castle, passed explicitly to the builders that need it: it is never registered with
     * {@link java.security.Security}, so the JVM's provider list stays the application's.
     */
    static final BouncyCastleProvider PROVIDER = new BouncyCastleProvider();

    static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

    private static final SecureRandom RANDOM = new SecureRandom();

    /** The {@code GeneralName} tag of a URI in {@link X509Certificate#getSubjectAlternativeNames()}. */
    private static final int URI_NAME = 6;

    private Certificates() {}

    /** Returns a new EC P-256 key pair from the JDK's provider. */
    static KeyPair newEcKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new MeshException("cannot generate an EC P-256 key pair: " + e.getMessage(), e);
        }
    }

    /** Returns a random positive serial number of at most 128 bits (RFC 5280 allows up to 20 octets). */
    static BigInteger randomSerial() {
        BigInteger serial;
        do {
            serial = new BigInteger(128, RANDOM);
        } while (serial.signum() == 0);
        return serial;
    }

    /**
     * Signs a certificate with SHA256withECDSA and returns it as a JDK certificate object, the kind
     * every TLS engine and {@code CertPathValidator} handles.
     */
    static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey) {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).setProvider(PROVIDER)
                    .build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException | CertificateException e) {
            throw new MeshException("cannot sign a certificate: " + e.getMessage(), e);
        }
    }

    /** Names a certificate in messages: its subject, or its serial number when the subject is empty. */
    static String describe(X509Certificate certificate) {
        String subject = certificate.getSubjectX500Principal().getName();
        return subject.isEmpty() ? "with serial " + certificate.getSerialNumber().toString(16) : subject;
    }

    /**
     * Checks that {@code key} is the private half of the certificate's public key, by signing a probe
     * and verifying the signature: this works for every algorithm without comparing key internals.
     *
     * @param what names the key in the message, e.g. "private key" or "CA private key"
     * @throws MeshIdentityException when it is not
     */
    static void checkKeyMatches(PrivateKey key, X509Certificate certificate, String what) {
        String mismatch = what + " (" + key.getAlgorithm() + ") does not match certificate " + describe(certificate)
                + " (" + certificate.getPublicKey().getAlgorithm() + " public key)";
        String algorithm = signatureAlgorithm(key.getAlgorithm());
        try {
            byte[] probe = "isthmus key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new MeshIdentityException(mismatch);
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new MeshIdentityException(mismatch + ": " + e.getMessage(), e);
        }
    }

    /** Returns the URI subject alternative names of a certificate, in order; none when it has none. */
    static List<String> uriNames(X509Certificate certificate) {
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() >= 2 && Integer.valueOf(URI_NAME).equals(name.get(0))
                            && name.get(1) instanceof String) {
                        uris.add((String) name.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new MeshIdentityException("certificate " + describe(certificate)
                    + ": malformed subjectAlternativeName extension (" + e.getMessage() + ")", e);
        }
        return uris;
    }

    /** Returns the first CN of the certificate's subject, or {@code null} when it has none. */
    static @Nullable String commonName(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] rdns = subject.getRDNs(BCStyle.CN);
        if (rdns.length == 0 || rdns[0].getFirst() == null) {
            return null;
        }
        return IETFUtils.valueToString(rdns[0].getFirst().getValue());
    }

    /** Reads a PEM file as text; the message of a failure names the file and what it should hold. */
    static String readFile(Path path, String what) {
        try {
            return Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new MeshException("cannot read the " + what + " file " + path.toAbsolutePath() + ": " + e, e);
        }
    }

    /** Returns the signature algorithm for signing with a key of the given algorithm. */
    static String signatureAlgorithmFor(String keyAlgorithm) {
        return signatureAlgorithm(keyAlgorithm);
    }

    private static String signatureAlgorithm(String keyAlgorithm) {
        switch (keyAlgorithm) {
            case "EC":
            case "ECDSA":
                return "SHA256withECDSA";
            case "EdDSA":
            case "Ed25519":
            case "Ed448":
                return keyAlgorithm;
            default:
                return "SHA256with" + keyAlgorithm;
        }
    }
}
