package io.isthmus.mesh.k8s.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.Client;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.testing.EtcdProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** How a watch behaves when etcd goes away and comes back, or forgets old revisions. */
class EtcdWatchRecoveryTest {

    private static final Duration EVENT_TIMEOUT = Duration.ofSeconds(30);

    private static Site site(String name, int port) {
        return Site.builder(name).tunnelEndpoint(Endpoint.of("127.0.0.1", port)).build();
    }

    private static EtcdConfigStore store(EtcdProcess etcd) {
        return EtcdConfigStore.builder(etcd.endpoints()).namespace("/recovery").build();
    }

    @Test
    void watchResumesAfterEtcdRestartAndDeliversChangesMadeMeanwhileExactlyOnce() {
        try (EtcdProcess etcd = EtcdProcess.started();
                EtcdConfigStore watched = store(etcd)) {
            Recorder recorder = new Recorder();
            long start = watched.revision();
            ConfigWatch watch = watched.watch(start, recorder);
            List<String> expected = new ArrayList<>();
            Versioned<MeshObject> osaka = watched.put(site("osaka", 1));
            expected.add("PUT Site/osaka@" + osaka.modRevision());
            Versioned<MeshObject> kyoto = watched.put(site("kyoto", 1));
            expected.add("PUT Site/kyoto@" + kyoto.modRevision());
            recorder.await(2);

            etcd.stop();
            etcd.start();

            // A writer with its own connection changes things before the watch has reconnected.
            try (EtcdConfigStore writer = store(etcd)) {
                Versioned<MeshObject> updated = writer.update(site("osaka", 2), osaka.modRevision());
                expected.add("PUT Site/osaka@" + updated.modRevision());
                writer.delete(kyoto.object().key());
                expected.add("DELETE Site/kyoto@" + writer.revision());
                Versioned<MeshObject> nara = writer.create(site("nara", 1));
                expected.add("PUT Site/nara@" + nara.modRevision());
            }
            // And the watched store's own connection works again.
            Versioned<MeshObject> sentinel = watched.put(site("sentinel", 1));
            expected.add("PUT Site/sentinel@" + sentinel.modRevision());

            List<ConfigEvent> events = recorder.await(expected.size());
            assertThat(events).extracting(ConfigEvent::toString).containsExactlyElementsOf(expected);
            assertThat(events).extracting(ConfigEvent::revision)
                    .containsExactlyElementsOf(range(start + 1, sentinel.modRevision()));
            assertThat(recorder.errors).isEmpty();
            assertThat(watched.get(ObjectKey.of(Kind.SITE, "osaka")).orElseThrow().object()).isEqualTo(site("osaka", 2));
            watch.close();
        }
    }

    @Test
    void watchFromACompactedRevisionEndsWithAClearError() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.started();
                EtcdConfigStore store = store(etcd);
                Client raw = Client.builder().endpoints(etcd.endpoints()).build()) {
            Versioned<MeshObject> first = store.put(site("osaka", 1));
            store.put(site("osaka", 2));
            Versioned<MeshObject> last = store.put(site("osaka", 3));
            raw.getKVClient().compact(last.modRevision()).get(10, TimeUnit.SECONDS);

            Recorder stale = new Recorder();
            Recorder current = new Recorder();
            store.watch(first.modRevision(), stale);
            store.watch(last.modRevision(), current);
            Versioned<MeshObject> next = store.put(site("osaka", 4));

            await().atMost(EVENT_TIMEOUT).until(() -> !stale.errors.isEmpty());
            assertThat(stale.errors).singleElement()
                    .isInstanceOf(ConfigStoreException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .contains(etcd.endpoint().toString())
                            .contains("from revision " + (first.modRevision() + 1))
                            .contains("compacted the revisions up to " + last.modRevision())
                            .contains("snapshot"));
            assertThat(current.await(1)).extracting(ConfigEvent::toString)
                    .containsExactly("PUT Site/osaka@" + next.modRevision());
            assertThat(stale.events).isEmpty();
        }
    }

    private static List<Long> range(long from, long to) {
        List<Long> revisions = new ArrayList<>();
        for (long r = from; r <= to; r++) {
            revisions.add(r);
        }
        return revisions;
    }

    private static final class Recorder implements ConfigListener {

        final List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(ConfigEvent event) {
            events.add(event);
        }

        @Override
        public void onError(Throwable cause) {
            errors.add(cause);
        }

        List<ConfigEvent> await(int count) {
            org.awaitility.Awaitility.await().atMost(EVENT_TIMEOUT).until(() -> events.size() >= count);
            return List.copyOf(events);
        }

        @Override
        public String toString() {
            return events.stream().map(ConfigEvent::toString).collect(Collectors.joining(", "));
        }
    }
}
