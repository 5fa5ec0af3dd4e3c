package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.snapshot.CompiledRoute;
import io.isthmus.mesh.snapshot.HeaderLookup;
import io.isthmus.mesh.snapshot.MeshSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The sample files under {@code examples/config} read back through the codec and make a valid mesh. */
class ExampleConfigFilesTest {

    private static final MeshObjectCodec codec = MeshObjectCodec.create();

    private static Path configDirectory() {
        // Surefire runs in the module's directory and sets basedir to it.
        return Path.of(System.getProperty("basedir", ".")).resolve("../examples/config").normalize();
    }

    private static List<MeshObject> read(String file) throws IOException {
        return codec.readYaml(Files.readString(configDirectory().resolve(file)));
    }

    @ParameterizedTest
    @CsvSource({"site.yaml, Site", "origin-pool.yaml, OriginPool", "load-balancer.yaml, LoadBalancer"})
    void eachSampleFileHoldsItsKindAndRoundTrips(String file, String kind) throws IOException {
        List<MeshObject> objects = read(file);

        assertThat(objects).isNotEmpty().allSatisfy(o -> assertThat(o.kind()).isEqualTo(Kind.parse(kind)));
        for (MeshObject object : objects) {
            assertThat(codec.fromYaml(codec.toYaml(object))).isEqualTo(object);
        }
    }

    @Test
    void samplesSetEveryOptionTheyDocument() throws IOException {
        LoadBalancer lb = (LoadBalancer) read("load-balancer.yaml").get(0);
        OriginPool pool = (OriginPool) read("origin-pool.yaml").get(0);
        Site site = (Site) read("site.yaml").get(0);

        assertThat(lb.port()).isEqualTo(8080);
        assertThat(lb.routes()).hasSize(3);
        assertThat(lb.routes().get(1).retry()).isNotNull();
        assertThat(lb.servicePolicies()).containsExactly("only-mesh-clients");
        assertThat(pool.originsByPriority()).hasSize(2);
        assertThat(pool.healthCheck()).isNotNull();
        assertThat(pool.outlierDetection()).isNotNull();
        assertThat(pool.tls()).isNotNull();
        assertThat(site.labels()).containsEntry("region", "kansai");
    }

    @Test
    void samplesTogetherPassTheCrossObjectChecksAndRoute() throws IOException {
        List<MeshObject> all = new ArrayList<>();
        for (String file : List.of("site.yaml", "origin-pool.yaml", "load-balancer.yaml")) {
            all.addAll(read(file));
        }
        MeshValidator.checkAll(all);

        try (ConfigStore store = ConfigStore.inMemory()) {
            all.forEach(store::put);
            MeshSnapshot tokyo = MeshSnapshot.compile("tokyo", store.snapshot());

            CompiledRoute canary = tokyo.route("www.shop.example", "GET", "/orders/42", Map.of("x-canary", "1")::get);
            assertThat(canary.route().name()).isEqualTo("orders-canary");
            CompiledRoute legacy = tokyo.route("shop.shop.svc.cluster.local", "GET", "/old/x", HeaderLookup.NONE);
            assertThat(legacy.action()).isInstanceOf(RouteAction.Redirect.class);
            assertThat(tokyo.route("shop", "GET", "/?maintenance", HeaderLookup.NONE).action())
                    .isEqualTo(RouteAction.directResponse(503, "down for maintenance"));
        }
    }
}
