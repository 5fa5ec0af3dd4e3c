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
import org.jspecify.annotations.Nullable;

/**
 * The identity of a site's router: the URI {@code spiffe://<trust-domain>/site/<site>}, carried as
 * the one URI subject alternative name of the site's certificate.
 *
 * <pre>{@code
 * SpiffeId id = SpiffeId.ofSite("mesh.example", "osaka");    // spiffe://mesh.example/site/osaka
 * SpiffeId same = SpiffeId.parse("spiffe://mesh.example/site/osaka");
 * SpiffeId peer = SpiffeId.fromCertificate(peerCertificate); // throws MeshIdentityException
 * }</pre>
 *
 * <p>Immutable and therefore safe to share between threads. {@link #equals(Object)},
 * {@link #hashCode()} and {@link #toString()} are those of the URI text.
 */
public final class SpiffeId {

    private static final String SCHEME_PREFIX = "spiffe://";
    private static final String SITE_PATH = "/site/";
    private static final String EXPECTED_FORM = "spiffe://<trust-domain>/site/<site>";

    // 255 characters at most: one leading and one trailing character around at most 253 others.
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?");
    // 63 characters at most, as for any DNS label.
    private static final Pattern SITE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    /** The {@code uniformResourceIdentifier} tag of an X.509 {@code GeneralName}. */
    private static final int URI_NAME = 6;

    private final String trustDomain;
    private final String site;
    private final String uri;

    private SpiffeId(String trustDomain, String site) {
        this.trustDomain = trustDomain;
        this.site = site;
        this.uri = SCHEME_PREFIX + trustDomain + SITE_PATH + site;
    }

    /**
     * Returns the identity of a site.
     *
     * @param trustDomain the mesh's trust domain, a lowercase DNS name such as {@code mesh.example}
     *     (at most 255 characters)
     * @param site the site name, a lowercase DNS label such as {@code osaka} (at most 63 characters)
     * @return the identity {@code spiffe://<trustDomain>/site/<site>}
     * @throws IllegalArgumentException when either part is malformed, e.g.
     *     {@code site: "Osaka!" (expected: a lowercase DNS label)}
     */
    public static SpiffeId ofSite(String trustDomain, String site) {
        checkTrustDomain(trustDomain);
        checkSite(site);
        return new SpiffeId(trustDomain, site);
    }

    /**
     * Parses the text form {@code spiffe://<trust-domain>/site/<site>}; nothing else (other paths, a
     * port, a query or a fragment) is accepted.
     *
     * @param uri the URI text, e.g. {@code spiffe://mesh.example/site/osaka}
     * @return the identity
     * @throws IllegalArgumentException when the text is not a site identity
     */
    public static SpiffeId parse(String uri) {
        requireNonNull(uri, "uri");
        int slash = uri.indexOf('/', SCHEME_PREFIX.length());
        if (!uri.startsWith(SCHEME_PREFIX) || slash < 0 || !uri.startsWith(SITE_PATH, slash)) {
            throw new IllegalArgumentException("uri: \"" + uri + "\" (expected: " + EXPECTED_FORM + ")");
        }
        String trustDomain = uri.substring(SCHEME_PREFIX.length(), slash);
        String site = uri.substring(slash + SITE_PATH.length());
        if (!TRUST_DOMAIN.matcher(trustDomain).matches() || !SITE.matcher(site).matches()) {
            // Say which part is wrong, and still show the whole input.
            String detail;
            try {
                ofSite(trustDomain, site);
                detail = "";
            } catch (IllegalArgumentException e) {
                detail = "; " + e.getMessage();
            }
            throw new IllegalArgumentException(
                    "uri: \"" + uri + "\" (expected: " + EXPECTED_FORM + ")" + detail);
        }
        return new SpiffeId(trustDomain, site);
    }

    /**
     * Reads the identity from a certificate's URI subject alternative names, of which exactly one may
     * be a {@code spiffe://} URI. Other URI and DNS names are ignored. The certificate's signature and
     * validity are not checked here; see {@link TrustBundle#verify(List)} for that.
     *
     * @param cert the certificate, usually the leaf of a peer's chain
     * @return the identity it carries
     * @throws MeshIdentityException when the certificate carries no SPIFFE id, more than one, or a
     *     malformed one; the message names the certificate's subject
     */
    public static SpiffeId fromCertificate(X509Certificate cert) {
        requireNonNull(cert, "cert");
        String subject = Certificates.describe(cert);
        List<String> uris = new ArrayList<>(1);
        try {
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() >= 2 && Integer.valueOf(URI_NAME).equals(name.get(0))
                            && name.get(1) instanceof String) {
                        String value = (String) name.get(1);
                        // Case-insensitive, so that "SPIFFE://..." counts as an id, and is then rejected as malformed.
                        if (value.regionMatches(true, 0, SCHEME_PREFIX, 0, SCHEME_PREFIX.length())) {
                            uris.add(value);
                        }
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new MeshIdentityException(
                    "certificate " + subject + ": unreadable subject alternative names (" + e.getMessage() + ")", e);
        }
        if (uris.isEmpty()) {
            throw new MeshIdentityException("certificate " + subject + " carries no SPIFFE id (expected: one URI SAN "
                    + EXPECTED_FORM + ")");
        }
        if (uris.size() > 1) {
            throw new MeshIdentityException("certificate " + subject + " carries " + uris.size() + " SPIFFE ids "
                    + uris + " (expected: exactly one)");
        }
        try {
            return parse(uris.get(0));
        } catch (IllegalArgumentException e) {
            throw new MeshIdentityException("certificate " + subject + " carries a malformed SPIFFE id: "
                    + e.getMessage(), e);
        }
    }

    /** Checks a trust domain, with the same message as {@link #ofSite(String, String)}. */
    static String checkTrustDomain(String trustDomain) {
        requireNonNull(trustDomain, "trustDomain");
        Preconditions.checkArgument(TRUST_DOMAIN.matcher(trustDomain).matches(),
                "trustDomain: \"%s\" (expected: a lowercase DNS name of at most 255 characters)", trustDomain);
        return trustDomain;
    }

    /** Checks a site name, with the same message as {@link #ofSite(String, String)}. */
    static String checkSite(String site) {
        requireNonNull(site, "site");
        Preconditions.checkArgument(SITE.matcher(site).matches(), "site: \"%s\" (expected: a lowercase DNS label)",
                site);
        return site;
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
     * Returns the site name, e.g. {@code osaka}.
     *
     * @return the site name
     */
    public String site() {
        return site;
    }

    /**
     * Returns the identity as a URI, e.g. {@code spiffe://mesh.example/site/osaka}.
     *
     * @return the URI
     */
    public URI toUri() {
        return URI.create(uri);
    }

    /**
     * Returns whether {@code o} is a {@code SpiffeId} with the same URI.
     *
     * @param o another object
     * @return {@code true} when both name the same site of the same trust domain
     */
    @Override
    public boolean equals(@Nullable Object o) {
        return o == this || (o instanceof SpiffeId && ((SpiffeId) o).uri.equals(uri));
    }

    /**
     * Returns the hash code of the URI text.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return uri.hashCode();
    }

    /**
     * Returns the URI text, e.g. {@code spiffe://mesh.example/site/osaka}.
     *
     * @return the URI text
     */
    @Override
    public String toString() {
        return uri;
    }
}
