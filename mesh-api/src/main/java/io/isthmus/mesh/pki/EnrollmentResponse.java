package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * What the CA side sends back to a site that asked for a certificate: the site's certificate chain
 * (leaf first) and the trust bundle the site is to verify peers against. Both travel as PEM text
 * ({@link #certificateChainPem()}, {@link #trustBundlePem()}); neither is secret.
 *
 * <pre>{@code
 * // CA side, e.g. in an admin API handler
 * EnrollmentResponse response = tokens.redeem(token, csrPem);
 * reply(response.certificateChainPem(), response.trustBundlePem());
 *
 * // site side
 * SiteCredentials credentials = enrollment.complete(chainPem, bundlePem);
 * }</pre>
 *
 * <p>Immutable and safe to share between threads.
 */
public final class EnrollmentResponse {

    private final SpiffeId spiffeId;
    private final List<X509Certificate> certificateChain;
    private final TrustBundle trustBundle;

    private EnrollmentResponse(SpiffeId spiffeId, List<X509Certificate> certificateChain, TrustBundle trustBundle) {
        this.spiffeId = spiffeId;
        this.certificateChain = certificateChain;
        this.trustBundle = trustBundle;
    }

    /**
     * Returns a response after checking that the leaf carries one SPIFFE id of the bundle's trust domain.
     *
     * @param certificateChain the site's chain, leaf first
     * @param trustBundle the roots the site is to trust
     * @return the response
     * @throws MeshIdentityException when the chain is empty or its leaf names no site of the bundle's trust domain
     */
    public static EnrollmentResponse of(List<X509Certificate> certificateChain, TrustBundle trustBundle) {
        requireNonNull(certificateChain, "certificateChain");
        requireNonNull(trustBundle, "trustBundle");
        List<X509Certificate> chain = List.copyOf(certificateChain);
        if (chain.isEmpty()) {
            throw new MeshIdentityException("certificate chain is empty (expected: the site certificate first, then "
                    + "any intermediates)");
        }
        SpiffeId id = SpiffeId.fromCertificate(chain.get(0));
        if (!id.trustDomain().equals(trustBundle.trustDomain())) {
            throw new MeshIdentityException("certificate " + Certificates.describe(chain.get(0)) + " carries " + id
                    + " (expected: trust domain " + trustBundle.trustDomain() + ")");
        }
        return new EnrollmentResponse(id, chain, trustBundle);
    }

    /**
     * Reads a response from the PEM text of its two parts.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param certificateChainPem the site certificate, then any intermediates
     * @param trustBundlePem the trusted roots
     * @return the response
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshIdentityException when a part is malformed or the leaf names no site of {@code trustDomain}
     */
    public static EnrollmentResponse fromPem(String trustDomain, String certificateChainPem, String trustBundlePem) {
        SpiffeId.checkTrustDomain(trustDomain);
        requireNonNull(certificateChainPem, "certificateChainPem");
        requireNonNull(trustBundlePem, "trustBundlePem");
        return of(Pem.readCertificates(certificateChainPem, "certificate chain"),
                TrustBundle.fromPem(trustDomain, trustBundlePem));
    }

    /**
     * Returns the identity the certificate was issued for.
     *
     * @return the leaf's SPIFFE id
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns the site's certificate chain, leaf first.
     *
     * @return an unmodifiable list of at least one certificate
     */
    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    /**
     * Returns the site's certificate chain as PEM {@code CERTIFICATE} blocks, leaf first.
     *
     * @return the PEM text
     */
    public String certificateChainPem() {
        return Pem.writeCertificates(certificateChain);
    }

    /**
     * Returns the roots the site is to verify peers against.
     *
     * @return the trust bundle
     */
    public TrustBundle trustBundle() {
        return trustBundle;
    }

    /**
     * Returns the trust bundle as PEM {@code CERTIFICATE} blocks.
     *
     * @return the PEM text
     */
    public String trustBundlePem() {
        return trustBundle.toPem();
    }

    /**
     * Returns when the issued certificate expires.
     *
     * @return the leaf's {@code notAfter}
     */
    public Instant notAfter() {
        return certificateChain.get(0).getNotAfter().toInstant();
    }

    /**
     * Returns a description naming the identity, expiry and trust bundle.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "EnrollmentResponse{" + spiffeId + ", notAfter=" + notAfter() + ", " + trustBundle + '}';
    }
}
