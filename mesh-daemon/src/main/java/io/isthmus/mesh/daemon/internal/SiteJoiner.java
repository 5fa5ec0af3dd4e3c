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
 * again (the token is used up by then).
 */
public final class SiteJoiner {

    private static final Logger logger = LoggerFactory.getLogger(SiteJoiner.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private SiteJoiner() {}

    /**
     * Returns the site's credentials from an earlier join, or joins now.
     *
     * @param config the settings, with {@link DaemonConfig#joinToken()} set
     * @return the site's credentials
     * @throws MeshException when the CA daemon cannot be reached or refuses the token, naming the server
     *     and what it said
     */
    public static SiteCredentials credentials(DaemonConfig config) {
        String token = requireNonNull(config.joinToken(), "joinToken");
        URI server = requireNonNull(config.joinServer(), "joinServer");
        Path chainFile = config.stateDir().resolve("site.pem");
        Path keyFile = config.stateDir().resolve("site-key.pem");
        Path bundleFile = config.stateDir().resolve("trust-bundle.pem");
        if (Files.exists(chainFile) && Files.exists(keyFile) && Files.exists(bundleFile)) {
            logger.info("site {}: using the credentials of an earlier join in {}", config.site(), config.stateDir());
            return SiteCredentials.fromFiles(config.trustDomain(), chainFile, keyFile, bundleFile);
        }
        SiteEnrollment enrollment = SiteEnrollment.create(config.trustDomain(), config.site());
        URI join = server.resolve("/v1/join");
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode body = json.createObjectNode();
        body.put("token", token);
        body.put("csr", enrollment.csrPem());
        HttpResponse<String> response;
        try {
            HttpClient client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(TIMEOUT)
                    .sslContext(connection(config, server).sslContext())
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            response = client.send(HttpRequest.newBuilder(join).timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body), UTF_8))
                    .build(), HttpResponse.BodyHandlers.ofString(UTF_8));
        } catch (IOException e) {
            throw new MeshException("join.server: cannot join site " + config.site() + " through " + join + ": "
                    + e + " (expected: the admin API of the daemon that issued the token, reachable and trusted "
                    + "through join.caBundle and join.serverIdentity)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MeshException("join.server: interrupted while joining through " + join, e);
        }
        if (response.statusCode() != 200) {
            throw new MeshException("join.token: " + join + " refused to let site " + config.site() + " join: HTTP "
                    + response.statusCode() + " " + errorOf(json, response.body()) + " (expected: an unused, "
                    + "unexpired token issued for site " + config.site() + "; issue one with \"meshctl token create "
                    + config.site() + "\")");
        }
        SiteCredentials credentials;
        try {
            JsonNode answer = json.readTree(response.body());
            credentials = enrollment.complete(answer.path("certificateChain").asString(""),
                    answer.path("trustBundle").asString(""));
        } catch (JacksonException | IllegalArgumentException | MeshException e) {
            throw new MeshException("join.server: " + join + " answered with unusable credentials: "
                    + e.getMessage(), e);
        }
        write(config.stateDir(), credentials);
        logger.info("site {} joined the mesh through {}: {} valid until {}", config.site(), server,
                credentials.spiffeId(), credentials.notAfter());
        return credentials;
    }

    private static MeshConnection connection(DaemonConfig config, URI server) throws IOException {
        MeshConnection.Builder connection = MeshConnection.builder(server);
        Path bundle = config.joinCaBundle();
        if (bundle != null) {
            connection.trustedCertificatesPem(Files.readString(bundle, UTF_8));
        }
        if (config.joinServerIdentity() != null) {
            connection.serverIdentity(config.joinServerIdentity());
        }
        return connection.build();
    }

    private static String errorOf(JsonMapper json, String body) {
        try {
            JsonNode error = json.readTree(body).get("error");
            if (error != null && error.isString()) {
                return error.stringValue();
            }
        } catch (JacksonException e) {
            // not our error document: show the start of the body
        }
        return body.length() > 200 ? body.substring(0, 200) + "..." : body;
    }

    /** Writes the files so that a crash leaves either all of them or none a later start would use. */
    private static void write(Path stateDir, SiteCredentials credentials) {
        try {
            Files.createDirectories(stateDir);
            Path key = stateDir.resolve("site-key.pem");
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
            Files.move(tmpKey, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(stateDir.resolve("trust-bundle.pem"), credentials.trustBundle().toPem(), UTF_8);
            // The chain last: its presence marks a finished join.
            Path tmpChain = stateDir.resolve("site.pem.tmp");
            Files.writeString(tmpChain, credentials.certificateChainPem(), UTF_8);
            Files.move(tmpChain, stateDir.resolve("site.pem"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("stateDir: cannot write the joined site's credentials to " + stateDir
                    + ": " + e.getMessage(), e);
        }
    }
}
