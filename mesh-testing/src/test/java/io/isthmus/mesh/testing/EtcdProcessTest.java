package io.isthmus.mesh.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdProcessTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void keepsItsDataAndPortAcrossAStopAndAStart() throws Exception {
        URI endpoint = etcd.endpoint();
        put("kit-key", "kept");

        etcd.stop();
        assertThat(etcd.isRunning()).isFalse();
        etcd.start();

        assertThat(etcd.endpoint()).isEqualTo(endpoint);
        assertThat(etcd.endpoints()).containsExactly(endpoint);
        assertThat(range("kit-key")).contains(base64("kept"));
    }

    private static void put(String key, String value) throws Exception {
        post("/v3/kv/put", "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(value) + "\"}");
    }

    private static String range(String key) throws Exception {
        return post("/v3/kv/range", "{\"key\":\"" + base64(key) + "\"}");
    }

    private static String post(String path, String json) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(etcd.endpoint().resolve(path))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
