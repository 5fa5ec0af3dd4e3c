package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.daemon.DaemonConfig;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SiteEnrollment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The joining site's side of {@code join.token}: makes the site's key here, sends a certificate
 * signing request with the token to the CA daemon's {@code POST /v1/join}, checks the answer and keeps
 * the credentials in the state directory ({@code site.pem}, {@code site-key.pem} with mode 600,
 * {@code trust-bundle.pem}). Once they are there, later starts use them and do not call the CA daemon
 * again (the token is used up by then); {@link SiteRenewer} renews them through {@code POST /v1/renew}
 * before they expire. A stored certificate that has expired cannot renew itself: the site then joins
 * again with {@code join.token}, which must be a new token.
 */
public final class SiteJoiner {

    private static final Logger logger = LoggerFactory.getLogger(SiteJoiner.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Shorter than a join's: a renewal runs on the daemon's scheduler, which it holds up while it waits. */
    private static final Duration RENEW_TIMEOUT = Duration.ofSeconds(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SiteJoiner() {}

    /**
     * Returns the site's credentials from an earlier join or renewal, or joins now: when there are none
     * yet, or when the stored certificate has expired.
     *
     * @param config the settings, with {@link DaemonConfig#joinToken()} set
     * @return the site's credentials, not expired
     * @throws MeshException when the CA daemon cannot be reached or refuses the token, naming the server
     *     and what it said; after an expired certificate, saying that a new join token is needed
     */
    public static SiteCredentials credentials(DaemonConfig config) {
        Path chainFile = config.stateDir().resolve("site.pem");
        Path keyFile = config.stateDir().resolve("site-key.pem");
        Path bundleFile = config.stateDir().resolve("trust-bundle.pem");
        if (Files.exists(chainFile) && Files.exists(keyFile) && Files.exists(bundleFile)) {
            SiteCredentials stored = SiteCredentials.fromFiles(config.trustDomain(), chainFile, keyFile, bundleFile);
            Instant now = Instant.now();
            if (now.isBefore(stored.notAfter())) {
                logger.info("site {}: using the credentials of an earlier join in {}, valid until {}", config.site(),
                        config.stateDir(), stored.notAfter());
                return stored;
            }
            logger.warn("site {}: the certificate in {} expired at {}; it cannot renew itself, joining again with "
                    + "join.token", config.site(), chainFile, stored.notAfter());
            try {
                return join(config);
            } catch (MeshException e) {
                throw new MeshException("join.token: the certificate of site " + config.site() + " in " + chainFile
                        + " expired at " + stored.notAfter() + " (the site was not running to renew it, or could not "
                        + "reach the CA daemon), and an expired certificate cannot renew itself; joining again failed: "
                        + e.getMessage() + ". Issue a new join token with \"meshctl token create " + config.site()
                        + "\" and start the daemon with it as join.token", e);
            }
        }
        return join(config);
    }

    private static SiteCredentials join(DaemonConfig config) {
        String token = requireNonNull(config.joinToken(), "joinToken");
        URI server = requireNonNull(config.joinServer(), "joinServer");
        SiteEnrollment enrollment = SiteEnrollment.create(config.trustDomain(), config.site());
        URI join = server.resolve("/v1/join");
        ObjectNode body = JSON.createObjectNode();
        body.put("token", token);
        body.put("csr", enrollment.csrPem());
        HttpResponse<String> response;
        try {
            response = post(connection(config, server, null), join, body, TIMEOUT);
        } catch (IOException e) {
            throw new MeshException("join.server: cannot join site " + config.site() + " through " + join + ": "
                    + e + " (expected: the admin API of the daemon that issued the token, reachable and trusted "
                    + "through join.caBundle and join.serverIdentity)", e);
        }
        if (response.statusCode() != 200) {
            throw new MeshException("join.token: " + join + " refused to let site " + config.site() + " join: HTTP "
                    + response.statusCode() + " " + errorOf(response.body()) + " (expected: an unused, "
                    + "unexpired token issued for site " + config.site() + "; issue one with \"meshctl token create "
                    + config.site() + "\")");
        }
        SiteCredentials credentials = complete(enrollment, join, response.body(), null);
        write(config.stateDir(), credentials);
        logger.info("site {} joined the mesh through {}: {} valid until {}", config.site(), server,
                credentials.spiffeId(), credentials.notAfter());
        return credentials;
    }

    /**
     * Renews the certificate once: a fresh key made here, {@code POST /v1/renew} with the current
     * certificate as the TLS client certificate, the answer checked (the site's own identity, the new
     * key, a chain that verifies against the answered trust bundle, which shares a root with the current
     * one) and written to the state directory. Blocks for at most about 20 seconds.
     *
     * @param config the settings of the joined site
     * @param current the credentials to authenticate with
     * @return the new credentials, already stored
     * @throws MeshException when the CA daemon cannot be reached, refuses, or answers with unusable
     *     credentials; the message says which
     */
    static SiteCredentials renew(DaemonConfig config, SiteCredentials current) {
        URI server = requireNonNull(config.joinServer(), "joinServer");
        SiteEnrollment enrollment = SiteEnrollment.create(config.trustDomain(), config.site());
        URI renew = server.resolve("/v1/renew");
        ObjectNode body = JSON.createObjectNode();
        body.put("csr", enrollment.csrPem());
        HttpResponse<String> response;
        try {
            response = post(connection(config, server, current), renew, body, RENEW_TIMEOUT);
        } catch (IOException e) {
            throw new MeshException("cannot reach " + renew + ": " + describe(e), e);
        }
        if (response.statusCode() != 200) {
            throw new MeshException(renew + " refused the renewal: HTTP " + response.statusCode() + " "
                    + errorOf(response.body()));
        }
        SiteCredentials renewed = complete(enrollment, renew, response.body(), current);
        write(config.stateDir(), renewed);
        return renewed;
    }

    /** The exception, with the first message along its causes when it has none itself (a refused connection). */
    private static String describe(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                return t == e ? e.toString() : e + " (" + t + ")";
            }
        }
        return e.toString() + " (no reason given: e.g. the connection was refused)";
    }

    private static HttpResponse<String> post(MeshConnection connection, URI uri, ObjectNode body, Duration timeout)
            throws IOException {
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .sslContext(connection.sslContext())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        try {
            return client.send(HttpRequest.newBuilder(uri).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), UTF_8))
                    .build(), HttpResponse.BodyHandlers.ofString(UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MeshException("interrupted while calling " + uri, e);
        }
    }

    private static SiteCredentials complete(SiteEnrollment enrollment, URI uri, String body,
            @Nullable SiteCredentials current) {
        try {
            JsonNode answer = JSON.readTree(body);
            SiteCredentials credentials = enrollment.complete(answer.path("certificateChain").asString(""),
                    answer.path("trustBundle").asString(""));
            if (current != null && credentials.trustBundle().roots().stream()
                    .noneMatch(current.trustBundle().roots()::contains)) {
                throw new MeshException("its trust bundle " + credentials.trustBundle() + " shares no root with the "
                        + "current one " + current.trustBundle());
            }
            return credentials;
        } catch (JacksonException | IllegalArgumentException | MeshException e) {
            throw new MeshException("join.server: " + uri + " answered with unusable credentials: "
                    + e.getMessage(), e);
        }
    }

    private static MeshConnection connection(DaemonConfig config, URI server, @Nullable SiteCredentials client)
            throws IOException {
        MeshConnection.Builder connection = MeshConnection.builder(server);
        Path bundle = config.joinCaBundle();
        if (bundle != null) {
            connection.trustedCertificatesPem(Files.readString(bundle, UTF_8));
        } else if (client != null) {
            connection.trustedCertificatesPem(client.trustBundle().toPem());
        }
        if (client != null) {
            connection.clientCredentials(client.certificateChainPem(), client.privateKeyPem());
        }
        if (config.joinServerIdentity() != null) {
            connection.serverIdentity(config.joinServerIdentity());
        }
        return connection.build();
    }

    private static String errorOf(String body) {
        try {
            JsonNode error = JSON.readTree(body).get("error");
            if (error != null && error.isString()) {
                return error.stringValue();
            }
        } catch (JacksonException e) {
            // not our error document: show the start of the body
        }
        return body.length() > 200 ? body.substring(0, 200) + "..." : body;
    }

    /**
     * Writes the files, each through a temporary file and an atomic move; the moves come last and back to
     * back, so that a crash leaves a set a later start can use (in the rare crash between the key's move
     * and the chain's, the key no longer matches and the start fails saying so). The chain is moved last:
     * its presence marks a finished join.
     */
    static void write(Path stateDir, SiteCredentials credentials) {
        try {
            Files.createDirectories(stateDir);
            Path tmpKey = stateDir.resolve("site-key.pem.tmp");
            Files.deleteIfExists(tmpKey);
            try {
                Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: the directory's permissions protect the key.
                Files.createFile(tmpKey);
            }
            Files.writeString(tmpKey, credentials.privateKeyPem(), UTF_8);
            Path tmpBundle = stateDir.resolve("trust-bundle.pem.tmp");
            Files.writeString(tmpBundle, credentials.trustBundle().toPem(), UTF_8);
            Path tmpChain = stateDir.resolve("site.pem.tmp");
            Files.writeString(tmpChain, credentials.certificateChainPem(), UTF_8);
            Files.move(tmpBundle, stateDir.resolve("trust-bundle.pem"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpKey, stateDir.resolve("site-key.pem"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpChain, stateDir.resolve("site.pem"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("stateDir: cannot write the joined site's credentials to " + stateDir
                    + ": " + e.getMessage(), e);
        }
    }
}
