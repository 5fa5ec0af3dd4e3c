package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.model.MeshObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes {@link MeshObjectCodec}'s YAML and JSON readers: the only exception that may escape is
 * {@link ConfigValidationException} (never a {@code NullPointerException}, {@code ClassCastException},
 * {@code StackOverflowError}, ...), and every accepted document round-trips through both formats to an
 * equal object.
 *
 * <p>Without {@code JAZZER_FUZZ=1} each target replays its seed corpus in
 * {@code src/test/resources/io/isthmus/mesh/reliability/MeshObjectCodecFuzzTestInputs/<method>/}. A bounded
 * fuzz run: {@code JAZZER_FUZZ=1 mvn -pl mesh-reliability -am test -Dtest=MeshObjectCodecFuzzTest#readsYaml
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class MeshObjectCodecFuzzTest {

    private static final MeshObjectCodec CODEC = MeshObjectCodec.create();

    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a fuzz run takes maxDuration plus start-up
    void readsYaml(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        List<MeshObject> objects;
        try {
            objects = CODEC.readYaml(text);
        } catch (ConfigValidationException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            return;
        }
        objects.forEach(MeshObjectCodecFuzzTest::assertRoundTrips);
        assertThat(CODEC.readYaml(CODEC.toYaml(objects))).isEqualTo(objects);
    }

    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a fuzz run takes maxDuration plus start-up
    void readsJson(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        MeshObject object;
        try {
            object = CODEC.fromJson(text);
        } catch (ConfigValidationException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            return;
        }
        assertRoundTrips(object);
    }

    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a fuzz run takes maxDuration plus start-up
    void readsEitherFormat(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        MeshObject object;
        try {
            object = CODEC.read(text);
        } catch (ConfigValidationException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            return;
        }
        assertRoundTrips(object);
    }

    private static void assertRoundTrips(MeshObject object) {
        assertThat(CODEC.fromJson(CODEC.toJson(object))).isEqualTo(object);
        assertThat(CODEC.fromYaml(CODEC.toYaml(object))).isEqualTo(object);
        assertThat(CODEC.read(CODEC.toJson(object))).isEqualTo(object);
        assertThat(CODEC.fromMap(CODEC.toMap(object))).isEqualTo(object);
    }
}
