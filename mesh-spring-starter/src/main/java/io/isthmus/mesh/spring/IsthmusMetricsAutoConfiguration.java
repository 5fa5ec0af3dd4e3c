package io.isthmus.mesh.spring;

import io.isthmus.mesh.netty.MeshRouter;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Provides {@link MeshRouterMetrics} for the embedded router when Micrometer is on the class path;
 * Spring Boot's metrics support binds it to the application's registries.
 */
@AutoConfiguration(after = IsthmusAutoConfiguration.class)
@ConditionalOnClass({MeterBinder.class, MeshRouter.class})
@ConditionalOnBooleanProperty(name = "isthmus.enabled", matchIfMissing = true)
@ConditionalOnBean({MeshRouter.class, MeshRouterStatus.class})
public class IsthmusMetricsAutoConfiguration {

    /** Created by Spring. */
    public IsthmusMetricsAutoConfiguration() {}

    /**
     * The router's meters.
     *
     * @param router the embedded router
     * @param status what it reported
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    MeshRouterMetrics isthmusMeshRouterMetrics(MeshRouter router, MeshRouterStatus status) {
        return new MeshRouterMetrics(router.site(), status);
    }
}
