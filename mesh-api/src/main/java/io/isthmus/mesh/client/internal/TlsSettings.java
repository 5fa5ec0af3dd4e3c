package io.isthmus.mesh.client.internal;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SpiffeId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.jspecify.annotations.Nullable;

/** Builds the JDK TLS context of an admin API connection from PEM texts. */
public final class TlsSettings {

    private static final char[] NO_PASSWORD = new char[0];

    private TlsSettings() {}

    /**
     * Returns a TLS 1.2/1.3 context that trusts {@code trustedPem} (or the JDK's trust store, or anything
     * when {@code insecure}) and presents the client credentials when given.
     *
     * @param trustedPem the trusted certificates, or {@code null} for the JDK's trust store
     * @param clientChainPem the client certificate chain, or {@code null}
     * @param clientKeyPem the client private key, or {@code null}
     * @param insecure whether to accept any server certificate for any host
     * @param serverIdentity when not null, the SPIFFE id the server certificate must carry; the host name
     *     is then not checked
     * @return the context
     * @throws MeshIdentityException when a PEM text is malformed or the key does not match the certificate
     */
    public static SSLContext sslContext(@Nullable String trustedPem, @Nullable String clientChainPem,
            @Nullable String clientKeyPem, boolean insecure, @Nullable SpiffeId serverIdentity) {
        try {
            TrustManager[] trustManagers = null;
            if (insecure) {
                trustManagers = new TrustManager[] {new TrustAll()};
            } else if (trustedPem != null) {
                KeyStore trustStore = KeyStore.getInstance("PKCS12");
                trustStore.load(null, null);
                List<X509Certificate> roots = certificates(trustedPem, "trusted certificates");
                for (int i = 0; i < roots.size(); i++) {
                    trustStore.setCertificateEntry("trusted-" + i, roots.get(i));
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trustStore);
                trustManagers = tmf.getTrustManagers();
                if (serverIdentity != null) {
                    trustManagers = new TrustManager[] {new MeshIdentityTrust(
                            (X509TrustManager) trustManagers[0], serverIdentity)};
                }
            }
            KeyManager[] keyManagers = null;
            if (clientChainPem != null && clientKeyPem != null) {
                List<X509Certificate> chain = certificates(clientChainPem, "client certificate chain");
                PrivateKey key = privateKey(clientKeyPem, "client private key");
                checkKeyMatches(key, chain.get(0));
                KeyStore keyStore = KeyStore.getInstance("PKCS12");
                keyStore.load(null, null);
                keyStore.setKeyEntry("client", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keyStore, NO_PASSWORD);
                keyManagers = kmf.getKeyManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers, trustManagers, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new MeshException("cannot set up TLS for the admin API: " + e.getMessage(), e);
        }
    }

    static List<X509Certificate> certificates(String pem, String what) {
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Certificate certificate : factory.generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                certificates.add((X509Certificate) certificate);
            }
        } catch (CertificateException e) {
            throw new MeshIdentityException(what + ": malformed PEM (" + e.getMessage()
                    + "; expected: one or more -----BEGIN CERTIFICATE----- blocks)", e);
        }
        if (certificates.isEmpty()) {
            throw new MeshIdentityException(what + ": no \"CERTIFICATE\" PEM block found (expected: one or more "
                    + "-----BEGIN CERTIFICATE----- blocks)");
        }
        return certificates;
    }

    static PrivateKey privateKey(String pem, String what) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PrivateKeyInfo) {
                    return converter.getPrivateKey((PrivateKeyInfo) object);
                }
                if (object instanceof PEMKeyPair) {
                    return converter.getPrivateKey(((PEMKeyPair) object).getPrivateKeyInfo());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new MeshIdentityException(what + ": malformed PEM private key (" + e.getMessage() + ")", e);
        }
        throw new MeshIdentityException(what + ": no unencrypted private key PEM block found (expected: PKCS#8 "
                + "\"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\")");
    }

    private static void checkKeyMatches(PrivateKey key, X509Certificate certificate) {
        String keyAlgorithm = key.getAlgorithm().equals("ECDSA") ? "EC" : key.getAlgorithm();
        if (!keyAlgorithm.equals(certificate.getPublicKey().getAlgorithm())) {
            throw new MeshIdentityException("client private key: a " + key.getAlgorithm() + " key (expected: the "
                    + certificate.getPublicKey().getAlgorithm() + " key of the client certificate "
                    + certificate.getSubjectX500Principal().getName() + ")");
        }
        try {
            String algorithm = keyAlgorithm.equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(key);
            byte[] probe = "isthmus-key-probe".getBytes(StandardCharsets.US_ASCII);
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new MeshIdentityException("client private key: does not match the client certificate "
                        + certificate.getSubjectX500Principal().getName()
                        + " (expected: the key the certificate was issued for)");
            }
        } catch (GeneralSecurityException e) {
            // An algorithm the probe does not know: leave the check to the TLS handshake.
        }
    }

    /** Accepts every certificate for every host: only behind an explicit "insecure" switch. */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /**
     * Trusts a server whose chain the trusted certificates accept and whose certificate carries the
     * expected SPIFFE id; the host name plays no part, as mesh certificates name identities, not hosts.
     */
    private static final class MeshIdentityTrust extends X509ExtendedTrustManager {
        private final X509TrustManager chains;
        private final SpiffeId expected;

        MeshIdentityTrust(X509TrustManager chains, SpiffeId expected) {
            this.chains = chains;
            this.expected = expected;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            // The two-argument check validates the chain without endpoint identification.
            chains.checkServerTrusted(chain, authType);
            SpiffeId presented;
            try {
                presented = SpiffeId.fromCertificate(chain[0]);
            } catch (MeshIdentityException e) {
                throw new CertificateException("server certificate carries no usable SPIFFE id (expected: "
                        + expected + "): " + e.getMessage(), e);
            }
            if (!presented.equals(expected)) {
                throw new CertificateException("server identity " + presented + " (expected: " + expected + ")");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client-side trust manager does not check clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return chains.getAcceptedIssuers();
        }
    }
}
