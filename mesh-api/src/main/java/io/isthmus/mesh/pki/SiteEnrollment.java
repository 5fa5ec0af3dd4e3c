package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;

/**
 * The site's side of obtaining a certificate without anyone copying credentials by hand: the site
 * makes its key pair here (the private key never leaves this object unless the caller takes it from
 * the resulting {@link SiteCredentials}), sends {@link #csrPem()} with a {@link JoinToken} to the CA
 * side, and completes with what comes back.
 *
 * <pre>{@code
 * SiteEnrollment enrollment = SiteEnrollment.create("mesh.example", "nara");
 * // POST {token, csr: enrollment.csrPem()} to the mesh's admin API, which calls JoinTokenIssuer.redeem
 * SiteCredentials nara = enrollment.complete(reply.certificateChainPem, reply.trustBundlePem);
 * }</pre>
 *
 * <p>{@link #complete(String, String)} checks the answer: the certificate is for this enrollment's key
 * and identity, and it verifies against the trust bundle that came with it. Immutable and safe to share
 * between threads; it holds a private key and never prints it.
 */
public final class SiteEnrollment {

    private final SpiffeId spiffeId;
    private final KeyPair keys;
    private final CertificateSigningRequest request;
    private final Clock clock;

    private SiteEnrollment(SpiffeId spiffeId, KeyPair keys, Clock clock) {
        this.spiffeId = spiffeId;
        this.keys = keys;
        this.request = CertificateSigningRequest.create(spiffeId, keys);
        this.clock = clock;
    }

    /**
     * Starts an enrollment with a new EC P-256 key pair for {@code spiffe://<trustDomain>/site/<site>}.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param site the site's name, e.g. {@code nara}
     * @return the enrollment
     * @throws IllegalArgumentException when the trust domain or site name is malformed
     */
    public static SiteEnrollment create(String trustDomain, String site) {
        return create(SpiffeId.ofSite(trustDomain, site), Clock.systemUTC());
    }

    /**
     * Starts an enrollment with a new EC P-256 key pair, checking answers against {@code clock}.
     *
     * @param spiffeId the identity to ask for
     * @param clock the clock at which the issued certificate must be valid, e.g. a test clock
     * @return the enrollment
     */
    public static SiteEnrollment create(SpiffeId spiffeId, Clock clock) {
        requireNonNull(spiffeId, "spiffeId");
        requireNonNull(clock, "clock");
        return new SiteEnrollment(spiffeId, Certificates.newEcKeyPair(), clock);
    }

    /**
     * Returns the identity this enrollment asks for.
     *
     * @return the SPIFFE id
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns the certificate signing request to send to the CA side.
     *
     * @return the request, signed with this enrollment's private key
     */
    public CertificateSigningRequest csr() {
        return request;
    }

    /**
     * Returns the certificate signing request as PEM, to send to the CA side.
     *
     * @return the PEM text of {@link #csr()}
     */
    public String csrPem() {
        return request.toPem();
    }

    /**
     * Returns the public key the certificate is to be issued for.
     *
     * @return the enrollment's public key
     */
    public PublicKey publicKey() {
        return keys.getPublic();
    }

    /**
     * Completes the enrollment with the CA side's answer as PEM text.
     *
     * @param certificateChainPem the issued chain, leaf first
     * @param trustBundlePem the roots to trust
     * @return the site's credentials: this enrollment's private key, the issued chain and the bundle
     * @throws MeshIdentityException when the answer is malformed, for another key or identity, or does not
     *     verify against its own trust bundle
     */
    public SiteCredentials complete(String certificateChainPem, String trustBundlePem) {
        return complete(EnrollmentResponse.fromPem(spiffeId.trustDomain(), certificateChainPem, trustBundlePem));
    }

    /**
     * Completes the enrollment with the CA side's answer.
     *
     * @param response the issued chain and trust bundle
     * @return the site's credentials: this enrollment's private key, the issued chain and the bundle
     * @throws MeshIdentityException when the answer is for another key or identity, or does not verify
     *     against its own trust bundle
     */
    public SiteCredentials complete(EnrollmentResponse response) {
        requireNonNull(response, "response");
        X509Certificate leaf = response.certificateChain().get(0);
        if (!response.spiffeId().equals(spiffeId)) {
            throw new MeshIdentityException("certificate " + Certificates.describe(leaf) + " carries "
                    + response.spiffeId() + " (expected: " + spiffeId + ", as requested)");
        }
        if (!leaf.getPublicKey().equals(keys.getPublic())) {
            throw new MeshIdentityException("certificate " + Certificates.describe(leaf) + " for " + spiffeId
                    + " is not for the key of this enrollment (expected: the public key of the request)");
        }
        Instant now = clock.instant();
        response.trustBundle().verify(response.certificateChain(), now);
        return SiteCredentials.of(keys.getPrivate(), response.certificateChain(), response.trustBundle());
    }

    /**
     * Returns a description naming the requested identity; the key is never part of it.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "SiteEnrollment{" + spiffeId + '}';
    }
}
