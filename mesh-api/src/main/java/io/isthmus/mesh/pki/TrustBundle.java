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
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The root certificates a mesh trusts for one trust domain. During a CA rotation a bundle holds the
 * old and the new root, so that certificates of both verify. Immutable.
 *
 * <pre>{@code
 * TrustBundle bundle = ca.trustBundle().withRoot(newCa.certificate()); // overlap during rotation
 * SpiffeId peer = bundle.verify(peerChain);                            // throws if not trusted
 * }</pre>
 */
public final class TrustBundle {

    private final String trustDomain;
    private final List<X509Certificate> roots;

    private TrustBundle(String trustDomain, List<X509Certificate> roots) {
        this.trustDomain = trustDomain;
        this.roots = List.copyOf(roots);
    }

    /**
     * Returns a bundle.
     *
     * @param trustDomain the trust domain its certificates belong to
     * @param roots the trusted root certificates, at least one
     * @return the bundle
     */
    public static TrustBundle of(String trustDomain, List<X509Certificate> roots) {
        SpiffeId.ofSite(requireNonNull(trustDomain, "trustDomain"), "check");
        Preconditions.checkArgument(!roots.isEmpty(), "roots: [] (expected: at least one root certificate)");
        return new TrustBundle(trustDomain, roots);
    }

    /**
     * Reads a bundle from PEM certificates.
     *
     * @param trustDomain the trust domain
     * @param pem one or more PEM {@code CERTIFICATE} blocks
     * @return the bundle
     * @throws MeshIdentityException when the text holds no certificate
     */
    public static TrustBundle fromPem(String trustDomain, String pem) {
        return of(trustDomain, Pem.readCertificates(pem, "trust bundle"));
    }

    /** @return the trust domain */
    public String trustDomain() {
        return trustDomain;
    }

    /** @return the trusted roots */
    public List<X509Certificate> roots() {
        return roots;
    }

    /** @return the roots as PEM */
    public String toPem() {
        return Pem.write(roots.toArray());
    }

    /**
     * Returns a copy that also trusts {@code root}.
     *
     * @param root another root certificate
     * @return the copy
     */
    public TrustBundle withRoot(X509Certificate root) {
        if (roots.contains(root)) {
            return this;
        }
        List<X509Certificate> copy = new ArrayList<>(roots);
        copy.add(requireNonNull(root, "root"));
        return new TrustBundle(trustDomain, copy);
    }

    /**
     * Returns a copy that no longer trusts {@code root}.
     *
     * @param root the root to drop
     * @return the copy
     * @throws IllegalArgumentException when it is the last root
     */
    public TrustBundle withoutRoot(X509Certificate root) {
        List<X509Certificate> copy = new ArrayList<>(roots);
        copy.remove(root);
        Preconditions.checkArgument(!copy.isEmpty(), "roots: cannot remove the last root of the bundle");
        return new TrustBundle(trustDomain, copy);
    }

    /**
     * Verifies a certificate chain now; see {@link #verify(List, Instant)}.
     *
     * @param chain the chain, leaf first
     * @return the leaf's identity
     * @throws MeshIdentityException when the chain is not trusted
     */
    public SpiffeId verify(List<X509Certificate> chain) {
        return verify(chain, Instant.now());
    }

    /**
     * Verifies that a chain (leaf first) leads to one of the roots (PKIX, no revocation checks), that
     * every certificate is valid at {@code at}, and that the leaf carries exactly one SPIFFE id of this
     * trust domain.
     *
     * @param chain the chain, leaf first
     * @param at the time of validity
     * @return the leaf's identity
     * @throws MeshIdentityException naming what is wrong
     */
    public SpiffeId verify(List<X509Certificate> chain, Instant at) {
        Preconditions.checkArgument(!chain.isEmpty(), "chain: [] (expected: at least the leaf certificate)");
        X509Certificate leaf = chain.get(0);
        String subject = leaf.getSubjectX500Principal().getName();
        Date when = Date.from(at);
        for (X509Certificate certificate : chain) {
            try {
                certificate.checkValidity(when);
            } catch (CertificateExpiredException e) {
                throw new MeshIdentityException("certificate " + certificate.getSubjectX500Principal().getName()
                        + " expired at " + certificate.getNotAfter().toInstant() + " (checked at " + at + ")", e);
            } catch (CertificateNotYetValidException e) {
                throw new MeshIdentityException("certificate " + certificate.getSubjectX500Principal().getName()
                        + " is not valid before " + certificate.getNotBefore().toInstant() + " (checked at " + at + ")",
                        e);
            }
        }
        try {
            List<X509Certificate> path = new ArrayList<>(chain);
            path.removeIf(roots::contains);
            if (path.isEmpty()) {
                throw new MeshIdentityException("certificate " + subject + " is a root, not a site certificate");
            }
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate root : roots) {
                anchors.add(new TrustAnchor(root, null));
            }
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(when);
            CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
        } catch (CertPathValidatorException e) {
            throw new MeshIdentityException("certificate " + subject + " is not issued by a root of the " + trustDomain
                    + " trust bundle (" + e.getMessage() + ")", e);
        } catch (GeneralSecurityException e) {
            throw new MeshIdentityException("certificate " + subject + ": cannot verify its chain: " + e.getMessage(),
                    e);
        }
        SpiffeId id = SpiffeId.fromCertificate(leaf);
        if (!id.trustDomain().equals(trustDomain)) {
            throw new MeshIdentityException("certificate " + subject + " names " + id + " (expected: trust domain "
                    + trustDomain + ")");
        }
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrustBundle && ((TrustBundle) o).trustDomain.equals(trustDomain)
                && ((TrustBundle) o).roots.equals(roots);
    }

    @Override
    public int hashCode() {
        return trustDomain.hashCode() * 31 + roots.hashCode();
    }

    @Override
    public String toString() {
        return "TrustBundle{" + trustDomain + ", " + roots.size() + " root(s)}";
    }
}
