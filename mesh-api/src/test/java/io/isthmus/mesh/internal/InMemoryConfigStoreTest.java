package io.isthmus.mesh.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreContractTest;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

// In the implementation's package, and not the contract's, so the contract is also run from another
// package, as store modules do.
class InMemoryConfigStoreTest extends ConfigStoreContractTest {

    @Override
    protected ConfigStore newStore() {
        return ConfigStore.inMemory();
    }

    @Test
    void startsEmptyAtRevisionZero() {
        assertThat(store.revision()).isZero();
        assertThat(store.snapshot().objects()).isEmpty();
        assertThat(store.snapshot().revision()).isZero();
    }

    @Test
    void reportsAWatchFromACompactedRevisionToTheListener() {
        for (int i = 0; i <= InMemoryConfigStore.HISTORY_LIMIT; i++) {
            store.put(site("osaka", 1 + i % 60_000));
        }
        Recorder recorder = new Recorder();

        watch(0, recorder);

        org.awaitility.Awaitility.await().atMost(eventTimeout()).until(() -> !recorder.errors().isEmpty());
        assertThat(recorder.errors()).singleElement(InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(ConfigStoreException.class)
                .hasMessage("watch from revision 0 (expected: at least 1; older revisions were compacted)");
        assertThat(recorder.events()).isEmpty();
    }

    @Test
    void rejectsWritesAfterClose() {
        store.put(site("osaka", 1));
        store.close();

        assertThatThrownBy(() -> store.put(site("osaka", 2)))
                .isInstanceOf(ConfigStoreException.class)
                .hasMessage("in-memory config store: closed");
        assertThatThrownBy(() -> store.delete(ObjectKey.of(Kind.SITE, "osaka")))
                .isInstanceOf(ConfigStoreException.class);
    }
}
