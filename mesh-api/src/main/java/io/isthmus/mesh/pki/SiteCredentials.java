package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * What a site's router needs for mutual TLS: its private key, its certificate chain (leaf first,
 * carrying the site's {@link SpiffeId}) and the mesh trust bundle. Immutable.
 *
 * <pre>{@code
 * SiteCredentials osaka = ca.issueSite("osaka");
 * SiteCredentials fromDisk = SiteCredentials.fromFiles("mesh.example",
 *         Path.of("osaka.crt"), Path.of("osaka.key"), Path.of("ca.crt"));
 * }</pre>
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
        this.certificateChain = List.copyOf(certificateChain);
        this.trustBundle = trustBundle;
    }

    /**
     * Returns credentials after checking that the key matches the leaf certificate and that the leaf
     * names a site of the bundle's trust domain.
     *
     * @param privateKey the site's private key
     * @param certificateChain the site's certificate chain, leaf first
     * @param trustBundle the roots the site trusts
     * @return the credentials
     * @throws MeshIdentityException when the parts do not fit together
     */
    public static SiteCredentials of(PrivateKey privateKey, List<X509Certificate> certificateChain,
            TrustBundle trustBundle) {
        requireNonNull(privateKey, "privateKey");
        requireNonNull(trustBundle, "trustBundle");
        if (certificateChain.isEmpty()) {
            throw new MeshIdentityException("certificate chain: [] (expected: at least the site certificate)");
        }
        X509Certificate leaf = certificateChain.get(0);
        SpiffeId id = SpiffeId.fromCertificate(leaf);
        if (!id.trustDomain().equals(trustBundle.trustDomain())) {
            throw new MeshIdentityException("certificate " + leaf.getSubjectX500Principal().getName() + " names " + id
                    + " (expected: trust domain " + trustBundle.trustDomain() + ")");
        }
        checkKeyMatches(privateKey, leaf);
        return new SiteCredentials(id, privateKey, certificateChain, trustBundle);
    }

    /**
     * Reads credentials from PEM text.
     *
     * @param trustDomain the mesh's trust domain
     * @param certificateChainPem the site certificate, then any intermediates
     * @param privateKeyPem the key: PKCS#8 {@code PRIVATE KEY}, {@code EC PRIVATE KEY} or {@code RSA PRIVATE KEY}
     * @param trustBundlePem the trusted roots
     * @return the credentials
     * @throws MeshIdentityException when a part is malformed or the parts do not fit together
     */
    public static SiteCredentials fromPem(String trustDomain, String certificateChainPem, String privateKeyPem,
            String trustBundlePem) {
        return of(Pem.readPrivateKey(privateKeyPem, "private key"),
                Pem.readCertificates(certificateChainPem, "certificate chain"),
                TrustBundle.fromPem(trustDomain, trustBundlePem));
    }

    /**
     * Reads credentials from PEM files.
     *
     * @param trustDomain the mesh's trust domain
     * @param certificateChain the file with the site certificate, then any intermediates
     * @param privateKey the file with the private key
     * @param trustBundle the file with the trusted roots
     * @return the credentials
     * @throws MeshException when a file cannot be read; {@link MeshIdentityException} when malformed
     */
    public static SiteCredentials fromFiles(String trustDomain, Path certificateChain, Path privateKey,
            Path trustBundle) {
        return fromPem(trustDomain, read(certificateChain), read(privateKey), read(trustBundle));
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new MeshException("cannot read " + path.toAbsolutePath() + ": " + e, e);
        }
    }

    private static void checkKeyMatches(PrivateKey key, X509Certificate certificate) {
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
        try {
            byte[] probe = "isthmus key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            throw new MeshIdentityException("private key (" + key.getAlgorithm() + ") does not match certificate "
                    + certificate.getSubjectX500Principal().getName() + ": " + e.getMessage(), e);
        }
        throw new MeshIdentityException("private key does not match certificate "
                + certificate.getSubjectX500Principal().getName());
    }

    /** @return the site's identity */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /** @return the site's name */
    public String site() {
        return spiffeId.site();
    }

    /** @return the private key */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** @return the certificate chain, leaf first */
    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    /** @return the site's certificate (the leaf) */
    public X509Certificate certificate() {
        return certificateChain.get(0);
    }

    /** @return the roots the site trusts */
    public TrustBundle trustBundle() {
        return trustBundle;
    }

    /** @return when the site certificate expires */
    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /** @return the certificate chain as PEM */
    public String certificateChainPem() {
        return Pem.write(certificateChain.toArray());
    }

    /** @return the private key as PKCS#8 PEM */
    public String privateKeyPem() {
        return Pem.write(privateKey);
    }

    /**
     * Returns a copy that trusts another bundle, e.g. during a CA rotation.
     *
     * @param bundle the new trust bundle
     * @return the copy
     */
    public SiteCredentials withTrustBundle(TrustBundle bundle) {
        return new SiteCredentials(spiffeId, privateKey, certificateChain, requireNonNull(bundle, "bundle"));
    }

    @Override
    public String toString() {
        return "SiteCredentials{" + spiffeId + ", notAfter=" + notAfter() + '}';
    }
}
