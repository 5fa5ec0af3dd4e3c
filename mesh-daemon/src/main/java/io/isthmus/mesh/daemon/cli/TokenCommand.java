package io.isthmus.mesh.daemon.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.isthmus.mesh.client.MeshAdminException;
import io.isthmus.mesh.client.MeshConnection;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** {@code meshctl token create SITE [--ttl 1h]}: a one-time token for a new site to join the mesh. */
@Command(name = "token", description = "Issues join tokens: one-time credentials for a new site to join the mesh.",
        subcommands = TokenCommand.Create.class)
final class TokenCommand implements Runnable {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code meshctl token create SITE}. */
    @Command(name = "create", description = {"Issues a join token for SITE at a daemon that holds the mesh CA, "
            + "and prints it with the command line that starts the new site's daemon.",
        "The token is shown once; it is used up by the first daemon that joins with it."})
    static final class Create implements Callable<Integer> {

        @ParentCommand
        @SuppressWarnings("NullAway.Init")
        TokenCommand token;

        @Spec
        @SuppressWarnings("NullAway.Init")
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SITE", description = "the name of the site that will join")
        @SuppressWarnings("NullAway.Init")
        String site;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "how long the token may be used, e.g. 30m, "
                + "1h, 2d (default: 1h; at most 7d)")
        @Nullable String ttl;

        @Override
        public Integer call() {
            ConnectionSettings settings = ConnectionSettings.resolve(token.meshctl, spec);
            MeshConnection connection = settings.toConnection();
            JsonMapper json = JsonMapper.builder().build();
            ObjectNode request = json.createObjectNode();
            request.put("site", site);
            if (ttl != null) {
                request.put("ttl", ttl);
            }
            URI uri = connection.adminUrl().resolve("/v1/join-tokens");
            HttpResponse<String> response = post(connection, uri, json.writeValueAsString(request));
            JsonNode answer = parse(json, uri, response);
            if (response.statusCode() != 201) {
                JsonNode error = answer.get("error");
                throw new MeshAdminException("POST " + uri + ": HTTP " + response.statusCode() + " "
                        + (error == null ? response.body().strip() : error.asString("")), response.statusCode(), uri,
                        null);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(render(answer, connection, settings.certificateAuthority()));
            out.flush();
            return Meshctl.OK;
        }

        private static HttpResponse<String> post(MeshConnection connection, URI uri, String body) {
            HttpClient client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(connection.connectTimeout())
                    .sslContext(connection.sslContext())
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(connection.requestTimeout())
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8));
            String bearer = connection.bearerToken();
            if (bearer != null) {
                request.header("Authorization", "Bearer " + bearer);
            }
            try {
                return client.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
            } catch (IOException e) {
                throw new MeshAdminException("cannot connect to " + connection.adminUrl() + ": " + e, 0, uri, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MeshAdminException("interrupted while calling " + uri, 0, uri, e);
            }
        }

        private static JsonNode parse(JsonMapper json, URI uri, HttpResponse<String> response) {
            try {
                return json.readTree(response.body());
            } catch (JacksonException e) {
                throw new MeshAdminException("POST " + uri + ": HTTP " + response.statusCode() + " with a body that "
                        + "is not JSON: " + e.getOriginalMessage(), response.statusCode(), uri, e);
            }
        }

        /** The token on the first line alone (for scripts), then what to run at the new site. */
        static String render(JsonNode answer, MeshConnection connection, @Nullable Path caFile) {
            String value = answer.path("token").asString("");
            String site = answer.path("site").asString("");
            StringBuilder command = new StringBuilder("java -jar isthmus-daemon.jar --site ").append(site)
                    .append(" --trust-domain ").append(answer.path("trustDomain").asString(""))
                    .append(" \\\n    --join-token ").append(value)
                    .append(" \\\n    --join-server ").append(connection.adminUrl());
            if ("https".equalsIgnoreCase(connection.adminUrl().getScheme())) {
                command.append(" \\\n    --join-ca-bundle ").append(caFile == null ? "trust-bundle.pem" : caFile);
                if (connection.serverIdentity() != null) {
                    command.append(" --join-server-identity ").append(connection.serverIdentity());
                }
            }
            return value + "\n"
                    + "\n"
                    + "Join token " + answer.path("tokenId").asString("") + " for site " + site + " ("
                    + answer.path("spiffeId").asString("") + "), valid until " + answer.path("expiresAt").asString("")
                    + ", usable once.\n"
                    + "Start the new site's daemon with:\n"
                    + "\n"
                    + "  " + command + "\n";
        }
    }
}
