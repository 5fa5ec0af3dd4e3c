package io.isthmus.mesh.spring;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.netty.MeshRouter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Contributes the {@code isthmus} health component when Spring Boot's health support is on the class
 * path: {@link MeshRouterHealthIndicator} in embedded mode, {@link MeshHealthIndicator} otherwise.
 * Backs off when the application defines a bean named {@code isthmusHealthIndicator}.
 */
@AutoConfiguration(after = IsthmusAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBooleanProperty(name = "isthmus.enabled", matchIfMissing = true)
@ConditionalOnBean(MeshClient.class)
public class IsthmusHealthAutoConfiguration {

    /** Created by Spring. */
    public IsthmusHealthAutoConfiguration() {}

    /**
     * The health of the mesh as the client sees it (daemon mode).
     *
     * @param client the mesh client
     * @return the indicator
     */
    @Bean
    @ConditionalOnMissingBean(name = "isthmusHealthIndicator")
    HealthIndicator isthmusHealthIndicator(MeshClient client) {
        return new MeshHealthIndicator(client);
    }

    /** The embedded router's health. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeshRouter.class)
    @ConditionalOnBean({MeshRouter.class, MeshRouterLifecycle.class, MeshRouterStatus.class})
    static class RouterHealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "isthmusHealthIndicator")
        HealthIndicator isthmusHealthIndicator(MeshRouter router, MeshRouterLifecycle lifecycle,
                MeshRouterStatus status, MeshClient client) {
            return new MeshRouterHealthIndicator(router, lifecycle, status, client);
        }
    }
}
