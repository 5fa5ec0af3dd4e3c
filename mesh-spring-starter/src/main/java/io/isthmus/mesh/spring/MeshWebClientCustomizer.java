package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Adds a {@link MeshExchangeFilterFunction} to every {@code WebClient.Builder} Spring Boot hands
 * out, so that {@code http://osaka-app/...} reaches the mesh in either mode.
 *
 * <pre>{@code
 * @Bean
 * WebClient osaka(WebClient.Builder builder) {
 *     return builder.baseUrl("http://osaka-app").build();
 * }
 * }</pre>
 */
public final class MeshWebClientCustomizer implements WebClientCustomizer {

    private final MeshExchangeFilterFunction filter;

    /**
     * Creates the customizer.
     *
     * @param filter the filter to add
     */
    public MeshWebClientCustomizer(MeshExchangeFilterFunction filter) {
        this.filter = requireNonNull(filter, "filter");
    }

    @Override
    public void customize(WebClient.Builder builder) {
        builder.filter(filter);
    }
}
