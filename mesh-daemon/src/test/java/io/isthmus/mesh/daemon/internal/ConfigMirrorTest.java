package io.isthmus.mesh.daemon.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigMirrorTest {

    @TempDir
    Path dir;

    private static OriginPool pool(String name, int port) {
        return OriginPool.builder(name).site("osaka").endpoint(Endpoint.of("127.0.0.1", port)).build();
    }

    @Test
    void keepsTheLocalCopyEqualToTheSourceAndMapsRevisions() {
        try (ConfigStore source = ConfigStore.inMemory(); ConfigStore local = ConfigStore.inMemory();
                ConfigMirror mirror = new ConfigMirror(source, local, e -> { })) {
            source.put(pool("a", 1));
            source.put(pool("b", 2));
            // The local copy starts with an object the source does not have (e.g. from a stale last-good file).
            mirror.load(List.of(pool("stale", 3)), 1);
            mirror.connect();
            assertThat(names(local)).containsExactly("a", "b");
            assertThat(mirror.sourceRevision()).isEqualTo(source.revision());
            assertThat(mirror.sourceRevisionOf(local.revision())).isEqualTo(source.revision());

            source.delete(ObjectKey.of(Kind.ORIGIN_POOL, "default", "a"));
            source.put(pool("c", 4));
            long expected = source.revision();
            await().atMost(Duration.ofSeconds(5)).until(() -> mirror.sourceRevision() == expected);
            assertThat(names(local)).containsExactly("b", "c");
            assertThat(mirror.sourceRevisionOf(local.revision())).isEqualTo(expected);
            assertThat(mirror.sourceRevisionOf(0)).isLessThan(expected);
        }
    }

    private static List<String> names(ConfigStore store) {
        return store.snapshot().objects().stream().map(Versioned::object).map(MeshObject::name).toList();
    }

    @Test
    void lastGoodFileRoundTripsObjectsAndRevision() {
        LastGoodFile file = new LastGoodFile(dir.resolve("last-good.yaml"), MeshObjectCodec.create());
        assertThat(file.read()).isEmpty();
        file.write(42, List.of(pool("a", 1), pool("b", 2)));
        LastGoodFile.Contents contents = file.read().orElseThrow();
        assertThat(contents.revision()).isEqualTo(42);
        assertThat(contents.objects()).containsExactly(pool("a", 1), pool("b", 2));
        file.write(43, List.of());
        assertThat(file.read().orElseThrow().objects()).isEmpty();
    }

    @Test
    void aCorruptLastGoodFileIsReportedWithItsPath() throws IOException {
        Path path = dir.resolve("last-good.yaml");
        Files.writeString(path, "# revision: 7\nkind: OriginPool\nmetadata: {name: p}\nspec: {site: osaka, endpoints: [nope]}\n");
        LastGoodFile file = new LastGoodFile(path, MeshObjectCodec.create());
        assertThatThrownBy(file::read).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining(path.toString()).hasMessageContaining("originPools[p]");
    }
}
