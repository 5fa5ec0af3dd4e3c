package io.isthmus.mesh.client.internal;

import io.isthmus.mesh.client.MeshAdminException;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.model.ObjectKey;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP side of the admin API: sends requests with the connection's credentials and turns every
 * failure into the mesh's exceptions, naming the URL.
 */
final class AdminHttp {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** One response that arrived, with its body as text. */
    record Response(String method, URI uri, int status, String body) {}

    private final MeshConnection connection;
    private final HttpClient client;

    AdminHttp(MeshConnection connection) {
        this.connection = connection;
        client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connection.connectTimeout())
                .sslContext(connection.sslContext())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    MeshConnection connection() {
        return connection;
    }

    URI uri(String pathAndQuery) {
        return URI.create(connection.adminUrl() + pathAndQuery);
    }

    /** Sends a request and returns the response, whatever its status. */
    Response send(String method, String pathAndQuery, @Nullable String jsonBody, @Nullable String ifMatch) {
        URI uri = uri(pathAndQuery);
        HttpRequest.Builder request = request(uri).timeout(connection.requestTimeout());
        if (ifMatch != null) {
            request.header("If-Match", '"' + ifMatch + '"');
        }
        if (jsonBody != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> response = client.send(request.build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(method, uri, response.statusCode(), response.body());
        } catch (IOException e) {
            throw transportFailure(method, uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MeshAdminException(method + ' ' + uri + ": interrupted", 0, uri, e);
        }
    }

    /** Opens a streaming GET, e.g. a watch; the caller closes the body. */
    HttpResponse<InputStream> openStream(String pathAndQuery) throws IOException, InterruptedException {
        // The time-out covers the wait for the response headers only; the body may stream for ever.
        return client.send(request(uri(pathAndQuery)).timeout(connection.watchIdleTimeout()).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "application/json");
        String token = connection.bearerToken();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    /** Parses a JSON response body, failing with the URL when it is not JSON. */
    static JsonNode json(Response response) {
        JsonNode node = null;
        JacksonException failure = null;
        try {
            node = JSON.readTree(response.body());
        } catch (JacksonException e) {
            failure = e;
        }
        if (node == null || node.isMissingNode() || !node.isObject()) {
            throw new MeshAdminException(response.method() + ' ' + response.uri() + ": HTTP " + response.status()
                    + " with a body that is not a JSON object (expected: a JSON document of the admin API): \""
                    + abbreviate(response.body()) + '"', response.status(), response.uri(), failure);
        }
        return node;
    }

    /**
     * Returns the exception for a refused request: a validation error for 422, a conflict for 409 when the
     * object is known, otherwise a {@link MeshAdminException} with the status and the server's message.
     */
    static RuntimeException refused(Response response, @Nullable ObjectKey key, long expectedRevision) {
        JsonNode body = null;
        try {
            body = JSON.readTree(response.body());
        } catch (JacksonException e) {
            // Not JSON: the raw body is shown below.
        }
        String error = body != null && body.isObject() ? text(body, "error") : null;
        if (response.status() == 422 && body != null && body.isObject()) {
            String field = text(body, "field");
            String problem = error == null ? "rejected" : error;
            if (field != null && !field.isEmpty() && problem.startsWith(field + ": ")) {
                problem = problem.substring(field.length() + 2);
            }
            return new ConfigValidationException(field == null ? "" : field, problem);
        }
        if (response.status() == 409 && key != null) {
            String current = body != null && body.isObject() ? text(body, "currentResourceVersion") : null;
            return new ConfigConflictException(key, expectedRevision, parseRevision(current));
        }
        String detail = error != null ? error : abbreviate(response.body());
        return new MeshAdminException(response.method() + ' ' + response.uri() + ": HTTP " + response.status()
                + ' ' + reasonPhrase(response.status()) + (detail.isEmpty() ? "" : ": " + detail),
                response.status(), response.uri(), null);
    }

    static long parseRevision(@Nullable String text) {
        if (text == null) {
            return 0;
        }
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static @Nullable String text(JsonNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull() || value.isMissingNode()) {
            return null;
        }
        return value.isString() ? value.stringValue() : value.toString();
    }

    private static String reasonPhrase(int status) {
        switch (status) {
            case 400: return "bad request";
            case 401: return "unauthorised (check the bearer token or client certificate)";
            case 403: return "forbidden (the credentials' role may not do this)";
            case 404: return "not found";
            case 405: return "method not allowed";
            case 409: return "conflict";
            case 415: return "unsupported media type";
            case 422: return "invalid";
            case 501: return "not implemented";
            case 503: return "unavailable";
            default: return status >= 500 ? "server error" : "refused";
        }
    }

    private static String abbreviate(String text) {
        String oneLine = text.strip().replaceAll("\\s+", " ");
        return oneLine.length() > 200 ? oneLine.substring(0, 197) + "..." : oneLine;
    }

    /** Describes why no response arrived: refused connection, untrusted certificate, host name mismatch… */
    static MeshAdminException transportFailure(String method, URI uri, IOException e) {
        String what;
        if (e instanceof HttpConnectTimeoutException) {
            what = "cannot connect to " + uri + ": timed out";
        } else if (e instanceof HttpTimeoutException) {
            what = method + ' ' + uri + ": no response in time";
        } else if (has(e, ConnectException.class)) {
            what = "cannot connect to " + uri + ": connection refused (is the daemon running, and is its admin API "
                    + "listening at " + uri.getHost() + ':' + port(uri) + "?)";
        } else if (has(e, UnknownHostException.class)) {
            what = "cannot connect to " + uri + ": unknown host " + uri.getHost();
        } else if (has(e, SSLException.class)) {
            what = "TLS failure at " + uri + ": " + tlsProblem(e, uri);
        } else {
            what = "cannot reach " + uri + ": " + describe(e);
        }
        return new MeshAdminException(what, 0, uri, e);
    }

    private static String tlsProblem(IOException e, URI uri) {
        String messages = allMessages(e).toLowerCase(Locale.ROOT);
        if (messages.contains("no subject alternative") || messages.contains("no name matching")) {
            return "hostname mismatch: the server's certificate does not name " + uri.getHost()
                    + " (expected: a DNS or IP subject alternative name for it)";
        }
        if (has(e, CertificateExpiredException.class) || messages.contains("certificate expired")
                || messages.contains("validity check failed")) {
            return "the server's certificate has expired or is not yet valid";
        }
        if (has(e, CertPathBuilderException.class) || has(e, CertPathValidatorException.class)
                || messages.contains("unable to find valid certification path") || messages.contains("pkix path")) {
            return "certificate not trusted: the server's certificate does not chain to a trusted certificate "
                    + "(give the mesh CA bundle, e.g. meshctl --certificate-authority ca.pem)";
        }
        if (messages.contains("bad_certificate") || messages.contains("certificate_required")
                || messages.contains("unknown_ca")) {
            return "the server refused the client certificate (" + describe(e) + ")";
        }
        if (messages.contains("unrecognized ssl message") || messages.contains("plaintext connection")) {
            return "the server does not speak TLS (expected: an https admin API; use http:// for a plain one)";
        }
        if (e instanceof SSLHandshakeException || has(e, SSLHandshakeException.class)) {
            return "handshake failed: " + describe(e);
        }
        return describe(e);
    }

    private static boolean has(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static String allMessages(Throwable e) {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 20; t = t.getCause(), depth++) {
            out.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return out.toString();
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        int depth = 0;
        while (root.getCause() != null && root.getCause() != root && depth++ < 20) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }
}
