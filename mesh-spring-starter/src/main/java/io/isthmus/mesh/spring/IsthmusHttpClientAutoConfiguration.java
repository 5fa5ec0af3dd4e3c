package io.isthmus.mesh.spring;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.spring.internal.MeshDomains;
import java.net.ProxySelector;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Makes Spring Boot's {@code RestClient.Builder} and {@code WebClient.Builder} reach mesh domains
 * ({@code http://osaka-app/...}) through the router ingress, in either mode, leaving requests to other
 * hosts untouched: a {@link MeshRestClientCustomizer} and a {@link MeshWebClientCustomizer}, each
 * applied when its library is on the class path. Off with {@code isthmus.http.enabled=false}.
 */
@AutoConfiguration(after = IsthmusAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "isthmus.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "isthmus.http.enabled", matchIfMissing = true)
@ConditionalOnBean(MeshClient.class)
public class IsthmusHttpClientAutoConfiguration {

    /** Created by Spring. */
    public IsthmusHttpClientAutoConfiguration() {}

    /** RestClient: a JDK HttpClient whose proxy selector sends mesh domains to the ingress. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({RestClient.class, RestClientCustomizer.class})
    static class RestClientConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MeshRestClientCustomizer isthmusRestClientCustomizer(MeshClient client, IsthmusProperties properties) {
            MeshDomains domains = new MeshDomains(client, properties.getHttp().getDomainRefresh());
            Duration connectTimeout = properties.getMode() == IsthmusProperties.Mode.EMBEDDED
                    ? properties.getEmbedded().getConnectTimeout()
                    : properties.getDaemon().getConnectTimeout();
            return new MeshRestClientCustomizer(
                    new MeshProxySelector(client, domains::isMeshDomain, ProxySelector.getDefault()), connectTimeout);
        }
    }

    /** WebClient: a filter that sends mesh domains to the ingress with their Host header. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({WebClient.class, WebClientCustomizer.class})
    static class WebClientConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MeshWebClientCustomizer isthmusWebClientCustomizer(MeshClient client, IsthmusProperties properties) {
            MeshDomains domains = new MeshDomains(client, properties.getHttp().getDomainRefresh());
            return new MeshWebClientCustomizer(new MeshExchangeFilterFunction(client, domains::isMeshDomain));
        }
    }
}
