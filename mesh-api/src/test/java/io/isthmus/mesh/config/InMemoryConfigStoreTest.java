package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

class InMemoryConfigStoreTest extends ConfigStoreContractTest {

    @Override
    protected ConfigStore newStore() {
        return ConfigStore.inMemory();
    }

    @Test
    void reportsAWatchFromACompactedRevision() {
        for (int i = 0; i < 10_001; i++) {
            store.put(site("osaka", 1 + i % 60000));
        }
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (ConfigWatch watch = store.watch(0, new ConfigListener() {
            @Override
            public void onEvent(ConfigEvent event) {}

            @Override
            public void onError(Throwable cause) {
                errors.add(cause);
            }
        })) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !errors.isEmpty());
            assertThat(errors.get(0)).isInstanceOf(ConfigStoreException.class).hasMessageContaining("compacted");
        }
    }
}
