package io.isthmus.mesh.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A small HTTP client for the admin API in tests: every call is bounded by a timeout. */
final class Http {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final @Nullable String token;

    Http(String base, @Nullable String token) {
        this.base = base;
        this.token = token;
    }

    Http withToken(@Nullable String other) {
        return new Http(base, other);
    }

    HttpResponse<String> get(String path) {
        return send(builder(path).GET(), null);
    }

    HttpResponse<String> delete(String path, @Nullable String ifMatch) {
        HttpRequest.Builder b = builder(path).DELETE();
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return send(b, null);
    }

    HttpResponse<String> put(String path, String contentType, String body, @Nullable String ifMatch) {
        HttpRequest.Builder b = builder(path).PUT(HttpRequest.BodyPublishers.ofString(body));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return send(b, contentType);
    }

    HttpResponse<String> post(String path, String contentType, String body) {
        return send(builder(path).POST(HttpRequest.BodyPublishers.ofString(body)), contentType);
    }

    HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    HttpClient client() {
        return client;
    }

    private HttpResponse<String> send(HttpRequest.Builder b, @Nullable String contentType) {
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        return JSON.readTree(response.body());
    }
}
