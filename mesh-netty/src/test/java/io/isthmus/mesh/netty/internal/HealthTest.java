package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.OutlierDetection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HealthTest {

    private static final Endpoint E = Endpoint.of("10.0.0.7", 8080);

    @Test
    void flipsOnlyAfterTheThresholdsOfConsecutiveResults() {
        Health health = new Health();
        health.checked(E, false, 2, 3);
        health.checked(E, false, 2, 3);
        assertThat(health.healthy(E)).isTrue();
        health.checked(E, true, 2, 3);
        health.checked(E, false, 2, 3);
        health.checked(E, false, 2, 3);
        assertThat(health.healthy(E)).as("a success in between resets the count").isTrue();
        health.checked(E, false, 2, 3);
        assertThat(health.healthy(E)).isFalse();

        health.checked(E, true, 2, 3);
        assertThat(health.healthy(E)).isFalse();
        health.checked(E, true, 2, 3);
        assertThat(health.healthy(E)).isTrue();
    }

    @Test
    void ejectsAfterConsecutiveFailuresOnlyWhenOutlierDetectionIsConfigured() {
        Health health = new Health();
        for (int i = 0; i < 10; i++) {
            health.outcome(E, true, null);
        }
        assertThat(health.healthy(E)).isTrue();

        OutlierDetection outliers = OutlierDetection.builder().consecutive5xx(3).baseEjectionTime(Duration.ofMinutes(5))
                .build();
        health.outcome(E, true, outliers);
        health.outcome(E, true, outliers);
        health.outcome(E, false, outliers);
        health.outcome(E, true, outliers);
        health.outcome(E, true, outliers);
        assertThat(health.healthy(E)).isTrue();
        health.outcome(E, true, outliers);
        assertThat(health.healthy(E)).isFalse();
    }

    @Test
    void remembersARemoteSiteWithoutHealthyOriginsPerPool() {
        Health health = new Health();
        io.isthmus.mesh.model.ObjectKey a = io.isthmus.mesh.model.ObjectKey.of(io.isthmus.mesh.model.Kind.ORIGIN_POOL,
                "default", "a");
        io.isthmus.mesh.model.ObjectKey b = io.isthmus.mesh.model.ObjectKey.of(io.isthmus.mesh.model.Kind.ORIGIN_POOL,
                "default", "b");
        health.remoteUnhealthy("osaka", a);

        assertThat(health.remoteHealthy("osaka", a)).isFalse();
        assertThat(health.remoteHealthy("osaka", b)).isTrue();
        assertThat(health.remoteHealthy("kyoto", a)).isTrue();
    }
}
