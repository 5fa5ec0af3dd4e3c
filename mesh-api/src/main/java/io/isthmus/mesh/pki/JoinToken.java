package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * A one-time, expiring token with which a new site obtains its certificate: its string form
 * {@code <id>.<secret>} ({@link #value()}) is handed to the site's operator once, the site presents it
 * with its certificate signing request, and {@link JoinTokenIssuer#redeem(String, String)} issues the
 * certificate. The id (64 random bits, hex) names the token in logs and lists; the secret (256 random
 * bits from {@link java.security.SecureRandom}, base64url) proves possession and is never stored by the
 * issuer, only its hash.
 *
 * <pre>{@code
 * JoinToken token = tokens.issue("nara");          // CA side, e.g. `meshctl token create nara`
 * System.out.println(token.value());               // 1f0c9a6e2b3d4c5e.q3J0...: give it to nara's operator
 * System.out.println(token);                       // JoinToken{1f0c9a6e2b3d4c5e, site nara, ...}: no secret
 * }</pre>
 *
 * <p>Immutable. It carries the secret: {@link #toString()} never prints it, and whoever shows or stores
 * {@link #value()} owns its protection until it is used or expires.
 */
public final class JoinToken {

    private final String id;
    private final String secret;
    private final SpiffeId spiffeId;
    private final Instant expiresAt;

    JoinToken(String id, String secret, SpiffeId spiffeId, Instant expiresAt) {
        this.id = id;
        this.secret = secret;
        this.spiffeId = spiffeId;
        this.expiresAt = expiresAt;
    }

    /**
     * Splits the string form {@code <id>.<secret>} and checks its shape, before any lookup.
     *
     * @return the id and the secret
     * @throws JoinTokenException with {@link JoinTokenException.Reason#MALFORMED} when it has another shape
     */
    static String[] parse(String token) {
        requireNonNull(token, "token");
        int dot = token.indexOf('.');
        if (dot != JoinTokenIssuer.ID_LENGTH || token.length() != dot + 1 + JoinTokenIssuer.SECRET_LENGTH
                || !token.substring(0, dot).matches("[0-9a-f]+")
                || !token.substring(dot + 1).matches("[A-Za-z0-9_-]+")) {
            throw new JoinTokenException(JoinTokenException.Reason.MALFORMED, null, "join token of "
                    + token.length() + " characters is malformed (expected: <id>.<secret>, "
                    + JoinTokenIssuer.ID_LENGTH + " hex digits, a dot and " + JoinTokenIssuer.SECRET_LENGTH
                    + " base64url characters)");
        }
        return new String[] {token.substring(0, dot), token.substring(dot + 1)};
    }

    /**
     * Returns the token's id, which is not secret: it names the token in lists, logs and errors.
     *
     * @return 16 hex digits
     */
    public String id() {
        return id;
    }

    /**
     * Returns the string form {@code <id>.<secret>} that the new site presents; it is secret until used.
     *
     * @return the token's string form
     */
    public String value() {
        return id + '.' + secret;
    }

    /**
     * Returns the name of the site the token is for.
     *
     * @return the site, e.g. {@code nara}
     */
    public String site() {
        return spiffeId.site();
    }

    /**
     * Returns the identity a site obtains with this token.
     *
     * @return {@code spiffe://<trust-domain>/site/<site>}
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns when the token expires; it is refused from that instant on.
     *
     * @return the expiry
     */
    public Instant expiresAt() {
        return expiresAt;
    }

    /**
     * Returns a description with the id, site and expiry; the secret is never part of it.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "JoinToken{" + id + ", " + spiffeId + ", expiresAt=" + expiresAt + '}';
    }
}
