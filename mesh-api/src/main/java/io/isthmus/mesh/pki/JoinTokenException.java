package io.isthmus.mesh.pki;

import org.jspecify.annotations.Nullable;

/**
 * A join token was refused; {@link #reason()} says why in a form an API can map to a status code
 * (e.g. {@link Reason#UNKNOWN} to 401, {@link Reason#SITE_MISMATCH} to 403), and the message names the
 * token id, the site and what was expected. A refusal changes nothing: the token stays as it was.
 */
public final class JoinTokenException extends MeshIdentityException {

    private static final long serialVersionUID = 1L;

    /** Why a join token was refused. */
    public enum Reason {
        /** The text is not of the form {@code <id>.<secret>}. */
        MALFORMED,
        /** No token has this id, or the secret is wrong; the two are not told apart. */
        UNKNOWN,
        /** The token expired. */
        EXPIRED,
        /** The token was used already; each token gives one certificate. */
        ALREADY_USED,
        /** The request asks for another site than the token is for. */
        SITE_MISMATCH,
        /** The request asks for an identity of another trust domain than the token's. */
        TRUST_DOMAIN_MISMATCH
    }

    private final Reason reason;
    private final @Nullable String tokenId;

    /**
     * Creates the exception.
     *
     * @param reason why the token was refused
     * @param tokenId the token's id, or {@code null} when the token was malformed
     * @param message what was wrong, naming the token, the site and what was expected
     */
    public JoinTokenException(Reason reason, @Nullable String tokenId, String message) {
        super(message);
        this.reason = reason;
        this.tokenId = tokenId;
    }

    /**
     * Returns why the token was refused.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }

    /**
     * Returns the id of the refused token.
     *
     * @return the id, or {@code null} when the token was malformed
     */
    public @Nullable String tokenId() {
        return tokenId;
    }
}
