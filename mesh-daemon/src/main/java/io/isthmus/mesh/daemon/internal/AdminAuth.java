package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.isthmus.mesh.daemon.AdminRole;
import io.isthmus.mesh.daemon.DaemonConfigException;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.pki.TrustBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * Who may call the admin API: bearer tokens with a role, read from a tokens file, and mesh client
 * certificates whose SPIFFE id the daemon configuration maps to a role. Immutable and thread-safe.
 *
 * <p>Tokens are kept only as SHA-256 digests and every configured digest is compared, in constant
 * time, with the presented one, so neither the comparison nor the number of comparisons depends on
 * how much of a token matched.
 */
public final class AdminAuth {

    /** The outcome of authenticating one request. */
    public static final class Result {
        private final @Nullable AdminRole role;
        private final String principal;
        private final boolean authenticated;

        Result(@Nullable AdminRole role, String principal, boolean authenticated) {
            this.role = role;
            this.principal = principal;
            this.authenticated = authenticated;
        }

        /** @return the caller's role, {@code null} when it has none */
        public @Nullable AdminRole role() {
            return role;
        }

        /** @return who the caller is, for error messages and logs */
        public String principal() {
            return principal;
        }

        /** @return whether the caller proved an identity (a role may still be missing) */
        public boolean authenticated() {
            return authenticated;
        }
    }

    private final List<byte[]> digests;
    private final List<AdminRole> tokenRoles;
    private final Map<String, AdminRole> certificateRoles;
    private final @Nullable TrustBundle trustBundle;

    private AdminAuth(Map<String, AdminRole> tokens, Map<String, AdminRole> certificateRoles,
            @Nullable TrustBundle trustBundle) {
        this.digests = new ArrayList<>();
        this.tokenRoles = new ArrayList<>();
        tokens.forEach((token, role) -> {
            digests.add(sha256(token));
            tokenRoles.add(role);
        });
        this.certificateRoles = Map.copyOf(certificateRoles);
        this.trustBundle = trustBundle;
    }

    /**
     * Returns the authentication of tokens and certificates.
     *
     * @param tokens tokens to their roles
     * @param certificateRoles SPIFFE ids to their roles
     * @param trustBundle the roots that client certificates must chain to; {@code null} accepts no certificate
     * @return the authentication
     */
    public static AdminAuth of(Map<String, AdminRole> tokens, Map<String, AdminRole> certificateRoles,
            @Nullable TrustBundle trustBundle) {
        return new AdminAuth(tokens, certificateRoles, trustBundle);
    }

    /**
     * Reads a tokens file: one {@code <role> <token>} per line, role {@code admin} or {@code read-only};
     * blank lines and lines starting with {@code #} are skipped.
     *
     * @param file the file
     * @return tokens to their roles
     * @throws DaemonConfigException naming the file and line of a bad entry
     */
    public static Map<String, AdminRole> readTokens(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, UTF_8);
        } catch (IOException e) {
            throw new DaemonConfigException("", "tokensFile", file + ": cannot read (" + e + ")");
        }
        Map<String, AdminRole> tokens = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            String where = file + ":" + (i + 1);
            if (parts.length != 2) {
                throw new DaemonConfigException(where, "tokensFile",
                        parts.length + " fields (expected: <role> <token>, e.g. admin 4f9c...)");
            }
            AdminRole role;
            try {
                role = AdminRole.parse(parts[0]);
            } catch (IllegalArgumentException e) {
                throw new DaemonConfigException(where, "tokensFile", e.getMessage());
            }
            if (parts[1].length() < 16) {
                throw new DaemonConfigException(where, "tokensFile",
                        "a token of " + parts[1].length() + " characters (expected: at least 16)");
            }
            tokens.put(parts[1], role);
        }
        return tokens;
    }

    /**
     * Authenticates a request by its {@code Authorization} header, then by its TLS client certificate.
     *
     * @param authorization the header's value, or {@code null}
     * @param session the TLS session, or {@code null} on plain HTTP
     * @return the outcome; not {@linkplain Result#authenticated() authenticated} when neither proves an identity
     */
    public Result authenticate(@Nullable String authorization, @Nullable SSLSession session) {
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            byte[] presented = sha256(authorization.substring(7).trim());
            AdminRole found = null;
            for (int i = 0; i < digests.size(); i++) {
                if (MessageDigest.isEqual(digests.get(i), presented) && found == null) {
                    found = tokenRoles.get(i);
                }
            }
            if (found != null) {
                return new Result(found, "token (" + found.roleName() + ")", true);
            }
            return new Result(null, "invalid token", false);
        }
        if (session != null && trustBundle != null) {
            Certificate[] chain;
            try {
                chain = session.getPeerCertificates();
            } catch (SSLPeerUnverifiedException e) {
                return new Result(null, "anonymous", false);
            }
            List<X509Certificate> certificates = new ArrayList<>();
            for (Certificate c : chain) {
                if (c instanceof X509Certificate) {
                    certificates.add((X509Certificate) c);
                }
            }
            SpiffeId id;
            try {
                id = trustBundle.verify(certificates);
            } catch (RuntimeException e) {
                return new Result(null, "rejected certificate: " + e.getMessage(), false);
            }
            return new Result(certificateRoles.get(id.toString()), id.toString(), true);
        }
        return new Result(null, "anonymous", false);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
