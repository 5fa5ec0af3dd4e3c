package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.internal.Preconditions;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.jspecify.annotations.Nullable;

/**
 * The mesh certificate authority: a self-signed EC P-256 root that issues each site's certificate
 * (SHA256withECDSA), carrying the URI SAN {@code spiffe://<trust-domain>/site/<site>} and the DNS SAN
 * {@code <site>.<trust-domain>}, for both TLS server and client authentication.
 *
 * <pre>{@code
 * MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
 * SiteCredentials osaka = ca.issueSite("osaka");             // key, certificate, trust bundle
 * Files.writeString(Path.of("ca.crt"), ca.certificatePem());
 * Files.writeString(Path.of("ca.key"), ca.privateKeyPem());  // keep it off the routers
 *
 * MeshCertificateAuthority again = MeshCertificateAuthority.fromFiles("mesh.example",
 *         Path.of("ca.crt"), Path.of("ca.key"));              // refuses expired, foreign or non-CA roots
 * Files.writeString(Path.of("trust-bundle.pem"), again.trustBundlePem());
 *
 * X509Certificate nara = ca.issueCertificate(CertificateSigningRequest.fromPem(csrPem)); // key stays at the site
 * }</pre>
 *
 * <p>Site certificates are short-lived (24 hours by default): sites renew them with a
 * {@link SiteCertificateRenewer}, new sites obtain theirs with a {@link JoinToken} through
 * {@link JoinTokenIssuer}, and the CA itself is replaced through trust bundles holding both roots (see the
 * {@linkplain io.isthmus.mesh.pki package documentation}).
 *
 * <p>Thread-safe: an instance is immutable, and sites may be issued concurrently. It holds the CA's
 * private key; routers need only their own {@link SiteCredentials}, never the CA.
 */
public final class MeshCertificateAuthority {

    /** Tolerance for clocks that run slightly behind the issuer's. */
    private static final Duration BACKDATE = Duration.ofMinutes(1);
    private static final int DEFAULT_VALIDITY_YEARS = 10;
    private static final Duration DEFAULT_SITE_VALIDITY = Duration.ofHours(24);
    private static final String ROOT_NAME_PREFIX = "Isthmus mesh CA ";

    private final String trustDomain;
    private final PrivateKey privateKey;
    private final X509Certificate certificate;
    private final TrustBundle trustBundle;
    private final Duration siteCertificateValidity;
    private final Clock clock;

    private MeshCertificateAuthority(String trustDomain, PrivateKey privateKey, X509Certificate certificate,
            Duration siteCertificateValidity, Clock clock) {
        this.trustDomain = trustDomain;
        this.privateKey = privateKey;
        this.certificate = certificate;
        this.trustBundle = TrustBundle.of(trustDomain, List.of(certificate));
        this.siteCertificateValidity = siteCertificateValidity;
        this.clock = clock;
    }

    /**
     * Creates a new CA with a fresh key and a self-signed root valid for 10 years (from one minute ago);
     * site certificates are valid for 24 hours.
     *
     * @param trustDomain the mesh's trust domain, a lowercase DNS name such as {@code mesh.example}
     * @return the CA
     * @throws IllegalArgumentException when the trust domain is malformed
     */
    public static MeshCertificateAuthority create(String trustDomain) {
        return builder(trustDomain).build();
    }

    /**
     * Returns a builder for a new CA with other validity periods or a test clock.
     *
     * @param trustDomain the mesh's trust domain, a lowercase DNS name such as {@code mesh.example}
     * @return a new builder
     * @throws IllegalArgumentException when the trust domain is malformed
     */
    public static Builder builder(String trustDomain) {
        return new Builder(SpiffeId.checkTrustDomain(trustDomain));
    }

    /**
     * Loads an existing CA from its root certificate and private key, as written by
     * {@link #certificatePem()} and {@link #privateKeyPem()} (or by OpenSSL). Site certificates it
     * issues are valid for 24 hours, from the system clock; use
     * {@link Builder#fromPem(String, String)} for other settings.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param caCertificatePem the CA certificate; when the text holds several, the first is the CA's
     * @param caPrivateKeyPem the CA's private key: PKCS#8 {@code PRIVATE KEY}, SEC1
     *     {@code EC PRIVATE KEY} or PKCS#1 {@code RSA PRIVATE KEY}, unencrypted
     * @return the CA
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshIdentityException when a part is malformed, the certificate is not a CA certificate,
     *     has expired or is not yet valid, names another trust domain, or the key does not match it
     */
    public static MeshCertificateAuthority fromPem(String trustDomain, String caCertificatePem,
            String caPrivateKeyPem) {
        return builder(trustDomain).fromPem(caCertificatePem, caPrivateKeyPem);
    }

    /**
     * Loads an existing CA from PEM files; see {@link #fromPem(String, String, String)}.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param caCertificate the file with the CA certificate, e.g. {@code ca.crt}
     * @param caPrivateKey the file with the CA's private key, e.g. {@code ca.key}
     * @return the CA
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshException when a file cannot be read (the message names it)
     * @throws MeshIdentityException when a part is malformed or unfit to be the CA (the message names the files)
     */
    public static MeshCertificateAuthority fromFiles(String trustDomain, Path caCertificate, Path caPrivateKey) {
        return builder(trustDomain).fromFiles(caCertificate, caPrivateKey);
    }

    private static MeshCertificateAuthority load(String trustDomain, String caCertificatePem, String caPrivateKeyPem,
            Duration siteCertificateValidity, Clock clock) {
        requireNonNull(caCertificatePem, "caCertificatePem");
        requireNonNull(caPrivateKeyPem, "caPrivateKeyPem");
        X509Certificate root = Pem.readCertificates(caCertificatePem, "CA certificate").get(0);
        PrivateKey key = Pem.readPrivateKey(caPrivateKeyPem, "CA private key");
        if (root.getBasicConstraints() < 0) {
            throw new MeshIdentityException("certificate " + Certificates.describe(root)
                    + " is not a CA certificate (expected: basicConstraints CA=true)");
        }
        boolean[] keyUsage = root.getKeyUsage();
        if (keyUsage != null && (keyUsage.length <= 5 || !keyUsage[5])) {
            throw new MeshIdentityException("certificate " + Certificates.describe(root)
                    + " may not sign certificates (expected: keyUsage keyCertSign)");
        }
        Instant now = clock.instant();
        Instant notBefore = root.getNotBefore().toInstant();
        Instant notAfter = root.getNotAfter().toInstant();
        if (!now.isBefore(notAfter)) {
            throw new MeshIdentityException("CA certificate " + Certificates.describe(root) + " expired at "
                    + notAfter + " (valid from " + notBefore + " to " + notAfter + ", now " + now + ")");
        }
        if (now.isBefore(notBefore)) {
            throw new MeshIdentityException("CA certificate " + Certificates.describe(root) + " is not yet valid "
                    + "(valid from " + notBefore + " to " + notAfter + ", now " + now + ")");
        }
        checkTrustDomainOfRoot(root, trustDomain);
        Certificates.checkKeyMatches(key, root, "CA private key");
        return new MeshCertificateAuthority(trustDomain, key, root, siteCertificateValidity, clock);
    }

    /**
     * Refuses a root that says it belongs to another trust domain: through a SPIFFE URI SAN
     * ({@code spiffe://<trust-domain>}), or through the common name this class gives its roots. Roots
     * made elsewhere that say neither are accepted.
     */
    private static void checkTrustDomainOfRoot(X509Certificate root, String trustDomain) {
        for (String uri : Certificates.uriNames(root)) {
            if (uri.regionMatches(true, 0, "spiffe://", 0, 9)) {
                String rest = uri.substring(9);
                int slash = rest.indexOf('/');
                String named = slash < 0 ? rest : rest.substring(0, slash);
                if (!named.equals(trustDomain)) {
                    throw new MeshIdentityException("CA certificate " + Certificates.describe(root) + " names "
                            + uri + " of trust domain " + named + " (expected: trust domain " + trustDomain + ")");
                }
            }
        }
        String commonName = Certificates.commonName(root);
        if (commonName != null && commonName.startsWith(ROOT_NAME_PREFIX)) {
            String named = commonName.substring(ROOT_NAME_PREFIX.length());
            if (!named.equals(trustDomain)) {
                throw new MeshIdentityException("CA certificate " + Certificates.describe(root)
                        + " is the root of trust domain " + named + " (expected: trust domain " + trustDomain + ")");
            }
        }
    }

    /**
     * Returns the trust domain, e.g. {@code mesh.example}.
     *
     * @return the trust domain
     */
    public String trustDomain() {
        return trustDomain;
    }

    /**
     * Returns the CA's root certificate.
     *
     * @return the self-signed root (or the certificate loaded by {@link #fromPem(String, String, String)})
     */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * Returns the root certificate as a PEM {@code CERTIFICATE} block, e.g. for {@code ca.crt}.
     *
     * @return the PEM text
     */
    public String certificatePem() {
        return Pem.writeCertificates(List.of(certificate));
    }

    /**
     * Returns the CA's private key as an unencrypted PKCS#8 {@code PRIVATE KEY} PEM block; the caller
     * owns its protection.
     *
     * @return the PEM text
     */
    public String privateKeyPem() {
        return Pem.writePrivateKey(privateKey);
    }

    /**
     * Returns a trust bundle holding this CA's root only.
     *
     * @return the trust bundle
     */
    public TrustBundle trustBundle() {
        return trustBundle;
    }

    /**
     * Returns the trust bundle as PEM {@code CERTIFICATE} blocks, for the sites' {@code trust-bundle.pem}.
     *
     * @return the PEM text of {@link #trustBundle()}
     */
    public String trustBundlePem() {
        return trustBundle.toPem();
    }

    /**
     * Returns how long site certificates issued without an explicit validity are valid.
     *
     * @return the default site certificate validity (24 hours unless configured otherwise)
     */
    public Duration siteCertificateValidity() {
        return siteCertificateValidity;
    }

    /**
     * Returns the clock that validity periods start from.
     *
     * @return the clock
     */
    public Clock clock() {
        return clock;
    }

    /**
     * Issues credentials for a site, valid from one minute ago for the CA's site certificate validity
     * (24 hours unless configured otherwise).
     *
     * @param site the site name, a lowercase DNS label such as {@code osaka}
     * @return the site's new key, certificate and this CA's trust bundle
     * @throws IllegalArgumentException when the site name is malformed
     */
    public SiteCredentials issueSite(String site) {
        return issueSite(site, siteCertificateValidity);
    }

    /**
     * Issues credentials for a site, valid from one minute ago until {@code validity} from now.
     *
     * @param site the site name, a lowercase DNS label such as {@code osaka}
     * @param validity how long from now the certificate is valid, positive
     * @return the site's new key, certificate and this CA's trust bundle
     * @throws IllegalArgumentException when the site name is malformed or the validity not positive
     */
    public SiteCredentials issueSite(String site, Duration validity) {
        requireNonNull(validity, "validity");
        Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(), "validity: %s (expected: > 0)",
                validity);
        Instant now = clock.instant();
        return issueSite(site, now.minus(BACKDATE), now.plus(validity));
    }

    /**
     * Issues credentials valid between two instants exactly, e.g. for tests of expired and
     * not-yet-valid certificates.
     *
     * @param site the site name, a lowercase DNS label such as {@code osaka}
     * @param notBefore start of validity
     * @param notAfter end of validity, after {@code notBefore}
     * @return the site's new key, certificate and this CA's trust bundle
     * @throws IllegalArgumentException when the site name is malformed or the period empty
     */
    public SiteCredentials issueSite(String site, Instant notBefore, Instant notAfter) {
        SpiffeId id = SpiffeId.ofSite(trustDomain, site);
        requireNonNull(notBefore, "notBefore");
        requireNonNull(notAfter, "notAfter");
        Preconditions.checkArgument(notAfter.isAfter(notBefore), "notAfter: %s (expected: after notBefore %s)",
                notAfter, notBefore);
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate leaf = sign(id, keys.getPublic(), notBefore, notAfter);
        return SiteCredentials.issued(id, keys.getPrivate(), leaf, trustBundle);
    }

    /**
     * Issues a site certificate for the public key and identity of a certificate signing request,
     * valid for the CA's site certificate validity. The site keeps its private key; only the request
     * travels.
     *
     * <p>This checks the request itself (its signature, one SPIFFE id, of this trust domain); whether
     * the requester may have that identity is the caller's decision, e.g. through a {@link JoinToken}
     * ({@link JoinTokenIssuer}) or the peer identity of an authenticated connection.
     *
     * @param request the site's request
     * @return the site certificate, signed by this CA
     * @throws MeshIdentityException when the request names another trust domain
     */
    public X509Certificate issueCertificate(CertificateSigningRequest request) {
        return issueCertificate(request, siteCertificateValidity);
    }

    /**
     * Issues a site certificate for a certificate signing request, valid from one minute ago until
     * {@code validity} from now; see {@link #issueCertificate(CertificateSigningRequest)}.
     *
     * @param request the site's request
     * @param validity how long from now the certificate is valid, positive
     * @return the site certificate, signed by this CA
     * @throws IllegalArgumentException when the validity is not positive
     * @throws MeshIdentityException when the request names another trust domain
     */
    public X509Certificate issueCertificate(CertificateSigningRequest request, Duration validity) {
        requireNonNull(request, "request");
        requireNonNull(validity, "validity");
        Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(), "validity: %s (expected: > 0)",
                validity);
        SpiffeId id = request.spiffeId();
        if (!id.trustDomain().equals(trustDomain)) {
            throw new MeshIdentityException("certificate signing request for " + id + " names trust domain "
                    + id.trustDomain() + " (expected: trust domain " + trustDomain + ")");
        }
        Instant now = clock.instant();
        return sign(id, request.publicKey(), now.minus(BACKDATE), now.plus(validity));
    }

    /**
     * Renews the certificate of a site that has authenticated itself, e.g. with its current certificate
     * on a mutual TLS connection to the admin API: the request must ask for that same identity. This is
     * the CA side of {@link SiteCredentialIssuer#enrolling(SiteCredentialIssuer.CsrSigner)}.
     *
     * <pre>{@code
     * SpiffeId peer = trustBundle.verify(peerChainOfTheConnection);
     * EnrollmentResponse response = ca.renewForPeer(peer, csrPem);
     * reply(response.certificateChainPem(), response.trustBundlePem());
     * }</pre>
     *
     * @param authenticatedPeer the identity the requester proved
     * @param csrPem the request, a PEM {@code CERTIFICATE REQUEST} block
     * @return the new certificate, valid for the CA's site certificate validity, and this CA's trust bundle
     * @throws MeshIdentityException when the request is malformed or forged, or asks for another identity
     *     than {@code authenticatedPeer}
     */
    public EnrollmentResponse renewForPeer(SpiffeId authenticatedPeer, String csrPem) {
        requireNonNull(authenticatedPeer, "authenticatedPeer");
        requireNonNull(csrPem, "csrPem");
        CertificateSigningRequest request = CertificateSigningRequest.fromPem(csrPem);
        if (!request.spiffeId().equals(authenticatedPeer)) {
            throw new MeshIdentityException("peer " + authenticatedPeer + " may renew only its own certificate, "
                    + "CSR for " + request.spiffeId());
        }
        return EnrollmentResponse.of(List.of(issueCertificate(request)), trustBundle);
    }

    private X509Certificate sign(SpiffeId id, PublicKey subjectKey, Instant notBefore, Instant notAfter) {
        String site = id.site();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate,
                    Certificates.randomSerial(), Date.from(notBefore), Date.from(notAfter), commonName(site),
                    subjectKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()),
                        new GeneralName(GeneralName.dNSName, site + '.' + trustDomain)}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(subjectKey))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate));
            return Certificates.sign(builder, privateKey);
        } catch (CertIOException | CertificateEncodingException | NoSuchAlgorithmException e) {
            throw new MeshException("cannot issue a certificate for site " + id + ": " + e.getMessage(), e);
        }
    }

    private static X500Name commonName(String value) {
        // Built attribute by attribute, so that no character of the value is parsed as DN syntax.
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, value).build();
    }

    /**
     * Returns a description naming the trust domain and the root; the key is never part of it.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "MeshCertificateAuthority{" + trustDomain + ", root=" + Certificates.describe(certificate)
                + ", notAfter=" + certificate.getNotAfter().toInstant() + '}';
    }

    /**
     * Configures a new {@link MeshCertificateAuthority}; every setter validates its argument at once.
     *
     * <pre>{@code
     * MeshCertificateAuthority ca = MeshCertificateAuthority.builder("mesh.test")
     *         .validity(Duration.ofDays(30))
     *         .siteCertificateValidity(Duration.ofHours(1))
     *         .clock(testClock)
     *         .build();
     * }</pre>
     *
     * <p>Not thread-safe; each {@link #build()} creates a CA with a new key.
     */
    public static final class Builder {

        private final String trustDomain;
        private @Nullable Duration validity;
        private Duration siteCertificateValidity = DEFAULT_SITE_VALIDITY;
        private Clock clock = Clock.systemUTC();

        private Builder(String trustDomain) {
            this.trustDomain = trustDomain;
        }

        /**
         * Sets how long the root is valid from now (default: 10 years).
         *
         * @param validity a positive duration
         * @return this builder
         * @throws IllegalArgumentException when the duration is not positive
         */
        public Builder validity(Duration validity) {
            requireNonNull(validity, "validity");
            Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(), "validity: %s (expected: > 0)",
                    validity);
            this.validity = validity;
            return this;
        }

        /**
         * Sets how long site certificates issued by {@link MeshCertificateAuthority#issueSite(String)} are
         * valid (default: 24 hours).
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
         * Sets the clock that validity periods start from (default: the system clock in UTC).
         *
         * @param clock the clock, e.g. a fixed one in tests
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Loads an existing CA instead of creating one, with this builder's site certificate validity
         * and clock; the root's own validity is the certificate's ({@link #validity(Duration)} is not
         * used). The root must be a CA certificate allowed to sign certificates, valid now by the
         * clock, of this builder's trust domain (when it names one), and the key must be its key.
         *
         * @param caCertificatePem the CA certificate; when the text holds several, the first is the CA's
         * @param caPrivateKeyPem the CA's private key: PKCS#8 {@code PRIVATE KEY}, SEC1
         *     {@code EC PRIVATE KEY} or PKCS#1 {@code RSA PRIVATE KEY}, unencrypted
         * @return the CA
         * @throws MeshIdentityException when a part is malformed or unfit to be the CA; the message says why
         */
        public MeshCertificateAuthority fromPem(String caCertificatePem, String caPrivateKeyPem) {
            return load(trustDomain, caCertificatePem, caPrivateKeyPem, siteCertificateValidity, clock);
        }

        /**
         * Loads an existing CA from PEM files; see {@link #fromPem(String, String)}.
         *
         * @param caCertificate the file with the CA certificate, e.g. {@code ca.crt}
         * @param caPrivateKey the file with the CA's private key, e.g. {@code ca.key}
         * @return the CA
         * @throws MeshException when a file cannot be read (the message names it)
         * @throws MeshIdentityException when a part is malformed or unfit to be the CA (the message names
         *     the files)
         */
        public MeshCertificateAuthority fromFiles(Path caCertificate, Path caPrivateKey) {
            requireNonNull(caCertificate, "caCertificate");
            requireNonNull(caPrivateKey, "caPrivateKey");
            String certificatePem = Certificates.readFile(caCertificate, "CA certificate");
            String keyPem = Certificates.readFile(caPrivateKey, "CA private key");
            try {
                return fromPem(certificatePem, keyPem);
            } catch (MeshIdentityException e) {
                throw new MeshIdentityException(e.getMessage() + " (files: " + caCertificate + ", " + caPrivateKey
                        + ")", e);
            }
        }

        /**
         * Creates the CA with a new EC P-256 key and a self-signed root certificate (CN
         * {@code Isthmus mesh CA <trust-domain>}, basicConstraints CA=true and keyUsage
         * keyCertSign|cRLSign, both critical), valid from one minute ago.
         *
         * @return the CA
         */
        public MeshCertificateAuthority build() {
            KeyPair keys = Certificates.newEcKeyPair();
            PublicKey publicKey = keys.getPublic();
            Instant now = clock.instant();
            Instant notAfter = validity != null
                    ? now.plus(validity)
                    : now.atOffset(ZoneOffset.UTC).plusYears(DEFAULT_VALIDITY_YEARS).toInstant();
            X500Name name = commonName(ROOT_NAME_PREFIX + trustDomain);
            try {
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, Certificates.randomSerial(),
                        Date.from(now.minus(BACKDATE)), Date.from(notAfter), name, publicKey)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                new JcaX509ExtensionUtils().createSubjectKeyIdentifier(publicKey));
                X509Certificate root = Certificates.sign(builder, keys.getPrivate());
                return new MeshCertificateAuthority(trustDomain, keys.getPrivate(), root, siteCertificateValidity,
                        clock);
            } catch (CertIOException | NoSuchAlgorithmException e) {
                throw new MeshException("cannot create the mesh CA of " + trustDomain + ": " + e.getMessage(), e);
            }
        }
    }
}
