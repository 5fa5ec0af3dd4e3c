package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import org.jspecify.annotations.Nullable;

/**
 * TLS from the router to a pool's origins. The origin's certificate is always verified, against the
 * JVM's trusted roots or a PEM bundle of CA certificates; turning verification off is not offered.
 * Immutable.
 *
 * <pre>{@code
 * OriginTls tls = OriginTls.builder().sni("orders.internal").trustPem(caPem).build();
 * OriginTls system = OriginTls.system();
 * }</pre>
 */
public final class OriginTls {

    private static final OriginTls SYSTEM = builder().build();

    private final @Nullable String sni;
    private final @Nullable String trustPem;

    private OriginTls(Builder b) {
        this.sni = b.sni == null ? null : Validation.host(b.sni, "sni");
        if (b.trustPem != null && !b.trustPem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new ConfigValidationException("trustPem", "no certificate (expected: PEM text with at least one"
                    + " \"-----BEGIN CERTIFICATE-----\" block)");
        }
        this.trustPem = b.trustPem;
    }

    /**
     * Returns TLS that trusts the JVM's roots and sends the origin's host as SNI.
     *
     * @return the settings
     */
    public static OriginTls system() {
        return SYSTEM;
    }

    /**
     * Returns a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the server name sent and verified, or {@code null} for the origin's host */
    public @Nullable String sni() {
        return sni;
    }

    /** @return the PEM bundle of trusted CA certificates, or {@code null} for the JVM's roots */
    public @Nullable String trustPem() {
        return trustPem;
    }

    /** @return whether the JVM's trusted roots are used */
    public boolean trustsSystemRoots() {
        return trustPem == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OriginTls && java.util.Objects.equals(((OriginTls) o).sni, sni)
                && java.util.Objects.equals(((OriginTls) o).trustPem, trustPem);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(sni, trustPem);
    }

    @Override
    public String toString() {
        return "OriginTls{sni=" + sni + ", trust=" + (trustPem == null ? "system" : "pem") + '}';
    }

    /** Builds an {@link OriginTls}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String sni;
        private @Nullable String trustPem;

        private Builder() {}

        /**
         * Sets the server name to send and verify.
         *
         * @param sni a host name
         * @return this builder
         */
        public Builder sni(String sni) {
            this.sni = requireNonNull(sni, "sni");
            return this;
        }

        /**
         * Trusts the CA certificates of a PEM bundle instead of the JVM's roots.
         *
         * @param pem PEM text with one or more certificates
         * @return this builder
         */
        public Builder trustPem(String pem) {
            this.trustPem = requireNonNull(pem, "pem");
            return this;
        }

        /**
         * Validates the values and builds the settings.
         *
         * @return the settings
         * @throws ConfigValidationException naming the bad field
         */
        public OriginTls build() {
            return new OriginTls(this);
        }
    }
}
