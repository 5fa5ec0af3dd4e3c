package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The root certificates a mesh trusts for one trust domain, and the check that a peer's certificate
 * chain leads to one of them and names a site of that trust domain.
 *
 * <p>During a CA rotation a bundle holds the old and the new root, so that certificates of both
 * verify; once every site carries a certificate of the new CA the old root is dropped.
 *
 * <pre>{@code
 * TrustBundle overlap = oldCa.trustBundle().withRoot(newCa.certificate()); // rotation starts
 * SpiffeId peer = overlap.verify(peerChain);                              // throws MeshIdentityException
 * TrustBundle after = overlap.withoutRoot(oldCa.certificate());            // rotation done
 * }</pre>
 *
 * <p>Immutable and therefore safe to share between threads; {@link #verify(List)} may be called
 * concurrently.
 */
public final class TrustBundle {

    private final String trustDomain;
    private final List<X509Certificate> roots;

    private TrustBundle(String trustDomain, List<X509Certificate> roots) {
        this.trustDomain = trustDomain;
        this.roots = roots;
    }

    /**
     * Returns a bundle of the given roots; duplicates are dropped, the order is kept.
     *
     * @param trustDomain the trust domain the certificates it verifies belong to, e.g. {@code mesh.example}
     * @param roots the trusted root certificates, at least one
     * @return the bundle
     * @throws IllegalArgumentException when the trust domain is malformed or there is no root
     */
    public static TrustBundle of(String trustDomain, List<X509Certificate> roots) {
        SpiffeId.checkTrustDomain(trustDomain);
        requireNonNull(roots, "roots");
        Preconditions.checkArgument(!roots.isEmpty(), "roots: [] (expected: at least one root certificate)");
        Set<X509Certificate> distinct = new LinkedHashSet<>();
        for (X509Certificate root : roots) {
            distinct.add(requireNonNull(root, "roots contains null"));
        }
        return new TrustBundle(trustDomain, List.copyOf(distinct));
    }

    /**
     * Reads a bundle from PEM text holding one or more {@code CERTIFICATE} blocks (other blocks are
     * ignored).
     *
     * @param trustDomain the trust domain, e.g. {@code mesh.example}
     * @param pem the PEM text, e.g. the contents of {@code ca.crt}
     * @return the bundle
     * @throws IllegalArgumentException when the trust domain is malformed
     * @throws MeshIdentityException when the text holds no readable certificate
     */
    public static TrustBundle fromPem(String trustDomain, String pem) {
        SpiffeId.checkTrustDomain(trustDomain);
        requireNonNull(pem, "pem");
        return of(trustDomain, Pem.readCertificates(pem, "trust bundle of " + trustDomain));
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
     * Returns the trusted root certificates, in the order they were added.
     *
     * @return an unmodifiable list of at least one certificate
     */
    public List<X509Certificate> roots() {
        return roots;
    }

    /**
     * Returns the roots as PEM {@code CERTIFICATE} blocks, readable with {@link #fromPem(String, String)}.
     *
     * @return the PEM text
     */
    public String toPem() {
        return Pem.writeCertificates(roots);
    }

    /**
     * Returns a copy that also trusts {@code root}, e.g. the new CA's root at the start of a rotation.
     *
     * @param root another root certificate
     * @return the copy, or this bundle when it already holds {@code root}
     */
    public TrustBundle withRoot(X509Certificate root) {
        requireNonNull(root, "root");
        if (roots.contains(root)) {
            return this;
        }
        List<X509Certificate> copy = new ArrayList<>(roots);
        copy.add(root);
        return new TrustBundle(trustDomain, List.copyOf(copy));
    }

    /**
     * Returns a copy that no longer trusts {@code root}, e.g. the old CA's root at the end of a rotation.
     *
     * @param root the root to drop
     * @return the copy, or this bundle when it does not hold {@code root}
     * @throws IllegalArgumentException when {@code root} is the bundle's last root
     */
    public TrustBundle withoutRoot(X509Certificate root) {
        requireNonNull(root, "root");
        if (!roots.contains(root)) {
            return this;
        }
        Preconditions.checkArgument(roots.size() > 1, "root: %s (expected: not the last root of the %s trust bundle)",
                Certificates.describe(root), trustDomain);
        List<X509Certificate> copy = new ArrayList<>(roots);
        copy.remove(root);
        return new TrustBundle(trustDomain, List.copyOf(copy));
    }

    /**
     * Verifies a certificate chain at the current time; see {@link #verify(List, Instant)}.
     *
     * @param chain the chain, leaf first, as presented by a peer
     * @return the identity of the leaf
     * @throws MeshIdentityException when the chain is not trusted; the message says why
     */
    public SpiffeId verify(List<X509Certificate> chain) {
        return verify(chain, Instant.now());
    }

    /**
     * Verifies that a certificate chain identifies a site of this trust domain at the instant
     * {@code at}:
     * <ol>
     *   <li>the leaf and any intermediates are valid at {@code at};</li>
     *   <li>the chain leads to one of the roots (PKIX validation with the JDK's
     *       {@link CertPathValidator}, revocation checking off), and that root is valid at {@code at};</li>
     *   <li>the leaf is not a CA certificate and carries exactly one SPIFFE id, of this trust domain.</li>
     * </ol>
     *
     * @param chain the chain, leaf first; it may end with the root itself
     * @param at the instant at which the certificates must be valid
     * @return the identity of the leaf
     * @throws MeshIdentityException when the chain is not trusted: issued by another CA, expired or not
     *     yet valid (with the dates), of another trust domain, or with no or several SPIFFE ids
     */
    public SpiffeId verify(List<X509Certificate> chain, Instant at) {
        requireNonNull(chain, "chain");
        requireNonNull(at, "at");
        if (chain.isEmpty()) {
            throw new MeshIdentityException("certificate chain is empty (expected: at least a site certificate of the "
                    + trustDomain + " trust domain)");
        }
        List<X509Certificate> path = new ArrayList<>(chain.size());
        for (X509Certificate certificate : chain) {
            requireNonNull(certificate, "chain contains null");
            // A peer may send the root along; the trust anchor itself is not part of the PKIX path.
            if (!roots.contains(certificate)) {
                path.add(certificate);
            }
        }
        X509Certificate leaf = chain.get(0);
        String subject = Certificates.describe(leaf);
        if (path.isEmpty() || path.get(0) != leaf) {
            throw new MeshIdentityException("certificate " + subject + " is a root of the " + trustDomain
                    + " trust bundle (expected: a site certificate)");
        }
        if (leaf.getBasicConstraints() >= 0) {
            throw new MeshIdentityException("certificate " + subject + " is a CA certificate (expected: a site "
                    + "certificate with basicConstraints CA=false)");
        }
        Date when = Date.from(at);
        for (X509Certificate certificate : path) {
            checkValidity(certificate, at, when);
        }
        validatePath(path, subject, at, when);
        SpiffeId id = SpiffeId.fromCertificate(leaf);
        if (!id.trustDomain().equals(trustDomain)) {
            throw new MeshIdentityException("certificate " + subject + " carries " + id + " of trust domain "
                    + id.trustDomain() + " (expected: trust domain " + trustDomain + ")");
        }
        return id;
    }

    private static void checkValidity(X509Certificate certificate, Instant at, Date when) {
        try {
            certificate.checkValidity(when);
        } catch (CertificateExpiredException e) {
            throw new MeshIdentityException("certificate " + Certificates.describe(certificate) + " expired at "
                    + certificate.getNotAfter().toInstant() + " (valid from " + certificate.getNotBefore().toInstant()
                    + " to " + certificate.getNotAfter().toInstant() + ", checked at " + at + ")", e);
        } catch (CertificateNotYetValidException e) {
            throw new MeshIdentityException("certificate " + Certificates.describe(certificate)
                    + " is not yet valid (valid from " + certificate.getNotBefore().toInstant() + " to "
                    + certificate.getNotAfter().toInstant() + ", checked at " + at + ")", e);
        }
    }

    private void validatePath(List<X509Certificate> path, String subject, Instant at, Date when) {
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            Set<TrustAnchor> anchors = new LinkedHashSet<>();
            for (X509Certificate root : roots) {
                anchors.add(new TrustAnchor(root, null));
            }
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(when);
            PKIXCertPathValidatorResult result =
                    (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
            // PKIX does not look at the validity of the trust anchor itself; a mesh must not trust an expired root.
            X509Certificate root = result.getTrustAnchor().getTrustedCert();
            if (root != null) {
                checkValidity(root, at, when);
            }
        } catch (CertPathValidatorException e) {
            throw new MeshIdentityException("certificate " + subject + " (issuer "
                    + path.get(path.size() - 1).getIssuerX500Principal().getName()
                    + ") is not issued by a root of the " + trustDomain + " trust bundle " + describeRoots()
                    + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new MeshIdentityException("certificate " + subject + ": cannot validate its chain against the "
                    + trustDomain + " trust bundle: " + e.getMessage(), e);
        }
    }

    private String describeRoots() {
        return roots.stream()
                .map(root -> Certificates.describe(root) + " (serial " + root.getSerialNumber().toString(16) + ")")
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * Returns whether {@code o} is a bundle of the same trust domain with the same roots in the same order.
     *
     * @param o another object
     * @return {@code true} when equal
     */
    @Override
    public boolean equals(@Nullable Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof TrustBundle)) {
            return false;
        }
        TrustBundle other = (TrustBundle) o;
        return trustDomain.equals(other.trustDomain) && roots.equals(other.roots);
    }

    /**
     * Returns a hash code of the trust domain and roots.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return trustDomain.hashCode() * 31 + roots.hashCode();
    }

    /**
     * Returns a short description naming the trust domain and the roots' subjects.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "TrustBundle{" + trustDomain + ", roots=" + describeRoots() + '}';
    }
}
