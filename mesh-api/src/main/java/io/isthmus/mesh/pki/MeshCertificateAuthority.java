package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.internal.Preconditions;
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
 * MeshCertificateAuthority again = MeshCertificateAuthority.fromPem("mesh.example",
 *         Files.readString(Path.of("ca.crt")), Files.readString(Path.of("ca.key")));
 * }</pre>
 *
 * <p>Thread-safe: an instance is immutable, and sites may be issued concurrently. It holds the CA's
 * private key; routers need only their own {@link SiteCredentials}, never the CA.
 */
public final class MeshCertificateAuthority {

    /** Tolerance for clocks that run slightly behind the issuer's. */
    private static final Duration BACKDATE = Duration.ofMinutes(1);
    private static final int DEFAULT_VALIDITY_YEARS = 10;
    private static final Duration DEFAULT_SITE_VALIDITY = Duration.ofDays(90);

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
     * site certificates are valid for 90 days.
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
     * issues are valid for 90 days, from the system clock.
     *
     * @param trustDomain the mesh's trust domain, e.g. {@code mesh.example}
     * @param caCertificatePem the CA certificate; when the text holds several, the first is the CA's
     * @param caPrivateKeyPem the CA's private key: PKCS#8 {@code PRIVATE KEY}, SEC1
     *     {@code EC PRIVATE KEY} or PKCS#1 {@code RSA PRIVATE KEY}, unencrypted
     * @return the CA
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshIdentityException when a part is malformed, the certificate is not a CA certificate, or
     *     the key does not match it
     */
    public static MeshCertificateAuthority fromPem(String trustDomain, String caCertificatePem,
            String caPrivateKeyPem) {
        SpiffeId.checkTrustDomain(trustDomain);
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
        Certificates.checkKeyMatches(key, root, "CA private key");
        return new MeshCertificateAuthority(trustDomain, key, root, DEFAULT_SITE_VALIDITY, Clock.systemUTC());
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
     * Issues credentials for a site, valid from one minute ago for the CA's site certificate validity
     * (90 days unless configured otherwise).
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
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate,
                    Certificates.randomSerial(), Date.from(notBefore), Date.from(notAfter), commonName(site),
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()),
                        new GeneralName(GeneralName.dNSName, site + '.' + trustDomain)}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate));
            X509Certificate leaf = Certificates.sign(builder, privateKey);
            return SiteCredentials.issued(id, keys.getPrivate(), leaf, trustBundle);
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
         * valid (default: 90 days).
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
            X500Name name = commonName("Isthmus mesh CA " + trustDomain);
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
