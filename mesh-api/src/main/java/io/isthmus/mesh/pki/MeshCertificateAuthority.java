package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.internal.Preconditions;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mesh certificate authority: a self-signed EC P-256 root that issues each site's certificate,
 * carrying the URI SAN {@code spiffe://<trust-domain>/site/<site>} and the DNS SAN
 * {@code <site>.<trust-domain>}.
 *
 * <pre>{@code
 * MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
 * SiteCredentials osaka = ca.issueSite("osaka");       // key, certificate, trust bundle
 * Files.writeString(Path.of("ca.crt"), ca.certificatePem());
 * }</pre>
 *
 * <p>Thread-safe: certificates may be issued concurrently. Keep the CA's private key away from the
 * routers; they need only their own credentials.
 */
public final class MeshCertificateAuthority {

    private static final String SIGNATURE = "SHA256withECDSA";
    private static final Duration BACKDATE = Duration.ofMinutes(1);

    private final String trustDomain;
    private final PrivateKey privateKey;
    private final X509Certificate certificate;
    private final TrustBundle trustBundle;
    private final Duration siteValidity;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private MeshCertificateAuthority(String trustDomain, PrivateKey privateKey, X509Certificate certificate,
            Duration siteValidity, Clock clock) {
        this.trustDomain = trustDomain;
        this.privateKey = privateKey;
        this.certificate = certificate;
        this.trustBundle = TrustBundle.of(trustDomain, List.of(certificate));
        this.siteValidity = siteValidity;
        this.clock = clock;
    }

    /**
     * Creates a new CA with a fresh root valid for 10 years.
     *
     * @param trustDomain the mesh's trust domain, a lowercase DNS name such as {@code mesh.example}
     * @return the CA
     */
    public static MeshCertificateAuthority create(String trustDomain) {
        return builder(trustDomain).build();
    }

    /**
     * Returns a builder for a new CA.
     *
     * @param trustDomain the mesh's trust domain
     * @return a new builder
     */
    public static Builder builder(String trustDomain) {
        SpiffeId.ofSite(requireNonNull(trustDomain, "trustDomain"), "check");
        return new Builder(trustDomain);
    }

    /**
     * Loads an existing CA from PEM.
     *
     * @param trustDomain the mesh's trust domain
     * @param caCertificatePem the root certificate
     * @param caPrivateKeyPem the root's private key
     * @return the CA
     * @throws MeshIdentityException when the parts are malformed or do not match
     */
    public static MeshCertificateAuthority fromPem(String trustDomain, String caCertificatePem, String caPrivateKeyPem) {
        SpiffeId.ofSite(requireNonNull(trustDomain, "trustDomain"), "check");
        X509Certificate root = Pem.readCertificates(caCertificatePem, "CA certificate").get(0);
        PrivateKey key = Pem.readPrivateKey(caPrivateKeyPem, "CA private key");
        if (root.getBasicConstraints() < 0) {
            throw new MeshIdentityException("certificate " + root.getSubjectX500Principal().getName()
                    + " is not a CA certificate (expected: basicConstraints CA=true)");
        }
        MeshCertificateAuthority ca = new MeshCertificateAuthority(trustDomain, key, root, Duration.ofDays(90),
                Clock.systemUTC());
        try {
            ca.trustBundle.verify(ca.issueSite("key-check").certificateChain());
        } catch (MeshIdentityException e) {
            throw new MeshIdentityException("CA private key does not match CA certificate "
                    + root.getSubjectX500Principal().getName(), e);
        }
        return ca;
    }

    /** @return the trust domain */
    public String trustDomain() {
        return trustDomain;
    }

    /** @return the root certificate */
    public X509Certificate certificate() {
        return certificate;
    }

    /** @return the root certificate as PEM */
    public String certificatePem() {
        return Pem.write(certificate);
    }

    /** @return the root's private key as PKCS#8 PEM; handle with care */
    public String privateKeyPem() {
        return Pem.write(privateKey);
    }

    /** @return a trust bundle holding this CA's root */
    public TrustBundle trustBundle() {
        return trustBundle;
    }

    /**
     * Issues credentials for a site, valid for the CA's site certificate validity (90 days by default).
     *
     * @param site the site name, a lowercase DNS label
     * @return the site's key, certificate and trust bundle
     */
    public SiteCredentials issueSite(String site) {
        return issueSite(site, siteValidity);
    }

    /**
     * Issues credentials for a site, valid for {@code validity} from now.
     *
     * @param site the site name
     * @param validity how long the certificate is valid
     * @return the site's credentials
     */
    public SiteCredentials issueSite(String site, Duration validity) {
        Instant now = clock.instant();
        return issueSite(site, now.minus(BACKDATE), now.plus(validity));
    }

    /**
     * Issues credentials valid between two instants (for tests of expired and future certificates).
     *
     * @param site the site name
     * @param notBefore start of validity
     * @param notAfter end of validity
     * @return the site's credentials
     */
    public SiteCredentials issueSite(String site, Instant notBefore, Instant notAfter) {
        SpiffeId id = SpiffeId.ofSite(trustDomain, requireNonNull(site, "site"));
        Preconditions.checkArgument(notAfter.isAfter(notBefore), "notAfter: %s (expected: after notBefore %s)",
                notAfter, notBefore);
        KeyPair keys = newKeyPair();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + site), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth,
                                KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()),
                        new GeneralName(GeneralName.dNSName, site + '.' + trustDomain)}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate));
            X509Certificate leaf = sign(builder, privateKey);
            return SiteCredentials.of(keys.getPrivate(), List.of(leaf), trustBundle);
        } catch (CertIOException | GeneralSecurityException e) {
            throw new MeshException("cannot issue a certificate for site " + site + ": " + e.getMessage(), e);
        }
    }

    private BigInteger serial() {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new MeshException("cannot generate an EC P-256 key: " + e.getMessage(), e);
        }
    }

    static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey) {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE).setProvider(Pem.PROVIDER).build(signingKey);
            return new JcaX509CertificateConverter().setProvider(Pem.PROVIDER).getCertificate(builder.build(signer));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new MeshException("cannot sign a certificate: " + e.getMessage(), e);
        }
    }

    /** Configures a new {@link MeshCertificateAuthority}. Not thread-safe. */
    public static final class Builder {

        private final String trustDomain;
        private Duration validity = Duration.ofDays(3650);
        private Duration siteValidity = Duration.ofDays(90);
        private Clock clock = Clock.systemUTC();

        private Builder(String trustDomain) {
            this.trustDomain = trustDomain;
        }

        /**
         * Sets how long the root is valid (default 10 years).
         *
         * @param validity a positive duration
         * @return this builder
         */
        public Builder validity(Duration validity) {
            Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(), "validity: %s (expected: > 0)",
                    validity);
            this.validity = validity;
            return this;
        }

        /**
         * Sets how long site certificates are valid by default (default 90 days).
         *
         * @param validity a positive duration
         * @return this builder
         */
        public Builder siteCertificateValidity(Duration validity) {
            Preconditions.checkArgument(!validity.isNegative() && !validity.isZero(),
                    "siteCertificateValidity: %s (expected: > 0)", validity);
            this.siteValidity = validity;
            return this;
        }

        /**
         * Sets the clock validity periods start from (default: the system clock in UTC).
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Creates the CA with a fresh key pair.
         *
         * @return the CA
         */
        public MeshCertificateAuthority build() {
            KeyPair keys = newKeyPair();
            Instant now = clock.instant();
            X500Name name = new X500Name("CN=Isthmus mesh CA " + trustDomain);
            try {
                JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
                PublicKey publicKey = keys.getPublic();
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                        new BigInteger(127, new SecureRandom()).add(BigInteger.ONE), Date.from(now.minus(BACKDATE)),
                        Date.from(now.plus(validity)), name, publicKey)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                extensions.createSubjectKeyIdentifier(publicKey));
                return new MeshCertificateAuthority(trustDomain, keys.getPrivate(), sign(builder, keys.getPrivate()),
                        siteValidity, clock);
            } catch (CertIOException | GeneralSecurityException e) {
                throw new MeshException("cannot create the mesh CA for " + trustDomain + ": " + e.getMessage(), e);
            }
        }
    }
}
