package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link JoinTokenStore} keeps of a join token: its id, site, validity, when it was used, and
 * the SHA-256 hash of its secret, never the secret itself, so that a dump of the store gives no usable
 * token. Records compare by value, which {@link JoinTokenStore#replace(JoinTokenRecord, JoinTokenRecord)}
 * relies on.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class JoinTokenRecord {

    private final String id;
    private final SpiffeId spiffeId;
    private final Instant issuedAt;
    private final Instant expiresAt;
    private final byte[] secretHash;
    private final @Nullable Instant usedAt;

    /**
     * Creates a record, e.g. when reading one back from persistent storage.
     *
     * @param id the token id
     * @param spiffeId the identity the token is for
     * @param issuedAt when the token was issued
     * @param expiresAt when the token expires, after {@code issuedAt}
     * @param secretHash the SHA-256 hash of the token's secret, 32 bytes
     * @param usedAt when the token was used, or {@code null} while it is unused
     * @throws IllegalArgumentException when the hash is not 32 bytes or the token expires before it was issued
     */
    public JoinTokenRecord(String id, SpiffeId spiffeId, Instant issuedAt, Instant expiresAt, byte[] secretHash,
            @Nullable Instant usedAt) {
        this.id = requireNonNull(id, "id");
        this.spiffeId = requireNonNull(spiffeId, "spiffeId");
        this.issuedAt = requireNonNull(issuedAt, "issuedAt");
        this.expiresAt = requireNonNull(expiresAt, "expiresAt");
        requireNonNull(secretHash, "secretHash");
        if (secretHash.length != 32) {
            throw new IllegalArgumentException("secretHash: " + secretHash.length + " bytes (expected: 32, SHA-256)");
        }
        if (!expiresAt.isAfter(issuedAt)) {
            throw new IllegalArgumentException("expiresAt: " + expiresAt + " (expected: after issuedAt " + issuedAt
                    + ")");
        }
        this.secretHash = secretHash.clone();
        this.usedAt = usedAt;
    }

    /**
     * Returns the token id.
     *
     * @return the id
     */
    public String id() {
        return id;
    }

    /**
     * Returns the identity the token is for.
     *
     * @return the SPIFFE id
     */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /**
     * Returns when the token was issued.
     *
     * @return the issue time
     */
    public Instant issuedAt() {
        return issuedAt;
    }

    /**
     * Returns when the token expires.
     *
     * @return the expiry
     */
    public Instant expiresAt() {
        return expiresAt;
    }

    /**
     * Returns the SHA-256 hash of the token's secret.
     *
     * @return a copy of the 32 hash bytes
     */
    public byte[] secretHash() {
        return secretHash.clone();
    }

    /**
     * Returns when the token was used.
     *
     * @return the time of use, or {@code null} while it is unused
     */
    public @Nullable Instant usedAt() {
        return usedAt;
    }

    /** Returns whether {@code hash} is this record's secret hash, in constant time. */
    boolean matchesSecretHash(byte[] hash) {
        return MessageDigest.isEqual(secretHash, hash);
    }

    /** Returns a copy marked as used at {@code at}. */
    JoinTokenRecord usedAt(Instant at) {
        return new JoinTokenRecord(id, spiffeId, issuedAt, expiresAt, secretHash, at);
    }

    /**
     * Returns whether {@code o} is a record with the same fields.
     *
     * @param o another object
     * @return {@code true} when equal
     */
    @Override
    public boolean equals(@Nullable Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof JoinTokenRecord)) {
            return false;
        }
        JoinTokenRecord other = (JoinTokenRecord) o;
        return id.equals(other.id) && spiffeId.equals(other.spiffeId) && issuedAt.equals(other.issuedAt)
                && expiresAt.equals(other.expiresAt) && Arrays.equals(secretHash, other.secretHash)
                && Objects.equals(usedAt, other.usedAt);
    }

    /**
     * Returns a hash code of the id and time of use.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return Objects.hash(id, usedAt);
    }

    /**
     * Returns a description with the id, identity, expiry and time of use; the hash is not part of it.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "JoinTokenRecord{" + id + ", " + spiffeId + ", expiresAt=" + expiresAt
                + (usedAt == null ? ", unused" : ", usedAt=" + usedAt) + '}';
    }
}
