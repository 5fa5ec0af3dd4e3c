package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import java.net.URI;
import java.util.Locale;
import java.util.function.Predicate;
import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Mono;

/**
 * A {@link ExchangeFilterFunction} that sends {@code WebClient} requests for mesh domains to the
 * router ingress, keeping the original authority in the {@code Host} header; other requests pass
 * untouched.
 *
 * <pre>{@code
 * WebClient osaka = WebClient.builder().filter(meshFilter).baseUrl("http://osaka-app").build();
 * }</pre>
 *
 * <p>Works with connectors that send the {@code Host} header they are given (Reactor Netty, Jetty,
 * Apache HttpComponents), not with the JDK {@code HttpClient}, which refuses to set it.
 * Thread-safe.
 */
public final class MeshExchangeFilterFunction implements ExchangeFilterFunction {

    private final MeshClient client;
    private final Predicate<String> meshDomain;

    /**
     * Creates the filter.
     *
     * @param client the client whose ingress carries mesh requests
     * @param meshDomain tells whether a host (lower case, without port) is a mesh domain
     */
    public MeshExchangeFilterFunction(MeshClient client, Predicate<String> meshDomain) {
        this.client = requireNonNull(client, "client");
        this.meshDomain = requireNonNull(meshDomain, "meshDomain");
    }

    @Override
    public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
        URI url = request.url();
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        String host = url.getHost();
        if (!scheme.equals("http") || host == null || !meshDomain.test(host.toLowerCase(Locale.ROOT))) {
            return next.exchange(request);
        }
        URI ingress = client.ingress();
        URI routed = UriComponentsBuilder.fromUri(url)
                .host(ingress.getHost())
                .port(ingress.getPort())
                .build(true)
                .toUri();
        String authority = url.getRawAuthority();
        ClientRequest meshRequest = ClientRequest.from(request)
                .url(routed)
                .headers(h -> h.set(HttpHeaders.HOST, authority))
                .build();
        return next.exchange(meshRequest);
    }
}
