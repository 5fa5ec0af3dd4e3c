package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.time.Clock;
import java.time.Duration;

/**
 * Where a {@link SiteCertificateRenewer} gets a site's next credentials: from a CA in the same process
 * ({@link #fromCa(MeshCertificateAuthority)}), or from a remote CA that signs a certificate signing
 * request made with a fresh local key ({@link #enrolling(CsrSigner)}).
 *
 * <pre>{@code
 * SiteCredentialIssuer local = SiteCredentialIssuer.fromCa(ca);
 * SiteCredentialIssuer remote = SiteCredentialIssuer.enrolling(csrPem -> adminClient.renew(csrPem));
 * }</pre>
 *
 * <p>Called on the renewer's executor, one call at a time per renewer; it may block (e.g. on a
 * network call), and a thrown exception counts as a failed attempt that is retried with backoff.
 */
@FunctionalInterface
public interface SiteCredentialIssuer {

    /**
     * Returns new credentials for the site of {@code current}.
     *
     * @param current the site's credentials in use, e.g. to authenticate the renewal
     * @return the new credentials, for the same site
     * @throws Exception when none can be obtained now
     */
    SiteCredentials issue(SiteCredentials current) throws Exception;

    /**
     * Returns an issuer that has {@code ca} issue a new key and certificate, valid for the CA's site
     * certificate validity.
     *
     * @param ca the mesh CA, in this process
     * @return the issuer
     */
    static SiteCredentialIssuer fromCa(MeshCertificateAuthority ca) {
        requireNonNull(ca, "ca");
        return current -> ca.issueSite(current.site());
    }

    /**
     * Returns an issuer that has {@code ca} issue a new key and certificate valid for {@code validity}.
     *
     * @param ca the mesh CA, in this process
     * @param validity how long each certificate is valid, positive
     * @return the issuer
     * @throws IllegalArgumentException when the validity is not positive
     */
    static SiteCredentialIssuer fromCa(MeshCertificateAuthority ca, Duration validity) {
        requireNonNull(ca, "ca");
        requireNonNull(validity, "validity");
        Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(), "validity: %s (expected: > 0)",
                validity);
        return current -> ca.issueSite(current.site(), validity);
    }

    /**
     * Returns an issuer that makes a new key pair locally for each renewal and has {@code signer} get the
     * certificate for its request; the private key never leaves the site.
     *
     * @param signer sends the request to the CA side and returns its answer
     * @return the issuer
     */
    static SiteCredentialIssuer enrolling(CsrSigner signer) {
        return enrolling(signer, Clock.systemUTC());
    }

    /**
     * Returns an issuer like {@link #enrolling(CsrSigner)} that checks the answers at the time of
     * {@code clock}.
     *
     * @param signer sends the request to the CA side and returns its answer
     * @param clock the clock at which issued certificates must be valid, e.g. a test clock
     * @return the issuer
     */
    static SiteCredentialIssuer enrolling(CsrSigner signer, Clock clock) {
        requireNonNull(signer, "signer");
        requireNonNull(clock, "clock");
        return current -> {
            SiteEnrollment enrollment = SiteEnrollment.create(current.spiffeId(), clock);
            EnrollmentResponse response = signer.sign(enrollment.csrPem(), current);
            if (response == null) {
                throw new MeshIdentityException("CSR signer returned no response for " + current.spiffeId());
            }
            return enrollment.complete(response);
        };
    }

    /**
     * Sends a site's certificate signing request to the CA side, e.g. over the mesh's admin API
     * authenticated with the site's current certificate, and returns the answer.
     */
    @FunctionalInterface
    interface CsrSigner {

        /**
         * Has the CA side sign a request.
         *
         * @param csrPem the request as PEM
         * @param current the site's credentials in use, e.g. for the mutual TLS connection to the CA side
         * @return the issued chain and trust bundle
         * @throws Exception when the CA side cannot be reached or refuses
         */
        EnrollmentResponse sign(String csrPem, SiteCredentials current) throws Exception;
    }
}
