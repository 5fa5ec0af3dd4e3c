package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.jspecify.annotations.Nullable;

/**
 * A PKCS#10 certificate signing request in which a site asks for a certificate with its identity
 * ({@code spiffe://<trust-domain>/site/<site>}) for a public key whose private half it keeps.
 *
 * <p>Reading a request ({@link #fromPem(String)}) checks that it is well formed, that its signature
 * verifies with its own public key (the requester holds the private key), and that it asks for exactly
 * one SPIFFE id and nothing that contradicts it: a common name or DNS names of another site, a CA
 * certificate. Whether the requester may have that identity is decided elsewhere, e.g. by a
 * {@link JoinToken}.
 *
 * <pre>{@code
 * // at the new site: the key is made here and stays here
 * KeyPair keys = ...;
 * String csrPem = CertificateSigningRequest.create(SpiffeId.ofSite("mesh.example", "nara"), keys).toPem();
 *
 * // at the CA
 * CertificateSigningRequest csr = CertificateSigningRequest.fromPem(csrPem); // MeshIdentityException when forged
 * X509Certificate certificate = ca.issueCertificate(csr);
 * }</pre>
 *
 * <p>{@link SiteEnrollment} does the site's side in one step. Immutable and safe to share between threads.
 */
public final class CertificateSigningRequest {

    private static final String PEM_TYPE = "CERTIFICATE REQUEST";

    private final SpiffeId spiffeId;
    private final PublicKey publicKey;
    private final byte[] encoded;

    private CertificateSigningRequest(SpiffeId spiffeId, PublicKey publicKey, byte[] encoded) {
        this.spiffeId = spiffeId;
        this.publicKey = publicKey;
        this.encoded = encoded;
    }

    /**
     * Creates a request for the identity {@code spiffeId}, signed with the private key of
     * {@code keys}: subject {@code CN=<site>}, and the URI SAN {@code spiffe://<trust-domain>/site/<site>}
     * and DNS SAN {@code <site>.<trust-domain>} asked for in an extension request.
     *
     * @param spiffeId the identity the site asks for
     * @param keys the site's key pair; only the public key goes into the request
     * @return the request
     */
    public static CertificateSigningRequest create(SpiffeId spiffeId, KeyPair keys) {
        requireNonNull(spiffeId, "spiffeId");
        requireNonNull(keys, "keys");
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, spiffeId.site()).build();
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId.toString()),
                new GeneralName(GeneralName.dNSName, spiffeId.site() + '.' + spiffeId.trustDomain())}));
            ContentSigner signer = new JcaContentSignerBuilder(
                    Certificates.signatureAlgorithmFor(keys.getPrivate().getAlgorithm()))
                    .setProvider(Certificates.PROVIDER)
                    .build(keys.getPrivate());
            PKCS10CertificationRequest request = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                    .build(signer);
            return new CertificateSigningRequest(spiffeId, keys.getPublic(), request.getEncoded());
        } catch (IOException | OperatorCreationException e) {
            throw new MeshException("cannot create a certificate signing request for " + spiffeId + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Reads and checks a request from PEM text holding a {@code CERTIFICATE REQUEST} block, as written by
     * {@link #toPem()} or {@code openssl req}.
     *
     * @param pem the PEM text
     * @return the request
     * @throws MeshIdentityException when the text holds no request, the request is malformed, its
     *     signature does not verify, or it asks for no, several or contradictory identities
     */
    public static CertificateSigningRequest fromPem(String pem) {
        requireNonNull(pem, "pem");
        @Nullable Object object;
        try (PEMParser parser = new PEMParser(
                new StringReader(pem))) {
            object = parser.readObject();
            while (object != null && !(object instanceof PKCS10CertificationRequest)) {
                object = parser.readObject();
            }
        } catch (IOException | RuntimeException e) {
            throw new MeshIdentityException("certificate signing request: malformed PEM (" + e.getMessage() + ")", e);
        }
        if (object == null) {
            throw new MeshIdentityException("certificate signing request: no \"" + PEM_TYPE + "\" PEM block found "
                    + "(expected: -----BEGIN " + PEM_TYPE + "-----)");
        }
        return check((PKCS10CertificationRequest) object);
    }

    private static CertificateSigningRequest check(PKCS10CertificationRequest request) {
        PublicKey publicKey = publicKey(request.getSubjectPublicKeyInfo());
        try {
            if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Certificates.PROVIDER)
                    .build(request.getSubjectPublicKeyInfo()))) {
                throw new MeshIdentityException("certificate signing request " + describe(request)
                        + ": its signature does not verify with its public key (expected: signed by the private "
                        + "key of the public key it carries)");
            }
        } catch (OperatorCreationException | PKCSException | RuntimeException e) {
            if (e instanceof MeshIdentityException) {
                throw (MeshIdentityException) e;
            }
            throw new MeshIdentityException("certificate signing request " + describe(request)
                    + ": cannot verify its signature (" + e.getMessage() + ")", e);
        }
        Extensions extensions = requestedExtensions(request);
        List<SpiffeId> spiffeIds = new ArrayList<>();
        List<String> dnsNames = new ArrayList<>();
        @Nullable GeneralNames names;
        @Nullable BasicConstraints constraints;
        try {
            names = extensions == null ? null : GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
            constraints = extensions == null ? null : BasicConstraints.fromExtensions(extensions);
        } catch (IllegalArgumentException e) {
            throw new MeshIdentityException("certificate signing request " + describe(request)
                    + ": malformed requested extensions (" + e.getMessage() + ")", e);
        }
        if (names != null) {
            for (GeneralName name : names.getNames()) {
                String value = name.getName().toString();
                if (name.getTagNo() == GeneralName.uniformResourceIdentifier && value.startsWith("spiffe://")) {
                    try {
                        spiffeIds.add(SpiffeId.parse(value));
                    } catch (IllegalArgumentException e) {
                        throw new MeshIdentityException("certificate signing request " + describe(request)
                                + " asks for a malformed SPIFFE id " + value + " (expected: "
                                + "spiffe://<trust-domain>/site/<site>)", e);
                    }
                } else if (name.getTagNo() == GeneralName.dNSName) {
                    dnsNames.add(value);
                } else {
                    throw new MeshIdentityException("certificate signing request " + describe(request)
                            + " asks for the subject alternative name " + value + " (expected: only a SPIFFE id "
                            + "and the site's DNS name)");
                }
            }
        }
        if (spiffeIds.size() != 1) {
            throw new MeshIdentityException("certificate signing request " + describe(request) + " asks for "
                    + (spiffeIds.isEmpty() ? "no SPIFFE id" : spiffeIds.size() + " SPIFFE ids " + spiffeIds)
                    + " (expected: exactly one URI SAN spiffe://<trust-domain>/site/<site>)");
        }
        SpiffeId id = spiffeIds.get(0);
        String expectedDns = id.site() + '.' + id.trustDomain();
        for (String dns : dnsNames) {
            if (!dns.equals(expectedDns)) {
                throw new MeshIdentityException("certificate signing request for " + id + " also asks for the DNS "
                        + "name " + dns + " (expected: only " + expectedDns + ")");
            }
        }
        String commonName = commonName(request.getSubject());
        if (commonName != null && !commonName.equals(id.site())) {
            throw new MeshIdentityException("certificate signing request for " + id + " has the subject CN="
                    + commonName + " (expected: CN=" + id.site() + " or no CN)");
        }
        if (constraints != null && constraints.isCA()) {
            throw new MeshIdentityException("certificate signing request for " + id + " asks for a CA "
                    + "certificate (expected: a site certificate, basicConstraints CA=false)");
        }
        try {
            return new CertificateSigningRequest(id, publicKey, request.getEncoded());
        } catch (IOException e) {
            throw new MeshIdentityException("certificate signing request for " + id + ": cannot encode it ("
                    + e.getMessage() + ")", e);
        }
    }

    private static @Nullable Extensions requestedExtensions(PKCS10CertificationRequest request) {
        Attribute[] attributes = request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
        if (attributes.length == 0) {
            return null;
        }
        if (attributes.length > 1 || attributes[0].getAttrValues().size() != 1) {
            throw new MeshIdentityException("certificate signing request " + describe(request)
                    + " has several extension requests (expected: at most one)");
        }
        try {
            ASN1Encodable value = attributes[0].getAttrValues().getObjectAt(0);
            return Extensions.getInstance(value);
        } catch (IllegalArgumentException e) {
            throw new MeshIdentityException("certificate signing request " + describe(request)
                    + ": malformed extension request (" + e.getMessage() + ")", e);
        }
    }

    private static PublicKey publicKey(SubjectPublicKeyInfo info) {
        ASN1ObjectIdentifier algorithm = info.getAlgorithm().getAlgorithm();
        String jdkAlgorithm;
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
            jdkAlgorithm = "EC";
        } else if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
            jdkAlgorithm = "RSA";
        } else {
            throw new MeshIdentityException("certificate signing request: unsupported public key algorithm "
                    + algorithm + " (expected: EC or RSA)");
        }
        try {
            PublicKey key = KeyFactory.getInstance(jdkAlgorithm).generatePublic(new X509EncodedKeySpec(
                    info.getEncoded()));
            if (key instanceof RSAPublicKey && ((RSAPublicKey) key).getModulus().bitLength() < 2048) {
                throw new MeshIdentityException("certificate signing request: RSA key of "
                        + ((RSAPublicKey) key).getModulus().bitLength() + " bits (expected: at least 2048)");
            }
            return key;
        } catch (GeneralSecurityException | IOException e) {
            throw new MeshIdentityException("certificate signing request: malformed " + jdkAlgorithm + " public key ("
                    + e.getMessage() + ")", e);
        }
    }

    private static @Nullable String commonName(X500Name subject) {
        RDN[] rdns = subject.getRDNs(BCStyle.CN);
        if (rdns.length == 0 || rdns[0].getFirst() == null) {
            return null;
        }
        return IETFUtils.valueToString(rdns[0].getFirst().getValue());
    }

    private static String describe(PKCS10CertificationRequest request) {
        String subject = request.getSubject().toString();
        return subject.isEmpty() ? "(empty subject)" : "with subject " + subject;
    }

    /**
     * Returns the identity the site asks for.
     *
     * @return the requested SPIFFE id
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns the name of the site that asks, e.g. {@code nara}.
     *
     * @return the site of {@link #spiffeId()}
     */
    public String site() {
        return spiffeId.site();
    }

    /**
     * Returns the public key the certificate is to be issued for.
     *
     * @return the requester's public key
     */
    public PublicKey publicKey() {
        return publicKey;
    }

    /**
     * Returns the request as a PEM {@code CERTIFICATE REQUEST} block, readable with {@link #fromPem(String)}
     * and {@code openssl req -text}.
     *
     * @return the PEM text
     */
    public String toPem() {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(PEM_TYPE, encoded));
        } catch (IOException e) {
            // A StringWriter does not fail; this is for the checked signature only.
            throw new MeshException("cannot write PEM: " + e.getMessage(), e);
        }
        return out.toString();
    }

    /**
     * Returns a description naming the requested identity.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "CertificateSigningRequest{" + spiffeId + ", " + publicKey.getAlgorithm() + " public key}";
    }
}
