package io.isthmus.mesh.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.testing.EtcdProcess;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code isthmus.store.type=etcd} against a real etcd process. */
class EtcdStoreAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(IsthmusAutoConfiguration.class));

    @Test
    void embeddedRouterFollowsAndRegistersInEtcd(@TempDir Path pem) {
        try (EtcdProcess etcd = EtcdProcess.started()) {
            runner.withPropertyValues(TestPki.siteFiles(TestPki.ca(), "tokyo", pem))
                    .withPropertyValues("isthmus.store.type=etcd",
                            "isthmus.store.etcd.endpoints=" + etcd.endpoint(),
                            "isthmus.store.etcd.namespace=/starter-test")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(context.getBean(ConfigStore.class)).isInstanceOf(EtcdConfigStore.class);
                        MeshRouter router = context.getBean(MeshRouter.class);
                        // Read back through a store of our own: the site really is in etcd.
                        try (EtcdConfigStore reader = EtcdConfigStore.builder(List.of(etcd.endpoint()))
                                .namespace("/starter-test").build()) {
                            Site site = (Site) reader.get(ObjectKey.of(Kind.SITE, "tokyo")).orElseThrow().object();
                            assertThat(site.tunnelEndpoints()).containsExactly(router.tunnelEndpoint());
                        }
                    });
        }
    }
}
