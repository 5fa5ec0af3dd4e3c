package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.daemon.DaemonConfig;
import io.isthmus.mesh.pki.CertificateSigningRequest;
import io.isthmus.mesh.pki.EnrollmentResponse;
import io.isthmus.mesh.pki.JoinToken;
import io.isthmus.mesh.pki.JoinTokenException;
import io.isthmus.mesh.pki.JoinTokenIssuer;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.pki.TrustBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CA side of joining a site through the admin API: {@code POST /v1/join-tokens} issues a
 * one-time token for a site, {@code POST /v1/join} redeems it with the new site's certificate signing
 * request, and {@code POST /v1/renew} gives a site that authenticates with its current certificate (as
 * the TLS client certificate) a new one for a fresh key. Present only on a daemon that holds the mesh CA
 * (the development CA, or {@code ca.*} files). Joined and renewed certificates are issued alike: by the
 * same CA, valid for {@link DaemonConfig#siteCertificateValidity()}, with the same trust bundle.
 *
 * <p>The tokens are kept in memory ({@link JoinTokenIssuer}'s default store): a token issued by this
 * daemon is redeemed at this daemon, and tokens not yet used are lost when it restarts (issue new
 * ones). That is enough for a mesh with one CA daemon; several CA daemons would need a shared
 * {@link io.isthmus.mesh.pki.JoinTokenStore}.
 *
 * <p>Thread-safe.
 */
public final class JoinEndpoint {

    private static final Logger logger = LoggerFactory.getLogger(JoinEndpoint.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern TTL = Pattern.compile("(\\d{1,9})(s|m|h|d)");
    /** The longest a join token may live: long enough to set up a site, short enough to matter if leaked. */
    static final Duration MAX_TTL = Duration.ofDays(7);
    /** The answer to every token that is malformed, unknown, expired or used: it tells an attacker nothing. */
    static final String INVALID_TOKEN = "invalid token";

    private final JoinTokenIssuer issuer;
    private final TrustBundle trustBundle;
    private final String trustDomain;

    JoinEndpoint(MeshCertificateAuthority ca, TrustBundle trustBundle, Duration validity) {
        this.trustBundle = trustBundle;
        this.trustDomain = ca.trustDomain();
        this.issuer = JoinTokenIssuer.builder(ca).trustBundle(trustBundle).siteCertificateValidity(validity).build();
    }

    /**
     * Returns the join endpoint of a daemon that holds the mesh CA, or {@code null} for a daemon
     * without one.
     *
     * @param config the daemon's settings ({@code dev.generateCa} or {@code ca.*})
     * @param credentials the daemon's own credentials, whose trust bundle joining sites receive
     * @return the endpoint, or {@code null}
     */
    public static @Nullable JoinEndpoint forDaemon(DaemonConfig config, SiteCredentials credentials) {
        requireNonNull(config, "config");
        requireNonNull(credentials, "credentials");
        MeshCertificateAuthority ca;
        if (config.generateCa()) {
            ca = DevCa.load(config.caDir(), config.trustDomain());
        } else if (config.caCertificate() != null && config.caPrivateKey() != null) {
            ca = readCa(config.trustDomain(), config.caCertificate(), config.caPrivateKey());
        } else {
            return null;
        }
        return new JoinEndpoint(ca, credentials.trustBundle(), config.siteCertificateValidity());
    }

    private static MeshCertificateAuthority readCa(String trustDomain, Path certificate, Path privateKey) {
        try {
            return MeshCertificateAuthority.fromPem(trustDomain, Files.readString(certificate, UTF_8),
                    Files.readString(privateKey, UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("ca.certificate, ca.privateKey: cannot read " + certificate + " or "
                    + privateKey + ": " + e.getMessage(), e);
        }
    }

    /** @return the trust domain of the certificates this endpoint issues */
    public String trustDomain() {
        return trustDomain;
    }

    /**
     * Issues a token: {@code {"site": "kyoto", "ttl": "1h"}} gives {@code {"token", "tokenId", "site",
     * "spiffeId", "trustDomain", "expiresAt"}}.
     *
     * @param request the request document
     * @return the answer document
     * @throws IllegalArgumentException naming the bad field (answered with 400)
     */
    public ObjectNode issue(JsonNode request) {
        JsonNode siteNode = request.get("site");
        if (siteNode == null || !siteNode.isString() || siteNode.stringValue().isEmpty()) {
            throw new IllegalArgumentException("site: " + describe(siteNode) + " (expected: the name of the site "
                    + "that will join, e.g. \"kyoto\")");
        }
        String site = siteNode.stringValue();
        Duration ttl = Duration.ofHours(1);
        JsonNode ttlNode = request.get("ttl");
        if (ttlNode != null && !ttlNode.isNull()) {
            ttl = ttl(ttlNode);
        }
        JoinToken token;
        try {
            token = issuer.issue(site, ttl);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("site: \"" + site + "\" (expected: a site name: " + e.getMessage()
                    + ")", e);
        }
        logger.info("issued join token {} for site {} ({}), valid until {}", token.id(), token.site(),
                token.spiffeId(), token.expiresAt());
        ObjectNode answer = NODES.objectNode();
        answer.put("token", token.value());
        answer.put("tokenId", token.id());
        answer.put("site", token.site());
        answer.put("spiffeId", token.spiffeId().toString());
        answer.put("trustDomain", trustDomain);
        answer.put("expiresAt", token.expiresAt().toString());
        return answer;
    }

    private static Duration ttl(JsonNode node) {
        Matcher m = node.isString() ? TTL.matcher(node.stringValue()) : null;
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("ttl: " + describe(node) + " (expected: a duration such as 90s, 30m, "
                    + "1h or 2d)");
        }
        long amount = Long.parseLong(m.group(1));
        Duration ttl;
        switch (m.group(2)) {
            case "s":
                ttl = Duration.ofSeconds(amount);
                break;
            case "m":
                ttl = Duration.ofMinutes(amount);
                break;
            case "h":
                ttl = Duration.ofHours(amount);
                break;
            default:
                ttl = Duration.ofDays(amount);
                break;
        }
        if (ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("ttl: \"" + node.stringValue() + "\" (expected: > 0s and <= 7d)");
        }
        return ttl;
    }

    private static String describe(@Nullable JsonNode node) {
        return node == null ? "missing" : node.toString();
    }

    /**
     * Redeems a token: {@code {"token": ..., "csr": "<PEM>"}} gives {@code {"certificateChain": PEM,
     * "trustBundle": PEM}}.
     *
     * @param request the request document
     * @return the answer document
     * @throws Refused with the status to answer: 400 for a missing field or a bad CSR, 401 for an invalid
     *     token (malformed, unknown, expired or used: always the same message), 403 for a token of another
     *     site or trust domain than the CSR asks for
     */
    public ObjectNode redeem(JsonNode request) {
        String token = text(request, "token");
        String csr = text(request, "csr");
        EnrollmentResponse response;
        try {
            response = issuer.redeem(token, csr);
        } catch (JoinTokenException e) {
            switch (e.reason()) {
                case SITE_MISMATCH:
                case TRUST_DOMAIN_MISMATCH:
                    logger.warn("refused a join: {}", e.getMessage());
                    throw new Refused(403, e.getMessage());
                default:
                    // The details (unknown id, expired, used) stay in the log of the CA daemon.
                    logger.warn("refused a join with an invalid token: {}", e.getMessage());
                    throw new Refused(401, INVALID_TOKEN);
            }
        } catch (MeshIdentityException e) {
            throw new Refused(400, "csr: " + e.getMessage() + " (expected: a PEM CERTIFICATE REQUEST signed by "
                    + "the site's key, for spiffe://" + trustDomain + "/site/<site>)");
        }
        logger.info("site {} joined: issued {} valid until {}", response.spiffeId().site(), response.spiffeId(),
                response.notAfter());
        return answer(response);
    }

    /**
     * Renews the certificate of a site that proves its identity with its current certificate:
     * {@code {"csr": "<PEM>"}} gives {@code {"certificateChain": PEM, "trustBundle": PEM}}, as
     * {@link #redeem(JsonNode)} does. The client certificate chain must verify against the trust bundle
     * now (issued by the mesh CA, not expired, exactly one SPIFFE id of this trust domain) and the request
     * must ask for that same identity.
     *
     * @param clientChain the TLS client certificate chain of the request, leaf first; empty without one
     * @param request the request document
     * @return the answer document
     * @throws Refused with the status to answer: 401 without a client certificate or with one that does
     *     not verify, 400 for a missing or bad CSR, 403 for a CSR of another identity than the certificate's
     */
    public ObjectNode renew(List<X509Certificate> clientChain, JsonNode request) {
        requireNonNull(clientChain, "clientChain");
        if (clientChain.isEmpty()) {
            throw new Refused(401, "renewal requires the site's current certificate as the TLS client certificate "
                    + "(expected: https with the site's certificate of trust domain " + trustDomain + ")");
        }
        SpiffeId peer;
        try {
            peer = trustBundle.verify(clientChain, Instant.now());
        } catch (MeshIdentityException e) {
            logger.warn("refused a renewal: client certificate rejected: {}", e.getMessage());
            throw new Refused(401, "client certificate rejected: " + e.getMessage() + " (expected: the site's "
                    + "current, unexpired certificate; after expiry the site joins again with a new join token)");
        }
        String csrPem = text(request, "csr");
        CertificateSigningRequest csr;
        try {
            csr = CertificateSigningRequest.fromPem(csrPem);
        } catch (MeshIdentityException | IllegalArgumentException e) {
            throw new Refused(400, "csr: " + e.getMessage() + " (expected: a PEM CERTIFICATE REQUEST signed by "
                    + "the site's new key, for " + peer + ")");
        }
        EnrollmentResponse response;
        try {
            response = issuer.renew(peer, csr);
        } catch (MeshIdentityException e) {
            // The request is well-formed (checked above): it asks for another identity than the certificate's.
            logger.warn("refused a renewal: {}", e.getMessage());
            throw new Refused(403, e.getMessage());
        }
        logger.info("site {} renewed its certificate: issued {} valid until {}", peer.site(), peer,
                response.notAfter());
        return answer(response);
    }

    private static ObjectNode answer(EnrollmentResponse response) {
        ObjectNode answer = NODES.objectNode();
        answer.put("certificateChain", response.certificateChainPem());
        answer.put("trustBundle", response.trustBundlePem());
        return answer;
    }

    private static String text(JsonNode request, String field) {
        JsonNode node = request.get(field);
        if (node == null || !node.isString() || node.stringValue().isEmpty()) {
            throw new Refused(400, field + ": " + describe(node) + " (expected: a non-empty string)");
        }
        return node.stringValue();
    }

    /** A refused redemption or renewal with the HTTP status to answer. */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** @return the HTTP status: 400, 401 or 403 */
        public int status() {
            return status;
        }
    }
}
