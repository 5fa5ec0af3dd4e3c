package io.isthmus.mesh.daemon;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router configuration in {@code deploy/} is the daemon's own format, and the DaemonSet's ports,
 * probes, mounts and grace period match what the daemon does with it: the manifests and the daemon
 * cannot drift apart.
 */
class DeployManifestsTest {

    private static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();
    /** What the Downward API gives a pod, by field path. */
    private static final Map<String, String> FIELDS = Map.of(
            "status.podIP", "10.1.0.5",
            "status.hostIP", "192.168.10.7",
            "spec.nodeName", "node-1",
            "metadata.name", "isthmus-router-x7k2p",
            "metadata.namespace", "isthmus-system");
    /** What the Downward API gives the container for its resources (a CPU limit of 2 cores). */
    private static final Map<String, String> RESOURCES = Map.of("limits.cpu", "2");

    @TempDir
    Path dir;

    private DaemonSet router;
    private Container container;
    private DaemonConfig config;

    @BeforeEach
    void loadTheManifestsConfigWithThePodsEnvironment() throws IOException {
        List<HasMetadata> objects = new ArrayList<>();
        KubernetesSerialization serialization = new KubernetesSerialization();
        try (Stream<Path> files = Files.list(DEPLOY)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (String document : Files.readString(file, UTF_8).split("(?m)^---\\s*$")) {
                    if (document.lines().anyMatch(l -> !l.isBlank() && !l.trim().startsWith("#"))) {
                        objects.add(serialization.unmarshal(document));
                    }
                }
            }
        }
        router = one(objects, DaemonSet.class, "isthmus-router");
        container = router.getSpec().getTemplate().getSpec().getContainers().get(0);
        ConfigMap configMap = one(objects, ConfigMap.class, "isthmus-router");

        Path configArg = Path.of(container.getArgs().stream().filter(a -> a.startsWith("--config="))
                .findFirst().orElseThrow().substring("--config=".length()));
        VolumeMount configMount = mountOf(configArg);
        Volume configVolume = volume(configMount.getName());
        assertThat(configVolume.getConfigMap().getName()).isEqualTo(configMap.getMetadata().getName());
        String key = Path.of(configMount.getMountPath()).relativize(configArg).toString();
        assertThat(configMap.getData()).containsKey(key);

        Map<String, String> env = new HashMap<>();
        for (EnvVar var : container.getEnv()) {
            env.put(var.getName(), var.getValueFrom() == null ? var.getValue()
                    : var.getValueFrom().getResourceFieldRef() != null
                    ? RESOURCES.get(var.getValueFrom().getResourceFieldRef().getResource())
                    : FIELDS.get(var.getValueFrom().getFieldRef().getFieldPath()));
        }
        env.put("KUBERNETES_SERVICE_HOST", "10.96.0.1"); // set by the kubelet in every pod
        Path file = dir.resolve(key);
        Files.writeString(file, configMap.getData().get(key), UTF_8);
        config = DaemonConfig.load(file, env, Map.of());
    }

    @Test
    void routerIdAndAddressesComeFromTheDownwardApi() {
        assertThat(config.routerId()).isEqualTo("isthmus-router-x7k2p");
        assertThat(config.tunnelAdvertiseAddress()).isEqualTo("192.168.10.7");
        assertThat(config.downwardApi()).containsEntry("POD_IP", "10.1.0.5").containsEntry("NODE_NAME", "node-1");
        assertThat(config.ingressAddress().getAddress().isAnyLocalAddress()).as("ingress reachable from other pods").isTrue();
    }

    @Test
    void containerPortsAreTheDaemonsListeners() {
        assertThat(port("ingress").getContainerPort()).isEqualTo(config.ingressAddress().getPort());
        assertThat(port("tunnel").getContainerPort()).isEqualTo(config.tunnelAddress().getPort());
        assertThat(port("tunnel").getHostPort()).as("other sites dial the node's address")
                .isEqualTo(config.tunnelAddress().getPort());
        assertThat(port("admin").getContainerPort()).isEqualTo(config.adminAddress().getPort());
    }

    @Test
    void probesAskTheAdminApiOverItsScheme() {
        String scheme = config.adminTls() ? "HTTPS" : "HTTP";
        for (HTTPGetAction probe : List.of(container.getStartupProbe().getHttpGet(),
                container.getLivenessProbe().getHttpGet(), container.getReadinessProbe().getHttpGet())) {
            assertThat(probe.getPort().getStrVal()).isEqualTo("admin");
            assertThat(probe.getScheme()).isEqualTo(scheme);
        }
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    }

    @Test
    void credentialsAndStateAreMountedWhereTheConfigLooks() {
        for (Path pem : List.of(config.certificateChain(), config.privateKey(), config.trustBundle())) {
            assertThat(volume(mountOf(pem).getName()).getSecret()).as("%s comes from a Secret", pem).isNotNull();
        }
        VolumeMount state = mountOf(config.stateDir().resolve("last-good.yaml"));
        assertThat(state.getReadOnly()).as("the state directory is writable").isNotEqualTo(Boolean.TRUE);
        assertThat(volume(state.getName()).getEmptyDir()).isNotNull();
    }

    @Test
    void kubernetesIntegrationSelectsTheDaemonSetsOwnPods() {
        assertThat(config.kubernetesEnabled()).isTrue();
        assertThat(config.kubernetesRouterPodsNamespace()).isEqualTo(router.getMetadata().getNamespace());
        assertThat(router.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(config.kubernetesRouterPodsLabels());
        assertThat(config.kubernetesApiServer()).as("the in-cluster service account").isNull();
    }

    @Test
    void ioThreadsFollowTheContainersCpuLimit() {
        EnvVar ioThreads = container.getEnv().stream().filter(v -> v.getName().equals(
                DaemonConfig.envName("router.ioThreads"))).findFirst().orElseThrow();
        assertThat(ioThreads.getValueFrom().getResourceFieldRef().getResource()).isEqualTo("limits.cpu");
        assertThat(ioThreads.getValueFrom().getResourceFieldRef().getDivisor().toString())
                .as("whole cores").isEqualTo("1");
        assertThat(config.routerSettings()).containsExactly(Map.entry("router.ioThreads", 2));
    }

    @Test
    void gracePeriodCoversTheDrain() {
        PodSpec pod = router.getSpec().getTemplate().getSpec();
        assertThat(pod.getTerminationGracePeriodSeconds() * 1000)
                .isGreaterThan(config.drainDelay().plus(config.drainTimeout()).toMillis());
    }

    private ContainerPort port(String name) {
        return container.getPorts().stream().filter(p -> p.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container port " + name));
    }

    /** The mount whose path is the longest prefix of {@code file}. */
    private VolumeMount mountOf(Path file) {
        return container.getVolumeMounts().stream().filter(m -> file.startsWith(m.getMountPath()))
                .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()))
                .orElseThrow(() -> new AssertionError("nothing is mounted at " + file));
    }

    private Volume volume(String name) {
        return router.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name + " in " + DEPLOY));
    }
}
