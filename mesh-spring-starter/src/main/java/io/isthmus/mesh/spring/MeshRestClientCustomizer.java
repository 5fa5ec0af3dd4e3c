package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Duration;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * Lets a {@link RestClient} built from Spring Boot's {@code RestClient.Builder} call mesh domains
 * ({@code http://osaka-app/orders}) in either mode: it gives the builder a request factory on the
 * JDK {@link HttpClient} whose proxy selector is a {@link MeshProxySelector}, so requests for mesh
 * domains go to the router ingress with their authority intact and all other requests go out as
 * before (through the JVM's default proxy selector).
 *
 * <pre>{@code
 * @Bean
 * RestClient osaka(RestClient.Builder builder) {
 *     return builder.baseUrl("http://osaka-app").build();
 * }
 * }</pre>
 *
 * <p>It replaces the request factory the builder had: an application that needs another HTTP
 * library defines its own {@code MeshRestClientCustomizer} bean, or sets
 * {@code isthmus.http.enabled=false} and uses {@link MeshProxySelector} directly. Thread-safe; the
 * one {@link HttpClient} is shared by all clients built with it.
 */
public final class MeshRestClientCustomizer implements RestClientCustomizer {

    private final JdkClientHttpRequestFactory requestFactory;

    /**
     * Creates the customizer.
     *
     * @param proxySelector the selector that sends mesh requests to the ingress
     * @param connectTimeout how long connecting may take
     */
    public MeshRestClientCustomizer(ProxySelector proxySelector, Duration connectTimeout) {
        requireNonNull(proxySelector, "proxySelector");
        requireNonNull(connectTimeout, "connectTimeout");
        // HTTP/1.1: the ingress takes absolute-form requests from clients that use it as a proxy.
        HttpClient http = HttpClient.newBuilder()
                .proxy(proxySelector)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .build();
        this.requestFactory = new JdkClientHttpRequestFactory(http);
    }

    @Override
    public void customize(RestClient.Builder builder) {
        builder.requestFactory(requestFactory);
    }
}
