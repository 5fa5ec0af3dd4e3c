package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a site's router needs for mutual TLS: its private key, its certificate chain (leaf first,
 * carrying the site's {@link SpiffeId}) and the trust bundle it verifies peers against.
 *
 * <pre>{@code
 * SiteCredentials osaka = ca.issueSite("osaka");                    // in tests or a bootstrap tool
 * SiteCredentials fromDisk = SiteCredentials.fromFiles("mesh.example",
 *         Path.of("osaka.crt"), Path.of("osaka.key"), Path.of("ca.crt"));
 * Files.writeString(Path.of("osaka.key"), osaka.privateKeyPem());  // keep it readable by the router only
 * }</pre>
 *
 * <p>Immutable and therefore safe to share between threads. It holds a private key: it is never
 * printed by {@link #toString()}, and whoever writes {@link #privateKeyPem()} somewhere owns its
 * protection.
 */
public final class SiteCredentials {

    private final SpiffeId spiffeId;
    private final PrivateKey privateKey;
    private final List<X509Certificate> certificateChain;
    private final TrustBundle trustBundle;

    private SiteCredentials(SpiffeId spiffeId, PrivateKey privateKey, List<X509Certificate> certificateChain,
            TrustBundle trustBundle) {
        this.spiffeId = spiffeId;
        this.privateKey = privateKey;
        this.certificateChain = certificateChain;
        this.trustBundle = trustBundle;
    }

    /**
     * Returns credentials after checking that the key belongs to the leaf certificate and that the
     * leaf carries exactly one SPIFFE id, of the bundle's trust domain. The chain is not verified
     * against the bundle: a site may hold a bundle of a new CA before its own certificate is renewed.
     *
     * @param privateKey the site's private key
     * @param certificateChain the site's certificate chain, leaf first
     * @param trustBundle the roots the site verifies peers against
     * @return the credentials
     * @throws MeshIdentityException when the chain is empty or the parts do not fit together
     */
    public static SiteCredentials of(PrivateKey privateKey, List<X509Certificate> certificateChain,
            TrustBundle trustBundle) {
        requireNonNull(privateKey, "privateKey");
        requireNonNull(certificateChain, "certificateChain");
        requireNonNull(trustBundle, "trustBundle");
        List<X509Certificate> chain = List.copyOf(certificateChain);
        if (chain.isEmpty()) {
            throw new MeshIdentityException("certificate chain is empty (expected: the site certificate first, then "
                    + "any intermediates)");
        }
        X509Certificate leaf = chain.get(0);
        SpiffeId id = SpiffeId.fromCertificate(leaf);
        if (!id.trustDomain().equals(trustBundle.trustDomain())) {
            throw new MeshIdentityException("certificate " + Certificates.describe(leaf) + " carries " + id
                    + " of trust domain " + id.trustDomain() + " (expected: trust domain " + trustBundle.trustDomain()
                    + ")");
        }
        Certificates.checkKeyMatches(privateKey, leaf, "private key");
        return new SiteCredentials(id, privateKey, chain, trustBundle);
    }

    /** Returns credentials whose parts are known to fit, as just issued by the CA. */
    static SiteCredentials issued(SpiffeId spiffeId, PrivateKey privateKey, X509Certificate certificate,
            TrustBundle trustBundle) {
        return new SiteCredentials(spiffeId, privateKey, List.of(certificate), trustBundle);
    }

    /**
     * Reads credentials from PEM text, as written by {@link #certificateChainPem()},
     * {@link #privateKeyPem()} and {@link TrustBundle#toPem()} (or by OpenSSL).
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param certificateChainPem the site certificate, then any intermediates
     * @param privateKeyPem the site's key: PKCS#8 {@code PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY} or
     *     PKCS#1 {@code RSA PRIVATE KEY}, unencrypted
     * @param trustBundlePem the trusted roots
     * @return the credentials
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshIdentityException when a part is malformed, the key does not match the certificate, or
     *     the certificate carries no SPIFFE id of {@code trustDomain}
     */
    public static SiteCredentials fromPem(String trustDomain, String certificateChainPem, String privateKeyPem,
            String trustBundlePem) {
        SpiffeId.checkTrustDomain(trustDomain);
        requireNonNull(certificateChainPem, "certificateChainPem");
        requireNonNull(privateKeyPem, "privateKeyPem");
        requireNonNull(trustBundlePem, "trustBundlePem");
        return of(Pem.readPrivateKey(privateKeyPem, "private key"),
                Pem.readCertificates(certificateChainPem, "certificate chain"),
                TrustBundle.fromPem(trustDomain, trustBundlePem));
    }

    /**
     * Reads credentials from PEM files; see {@link #fromPem(String, String, String, String)}.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param certificateChain the file with the site certificate, then any intermediates
     * @param privateKey the file with the site's private key
     * @param trustBundle the file with the trusted roots
     * @return the credentials
     * @throws MeshException when a file cannot be read (the message names it)
     * @throws MeshIdentityException when a part is malformed or the parts do not fit together
     */
    public static SiteCredentials fromFiles(String trustDomain, Path certificateChain, Path privateKey,
            Path trustBundle) {
        SpiffeId.checkTrustDomain(trustDomain);
        requireNonNull(certificateChain, "certificateChain");
        requireNonNull(privateKey, "privateKey");
        requireNonNull(trustBundle, "trustBundle");
        String chainPem = read(certificateChain, "certificate chain");
        String keyPem = read(privateKey, "private key");
        String bundlePem = read(trustBundle, "trust bundle");
        try {
            return fromPem(trustDomain, chainPem, keyPem, bundlePem);
        } catch (MeshIdentityException e) {
            throw new MeshIdentityException(e.getMessage() + " (files: " + certificateChain + ", " + privateKey
                    + ", " + trustBundle + ")", e);
        }
    }

    private static String read(Path path, String what) {
        try {
            return Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new MeshException("cannot read the " + what + " file " + path.toAbsolutePath() + ": " + e, e);
        }
    }

    /**
     * Returns the site's identity, {@code spiffe://<trust-domain>/site/<site>}.
     *
     * @return the identity carried by the leaf certificate
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns the site's name, e.g. {@code osaka}.
     *
     * @return the site name of {@link #spiffeId()}
     */
    public String site() {
        return spiffeId.site();
    }

    /**
     * Returns the site's private key.
     *
     * @return the private key of {@link #certificate()}
     */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /**
     * Returns the certificate chain to present to peers, leaf first.
     *
     * @return an unmodifiable list of at least one certificate
     */
    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    /**
     * Returns the site's own certificate, the first of {@link #certificateChain()}.
     *
     * @return the leaf certificate
     */
    public X509Certificate certificate() {
        return certificateChain.get(0);
    }

    /**
     * Returns the roots the site verifies peers against.
     *
     * @return the trust bundle
     */
    public TrustBundle trustBundle() {
        return trustBundle;
    }

    /**
     * Returns when the site certificate expires, so that it can be renewed ahead of time.
     *
     * @return the leaf certificate's {@code notAfter}
     */
    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /**
     * Returns the certificate chain as PEM {@code CERTIFICATE} blocks, leaf first.
     *
     * @return the PEM text
     */
    public String certificateChainPem() {
        return Pem.writeCertificates(certificateChain);
    }

    /**
     * Returns the private key as an unencrypted PKCS#8 {@code PRIVATE KEY} PEM block; the caller owns
     * its protection.
     *
     * @return the PEM text
     */
    public String privateKeyPem() {
        return Pem.writePrivateKey(privateKey);
    }

    /**
     * Returns a copy that verifies peers against another bundle, e.g. one holding the old and the new
     * root during a CA rotation. The site's own chain is not checked against the new bundle.
     *
     * @param trustBundle the new trust bundle, of the same trust domain
     * @return the copy
     * @throws IllegalArgumentException when the bundle is of another trust domain
     */
    public SiteCredentials withTrustBundle(TrustBundle trustBundle) {
        requireNonNull(trustBundle, "trustBundle");
        if (trustBundle.trustDomain().equals(this.trustBundle.trustDomain())) {
            return new SiteCredentials(spiffeId, privateKey, certificateChain, trustBundle);
        }
        throw new IllegalArgumentException("trustBundle: " + trustBundle + " (expected: trust domain "
                + spiffeId.trustDomain() + ")");
    }

    /**
     * Returns whether {@code o} holds the same identity, key, chain and trust bundle.
     *
     * @param o another object
     * @return {@code true} when equal
     */
    @Override
    public boolean equals(@Nullable Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof SiteCredentials)) {
            return false;
        }
        SiteCredentials other = (SiteCredentials) o;
        return spiffeId.equals(other.spiffeId) && certificateChain.equals(other.certificateChain)
                && trustBundle.equals(other.trustBundle) && sameKey(privateKey, other.privateKey);
    }

    private static boolean sameKey(PrivateKey a, PrivateKey b) {
        byte[] encodedA = a.getEncoded();
        byte[] encodedB = b.getEncoded();
        if (encodedA == null || encodedB == null) {
            // Keys held in hardware have no encoding; only the provider can tell.
            return a.equals(b);
        }
        // Constant-time, as for any comparison of secrets.
        return a.getAlgorithm().equals(b.getAlgorithm()) && MessageDigest.isEqual(encodedA, encodedB);
    }

    /**
     * Returns a hash code of the identity and the chain (not of the key).
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return Arrays.hashCode(new Object[] {spiffeId, certificateChain, trustBundle});
    }

    /**
     * Returns a description naming the identity and expiry; the key is never part of it.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "SiteCredentials{" + spiffeId + ", notAfter=" + notAfter() + ", chain=" + certificateChain.size()
                + " certificate(s), " + trustBundle + '}';
    }
}
