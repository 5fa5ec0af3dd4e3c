package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.internal.Preconditions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The CA side of joining a site: issues one-time, expiring {@link JoinToken}s bound to a site name, and
 * redeems a token with the new site's certificate signing request for its certificate and the trust
 * bundle.
 *
 * <pre>{@code
 * JoinTokenIssuer tokens = JoinTokenIssuer.builder(ca).tokenLifetime(Duration.ofMinutes(30)).build();
 * JoinToken token = tokens.issue("nara");    // give token.value() to nara's operator
 *
 * // later, in the admin API's handler for POST /v1/enroll {token, csr}
 * try {
 *     EnrollmentResponse response = tokens.redeem(tokenValue, csrPem);
 *     return ok(response.certificateChainPem(), response.trustBundlePem());
 * } catch (JoinTokenException e) {          // e.reason(): UNKNOWN, EXPIRED, ALREADY_USED, SITE_MISMATCH, ...
 *     return forbidden(e.getMessage());
 * } catch (MeshIdentityException e) {       // malformed or forged request
 *     return badRequest(e.getMessage());
 * }
 * }</pre>
 *
 * <p>{@link #redeem(String, String)} accepts a token only if it exists, its secret matches (compared in
 * constant time against the stored SHA-256 hash), it has not expired and was not used, and the request
 * asks for the token's own site and trust domain, with a valid signature. Only then is the token marked
 * used, atomically: of two concurrent redemptions of one token exactly one succeeds. A refused
 * redemption leaves the token as it was.
 *
 * <p>{@link #renew(SpiffeId, CertificateSigningRequest)} issues a site that proved its identity (e.g.
 * with its current certificate) a new certificate exactly as a redeemed token would.
 *
 * <p>Thread-safe; all state is in the {@link JoinTokenStore}. It holds the CA (and with it the CA's
 * private key): keep it on the CA side only.
 */
public final class JoinTokenIssuer {

    static final int ID_LENGTH = 16;
    static final int SECRET_LENGTH = 43;
    private static final int ID_BYTES = 8;
    private static final int SECRET_BYTES = 32;
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofHours(1);

    private final MeshCertificateAuthority ca;
    private final TrustBundle trustBundle;
    private final Duration tokenLifetime;
    private final Duration siteCertificateValidity;
    private final Clock clock;
    private final JoinTokenStore store;
    private final SecureRandom random;

    private JoinTokenIssuer(Builder builder) {
        this.ca = builder.ca;
        this.trustBundle = builder.trustBundle != null ? builder.trustBundle : builder.ca.trustBundle();
        this.tokenLifetime = builder.tokenLifetime;
        this.siteCertificateValidity = builder.siteCertificateValidity != null
                ? builder.siteCertificateValidity
                : builder.ca.siteCertificateValidity();
        this.clock = builder.clock != null ? builder.clock : builder.ca.clock();
        this.store = builder.store;
        this.random = builder.random;
    }

    /**
     * Returns a builder for an issuer of tokens redeemed with {@code ca}.
     *
     * @param ca the CA that issues the sites' certificates
     * @return a new builder
     */
    public static Builder builder(MeshCertificateAuthority ca) {
        return new Builder(requireNonNull(ca, "ca"));
    }

    /**
     * Issues a token for {@code site}, valid for the configured token lifetime (default: one hour).
     *
     * @param site the name of the site that will join, e.g. {@code nara}
     * @return the token; its {@link JoinToken#value()} is shown once and not kept
     * @throws IllegalArgumentException when the site name is malformed
     */
    public JoinToken issue(String site) {
        return issue(site, tokenLifetime);
    }

    /**
     * Issues a token for {@code site}, valid for {@code lifetime} from now.
     *
     * @param site the name of the site that will join, e.g. {@code nara}
     * @param lifetime how long the token may be used, positive
     * @return the token; its {@link JoinToken#value()} is shown once and not kept
     * @throws IllegalArgumentException when the site name is malformed or the lifetime not positive
     */
    public JoinToken issue(String site, Duration lifetime) {
        SpiffeId id = SpiffeId.ofSite(ca.trustDomain(), site);
        requireNonNull(lifetime, "lifetime");
        Preconditions.checkArgument(!lifetime.isNegative() && !lifetime.isZero(), "lifetime: %s (expected: > 0)",
                lifetime);
        Instant now = clock.instant();
        // A collision of 64-bit random ids is practically impossible; the loop only keeps the store consistent.
        for (int attempt = 0; attempt < 8; attempt++) {
            byte[] idBytes = new byte[ID_BYTES];
            byte[] secretBytes = new byte[SECRET_BYTES];
            random.nextBytes(idBytes);
            random.nextBytes(secretBytes);
            String tokenId = HexFormat.of().formatHex(idBytes);
            String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
            JoinTokenRecord record = new JoinTokenRecord(tokenId, id, now, now.plus(lifetime), hash(secret), null);
            if (store.add(record)) {
                return new JoinToken(tokenId, secret, id, record.expiresAt());
            }
        }
        throw new MeshException("cannot issue a join token for " + id + ": no free token id after 8 attempts");
    }

    /**
     * Redeems a token with a certificate signing request as PEM; see {@link #redeem(String,
     * CertificateSigningRequest)}.
     *
     * @param token the token's string form {@code <id>.<secret>}
     * @param csrPem the new site's certificate signing request, a PEM {@code CERTIFICATE REQUEST} block
     * @return the site's certificate chain and the trust bundle
     * @throws JoinTokenException when the token is refused (see {@link JoinTokenException#reason()})
     * @throws MeshIdentityException when the request is malformed or its signature does not verify
     */
    public EnrollmentResponse redeem(String token, String csrPem) {
        requireNonNull(token, "token");
        requireNonNull(csrPem, "csrPem");
        JoinTokenRecord record = check(token, clock.instant());
        return redeem(record, CertificateSigningRequest.fromPem(csrPem));
    }

    /**
     * Redeems a token: checks it and the request, marks the token used and issues the site's
     * certificate, valid for the configured site certificate validity.
     *
     * @param token the token's string form {@code <id>.<secret>}
     * @param csr the new site's certificate signing request
     * @return the site's certificate chain and the trust bundle
     * @throws JoinTokenException when the token is malformed, unknown, expired, already used, or for
     *     another site or trust domain than the request asks for
     */
    public EnrollmentResponse redeem(String token, CertificateSigningRequest csr) {
        requireNonNull(token, "token");
        requireNonNull(csr, "csr");
        return redeem(check(token, clock.instant()), csr);
    }

    private EnrollmentResponse redeem(JoinTokenRecord record, CertificateSigningRequest csr) {
        SpiffeId expected = record.spiffeId();
        SpiffeId requested = csr.spiffeId();
        if (!requested.trustDomain().equals(expected.trustDomain())) {
            throw new JoinTokenException(JoinTokenException.Reason.TRUST_DOMAIN_MISMATCH, record.id(), "join token "
                    + record.id() + " is for trust domain " + expected.trustDomain() + ", CSR for "
                    + requested.trustDomain() + " (" + requested + ")");
        }
        if (!requested.site().equals(expected.site())) {
            throw new JoinTokenException(JoinTokenException.Reason.SITE_MISMATCH, record.id(), "join token "
                    + record.id() + " is for site " + expected.site() + ", CSR for " + requested.site());
        }
        Instant now = clock.instant();
        JoinTokenRecord used = record.usedAt(now);
        if (!store.replace(record, used)) {
            Optional<JoinTokenRecord> current = store.find(record.id());
            Instant usedAt = current.map(JoinTokenRecord::usedAt).orElse(null);
            if (usedAt != null) {
                throw alreadyUsed(record, usedAt);
            }
            throw unknown(record.id());
        }
        try {
            return issue(csr);
        } catch (RuntimeException e) {
            // The site got nothing: give the token back, so that it can try again.
            store.replace(used, record);
            throw e;
        }
    }

    /**
     * Renews the certificate of a site that has proved its identity, e.g. with its current certificate
     * as the client certificate of a mutual TLS connection, verified against the trust bundle: the
     * request must ask for that same identity. The certificate is issued as for a redeemed token: by
     * the same CA, valid for the configured site certificate validity, with the same trust bundle.
     *
     * @param authenticatedPeer the identity the requester proved
     * @param csr the site's request for its new key
     * @return the new certificate chain and the trust bundle
     * @throws MeshIdentityException when the request asks for another identity than {@code authenticatedPeer}
     *     or names another trust domain
     */
    public EnrollmentResponse renew(SpiffeId authenticatedPeer, CertificateSigningRequest csr) {
        requireNonNull(authenticatedPeer, "authenticatedPeer");
        requireNonNull(csr, "csr");
        if (!csr.spiffeId().equals(authenticatedPeer)) {
            throw new MeshIdentityException(authenticatedPeer + " may renew only its own certificate, CSR for "
                    + csr.spiffeId());
        }
        return issue(csr);
    }

    /** Issues a site certificate for a checked request; the one place joined and renewed certificates come from. */
    private EnrollmentResponse issue(CertificateSigningRequest csr) {
        X509Certificate certificate = ca.issueCertificate(csr, siteCertificateValidity);
        return EnrollmentResponse.of(List.of(certificate), trustBundle);
    }

    private JoinTokenRecord check(String token, Instant now) {
        String[] parts = JoinToken.parse(token);
        String tokenId = parts[0];
        JoinTokenRecord record = store.find(tokenId).orElse(null);
        if (record == null || !record.matchesSecretHash(hash(parts[1]))) {
            throw unknown(tokenId);
        }
        Instant usedAt = record.usedAt();
        if (usedAt != null) {
            throw alreadyUsed(record, usedAt);
        }
        if (!now.isBefore(record.expiresAt())) {
            throw new JoinTokenException(JoinTokenException.Reason.EXPIRED, tokenId, "join token " + tokenId
                    + " for site " + record.spiffeId().site() + " expired at " + record.expiresAt() + " (now " + now
                    + "; issue a new one)");
        }
        return record;
    }

    private static JoinTokenException unknown(String tokenId) {
        return new JoinTokenException(JoinTokenException.Reason.UNKNOWN, tokenId, "unknown join token " + tokenId
                + " (no such token, revoked, or a wrong secret)");
    }

    private static JoinTokenException alreadyUsed(JoinTokenRecord record, Instant usedAt) {
        return new JoinTokenException(JoinTokenException.Reason.ALREADY_USED, record.id(), "join token " + record.id()
                + " for site " + record.spiffeId().site() + " was already used at " + usedAt
                + " (expected: an unused token; each token gives one certificate)");
    }

    /**
     * Revokes an unused token, so that it can no longer be redeemed.
     *
     * @param tokenId the token's id
     * @return whether an unused token with that id was revoked
     */
    public boolean revoke(String tokenId) {
        requireNonNull(tokenId, "tokenId");
        return store.find(tokenId).filter(record -> record.usedAt() == null).map(store::remove).orElse(false);
    }

    /**
     * Returns the tokens that can still be redeemed: unused and not expired.
     *
     * @return the records of those tokens (without secrets), in no particular order
     */
    public List<JoinTokenRecord> pending() {
        Instant now = clock.instant();
        List<JoinTokenRecord> pending = new ArrayList<>();
        for (JoinTokenRecord record : store.records()) {
            if (record.usedAt() == null && now.isBefore(record.expiresAt())) {
                pending.add(record);
            }
        }
        return pending;
    }

    /**
     * Drops the records of tokens that are used or expired; afterwards such tokens are refused as
     * unknown rather than as used or expired.
     *
     * @return how many records were dropped
     */
    public int purge() {
        Instant now = clock.instant();
        int dropped = 0;
        for (JoinTokenRecord record : store.records()) {
            if ((record.usedAt() != null || !now.isBefore(record.expiresAt())) && store.remove(record)) {
                dropped++;
            }
        }
        return dropped;
    }

    private static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Configures a {@link JoinTokenIssuer}; every setter validates its argument at once.
     *
     * <pre>{@code
     * JoinTokenIssuer tokens = JoinTokenIssuer.builder(ca)
     *         .tokenLifetime(Duration.ofMinutes(30))
     *         .siteCertificateValidity(Duration.ofHours(24))
     *         .store(JoinTokenStore.inMemory())
     *         .build();
     * }</pre>
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {

        private final MeshCertificateAuthority ca;
        private Duration tokenLifetime = DEFAULT_TOKEN_LIFETIME;
        private @Nullable Duration siteCertificateValidity;
        private @Nullable Clock clock;
        private @Nullable TrustBundle trustBundle;
        private JoinTokenStore store = JoinTokenStore.inMemory();
        private SecureRandom random = new SecureRandom();

        private Builder(MeshCertificateAuthority ca) {
            this.ca = ca;
        }

        /**
         * Sets how long tokens issued by {@link JoinTokenIssuer#issue(String)} may be used (default: one hour).
         *
         * @param lifetime a positive duration
         * @return this builder
         * @throws IllegalArgumentException when the duration is not positive
         */
        public Builder tokenLifetime(Duration lifetime) {
            requireNonNull(lifetime, "lifetime");
            Preconditions.checkArgument(!lifetime.isNegative() && !lifetime.isZero(),
                    "tokenLifetime: %s (expected: > 0)", lifetime);
            this.tokenLifetime = lifetime;
            return this;
        }

        /**
         * Sets how long the certificates of joining sites are valid (default: the CA's site certificate
         * validity).
         *
         * @param validity a positive duration
         * @return this builder
         * @throws IllegalArgumentException when the duration is not positive
         */
        public Builder siteCertificateValidity(Duration validity) {
            requireNonNull(validity, "validity");
            Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(),
                    "siteCertificateValidity: %s (expected: > 0)", validity);
            this.siteCertificateValidity = validity;
            return this;
        }

        /**
         * Sets the trust bundle handed to joining sites (default: the CA's own). During a CA rotation it
         * holds both roots.
         *
         * @param trustBundle a bundle of the CA's trust domain
         * @return this builder
         * @throws IllegalArgumentException when the bundle is of another trust domain or lacks the CA's root
         */
        public Builder trustBundle(TrustBundle trustBundle) {
            requireNonNull(trustBundle, "trustBundle");
            Preconditions.checkArgument(trustBundle.trustDomain().equals(ca.trustDomain())
                    && trustBundle.roots().contains(ca.certificate()),
                    "trustBundle: %s (expected: trust domain %s, holding the CA's root)", trustBundle,
                    ca.trustDomain());
            this.trustBundle = trustBundle;
            return this;
        }

        /**
         * Sets the clock for token expiry (default: the CA's clock).
         *
         * @param clock the clock, e.g. a test clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Sets where token records are kept (default: a new {@link JoinTokenStore#inMemory()} store).
         *
         * @param store the store
         * @return this builder
         */
        public Builder store(JoinTokenStore store) {
            this.store = requireNonNull(store, "store");
            return this;
        }

        /**
         * Sets the source of token ids and secrets (default: a new {@link SecureRandom}).
         *
         * @param random a cryptographically strong random source
         * @return this builder
         */
        public Builder random(SecureRandom random) {
            this.random = requireNonNull(random, "random");
            return this;
        }

        /**
         * Creates the issuer.
         *
         * @return the issuer
         */
        public JoinTokenIssuer build() {
            return new JoinTokenIssuer(this);
        }
    }
}
