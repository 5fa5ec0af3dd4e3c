package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.net.URI;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The identity of a site's router: the URI {@code spiffe://<trust-domain>/site/<site>} carried as a
 * URI subject alternative name of its certificate. Immutable.
 *
 * <pre>{@code
 * SpiffeId id = SpiffeId.ofSite("mesh.example", "osaka");   // spiffe://mesh.example/site/osaka
 * SpiffeId same = SpiffeId.parse("spiffe://mesh.example/site/osaka");
 * }</pre>
 */
public final class SpiffeId {

    private static final String SCHEME_PREFIX = "spiffe://";
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?");
    private static final Pattern SITE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private final String trustDomain;
    private final String site;
    private final String uri;

    private SpiffeId(String trustDomain, String site) {
        this.trustDomain = trustDomain;
        this.site = site;
        this.uri = SCHEME_PREFIX + trustDomain + "/site/" + site;
    }

    /**
     * Returns the identity of a site.
     *
     * @param trustDomain the mesh's trust domain, a lowercase DNS name such as {@code mesh.example}
     * @param site the site name, a lowercase DNS label
     * @return the identity
     * @throws IllegalArgumentException when either part is malformed
     */
    public static SpiffeId ofSite(String trustDomain, String site) {
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(site, "site");
        Preconditions.checkArgument(TRUST_DOMAIN.matcher(trustDomain).matches(),
                "trustDomain: \"%s\" (expected: a lowercase DNS name)", trustDomain);
        Preconditions.checkArgument(SITE.matcher(site).matches(), "site: \"%s\" (expected: a lowercase DNS label)",
                site);
        return new SpiffeId(trustDomain, site);
    }

    /**
     * Parses {@code spiffe://<trust-domain>/site/<site>}.
     *
     * @param uri the URI text
     * @return the identity
     * @throws IllegalArgumentException when the text is not a site identity
     */
    public static SpiffeId parse(String uri) {
        requireNonNull(uri, "uri");
        int slash = uri.indexOf('/', SCHEME_PREFIX.length());
        if (!uri.startsWith(SCHEME_PREFIX) || slash < 0 || !uri.startsWith("/site/", slash)) {
            throw new IllegalArgumentException(
                    "SPIFFE id: \"" + uri + "\" (expected: spiffe://<trust-domain>/site/<site>)");
        }
        return ofSite(uri.substring(SCHEME_PREFIX.length(), slash), uri.substring(slash + "/site/".length()));
    }

    /**
     * Reads the identity from a certificate's URI subject alternative names: exactly one
     * {@code spiffe://} URI must be present.
     *
     * @param certificate the certificate
     * @return the identity
     * @throws MeshIdentityException when the certificate has no SPIFFE id, several, or a malformed one
     */
    public static SpiffeId fromCertificate(X509Certificate certificate) {
        requireNonNull(certificate, "certificate");
        String subject = certificate.getSubjectX500Principal().getName();
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    // 6 is uniformResourceIdentifier in GeneralName.
                    if (name.size() >= 2 && Integer.valueOf(6).equals(name.get(0))
                            && String.valueOf(name.get(1)).startsWith(SCHEME_PREFIX)) {
                        uris.add(String.valueOf(name.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new MeshIdentityException("certificate " + subject + ": unreadable subject alternative names", e);
        }
        if (uris.isEmpty()) {
            throw new MeshIdentityException("certificate " + subject + " carries no SPIFFE id (expected: one URI SAN "
                    + "spiffe://<trust-domain>/site/<site>)");
        }
        if (uris.size() > 1) {
            throw new MeshIdentityException("certificate " + subject + " carries " + uris.size() + " SPIFFE ids "
                    + uris + " (expected: exactly one)");
        }
        try {
            return parse(uris.get(0));
        } catch (IllegalArgumentException e) {
            throw new MeshIdentityException("certificate " + subject + ": " + e.getMessage(), e);
        }
    }

    /** @return the trust domain, e.g. {@code mesh.example} */
    public String trustDomain() {
        return trustDomain;
    }

    /** @return the site name, e.g. {@code osaka} */
    public String site() {
        return site;
    }

    /** @return the identity as a URI */
    public URI toUri() {
        return URI.create(uri);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpiffeId && ((SpiffeId) o).uri.equals(uri);
    }

    @Override
    public int hashCode() {
        return uri.hashCode();
    }

    /** Returns the URI text, e.g. {@code spiffe://mesh.example/site/osaka}. */
    @Override
    public String toString() {
        return uri;
    }
}
