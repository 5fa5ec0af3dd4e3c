package io.isthmus.mesh.spring;

import io.isthmus.mesh.client.MeshClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.client.ConditionalOnBlockingDiscoveryEnabled;
import org.springframework.cloud.client.ConditionalOnDiscoveryEnabled;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.annotation.Bean;

/**
 * Provides the {@link MeshDiscoveryClient} when Spring Cloud Commons is on the class path and
 * discovery is enabled ({@code spring.cloud.discovery.enabled}, {@code isthmus.discovery.enabled},
 * both on by default). Spring Cloud's composite client lists it beside the others.
 */
@AutoConfiguration(after = IsthmusAutoConfiguration.class)
@ConditionalOnClass(DiscoveryClient.class)
@ConditionalOnBooleanProperty(name = "isthmus.enabled", matchIfMissing = true)
@ConditionalOnDiscoveryEnabled
@ConditionalOnBlockingDiscoveryEnabled
@ConditionalOnBooleanProperty(name = "isthmus.discovery.enabled", matchIfMissing = true)
public class IsthmusDiscoveryClientAutoConfiguration {

    /** Created by Spring. */
    public IsthmusDiscoveryClientAutoConfiguration() {}

    /**
     * The discovery client of the mesh services.
     *
     * @param client the mesh client
     * @return the discovery client
     */
    @Bean
    @ConditionalOnBean(MeshClient.class)
    @ConditionalOnMissingBean
    MeshDiscoveryClient isthmusDiscoveryClient(MeshClient client) {
        return new MeshDiscoveryClient(client);
    }
}
