package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The manifests in {@code deploy/} are valid Kubernetes objects and grant exactly {@link RequiredPermissions}. */
class ManifestsTest {

    private static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    @RegisterExtension
    final MockKubernetes k8s = new MockKubernetes();

    private List<HasMetadata> objects;

    @BeforeEach
    void parseAll() throws IOException {
        objects = new ArrayList<>();
        try (Stream<Path> files = Files.list(DEPLOY)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                objects.addAll(parseStrictly(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8)));
            }
        }
    }

    /**
     * Parses every document of a multi-document YAML file into fabric8's typed model, failing on an
     * unknown kind and on any field the model does not know. fabric8's model classes keep unknown
     * fields in {@code additionalProperties} (a Jackson any-setter, which FAIL_ON_UNKNOWN_PROPERTIES
     * does not apply to), so strictness means: no object in the parsed tree has additional properties.
     */
    static List<HasMetadata> parseStrictly(String source, String yaml) {
        List<HasMetadata> result = new ArrayList<>();
        String[] documents = yaml.split("(?m)^---\\s*$");
        for (int i = 0; i < documents.length; i++) {
            String where = source + " document " + (i + 1);
            if (documents[i].lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
                continue;
            }
            Object parsed = SERIALIZATION.unmarshal(documents[i]);
            if (!(parsed instanceof HasMetadata object) || parsed instanceof GenericKubernetesResource) {
                throw new IllegalArgumentException(where + ": not a known Kubernetes kind: " + parsed);
            }
            List<String> unknown = new ArrayList<>();
            collectUnknownFields(object, object.getKind(), unknown, new IdentityHashMap<>());
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException(where + ": unknown fields " + unknown);
            }
            result.add(object);
        }
        return result;
    }

    private static void collectUnknownFields(Object node, String path, List<String> unknown, Map<Object, Object> seen) {
        if (node == null || seen.put(node, node) != null) {
            return;
        }
        if (node instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                collectUnknownFields(e, path + '[' + i++ + ']', unknown, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> collectUnknownFields(v, path + '[' + k + ']', unknown, seen));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : node.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> unknown.add(path + '.' + k));
                }
                continue;
            }
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            collectUnknownFields(value, path + '.' + field, unknown, seen);
        }
    }

    private <T extends HasMetadata> T one(Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name + " in " + DEPLOY));
    }

    @Test
    void strictParserRejectsUnknownFieldsAndKinds() {
        assertThatThrownBy(() -> parseStrictly("typo.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: x
                  lables: {a: b}
                """)).hasMessageContaining("typo.yaml document 1: unknown fields [Namespace.metadata.lables]");
        assertThatThrownBy(() -> parseStrictly("nested.yaml", """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: x}
                spec:
                  template:
                    spec:
                      containers:
                        - name: c
                          image: i
                          securityContext: {readOnlyRootFileSystem: true}
                """)).hasMessageContaining("containers[0].securityContext.readOnlyRootFileSystem");
        assertThatThrownBy(() -> parseStrictly("kind.yaml", """
                apiVersion: example.com/v1
                kind: Gadget
                metadata: {name: x}
                """)).hasMessageContaining("kind.yaml document 1: not a known Kubernetes kind");
    }

    @Test
    void everyManifestParsesStrictlyAndIsAcceptedByTheApiServer() {
        assertThat(objects).extracting(HasMetadata::getKind).containsExactlyInAnyOrder("Namespace", "ServiceAccount",
                "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Service", "StatefulSet", "DaemonSet");
        KubernetesClient client = k8s.setup();
        for (HasMetadata object : objects) {
            HasMetadata created = client.resource(object).create();
            assertThat(created.getMetadata().getUid()).as("created %s", object.getKind()).isNotNull();
        }
        assertThat(client.apps().daemonSets().inNamespace("isthmus-system").withName("isthmus-router").get()).isNotNull();
        assertThat(client.apps().statefulSets().inNamespace("isthmus-system").withName("isthmus-etcd").get()).isNotNull();
    }

    @Test
    void clusterRoleGrantsExactlyTheRequiredPermissions() {
        Set<String> granted = new TreeSet<>();
        for (PolicyRule rule : one(ClusterRole.class, "isthmus-router").getRules()) {
            assertThat(rule.getResourceNames()).as("resourceNames").isNullOrEmpty();
            assertThat(rule.getNonResourceURLs()).as("nonResourceURLs").isNullOrEmpty();
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        granted.add(group + '/' + resource + ':' + verb);
                    }
                }
            }
        }
        Set<String> required = RequiredPermissions.RULES.stream()
                .flatMap(r -> r.verbs().stream().map(v -> r.apiGroup() + '/' + r.resource() + ':' + v))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(granted).doesNotContain("*/*:*").isEqualTo(required);

        ClusterRoleBinding binding = one(ClusterRoleBinding.class, "isthmus-router");
        assertThat(binding.getRoleRef().getName()).isEqualTo("isthmus-router");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("isthmus-router");
            assertThat(s.getNamespace()).isEqualTo("isthmus-system");
        });
    }

    @Test
    void routerDaemonSetIsHardenedProbedAndGetsItsPodIpFromTheDownwardApi() {
        DaemonSet router = one(DaemonSet.class, "isthmus-router");
        PodSpec pod = router.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("isthmus-router");
        assertThat(router.getSpec().getSelector().getMatchLabels())
                .isEqualTo(Map.of("app.kubernetes.io/name", "isthmus-router"));
        assertThat(router.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(router.getSpec().getSelector().getMatchLabels());
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        Container c = pod.getContainers().get(0);
        Map<String, String> fieldRefs = c.getEnv().stream()
                .filter(e -> e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null)
                .collect(Collectors.toMap(EnvVar::getName, e -> e.getValueFrom().getFieldRef().getFieldPath()));
        assertThat(fieldRefs).containsEntry("POD_IP", "status.podIP").containsEntry("NODE_NAME", "spec.nodeName");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("admin");
        assertThat(c.getPorts()).anySatisfy(p -> assertThat(p.getName()).isEqualTo("admin"));
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKey("memory");
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
    }

    @Test
    void etcdIsAThreeMemberStatefulSetBehindAHeadlessService() {
        StatefulSet etcd = one(StatefulSet.class, "isthmus-etcd");
        Service headless = one(Service.class, "isthmus-etcd");
        assertThat(etcd.getSpec().getReplicas()).isEqualTo(3);
        assertThat(etcd.getSpec().getServiceName()).isEqualTo(headless.getMetadata().getName());
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getSelector()).isEqualTo(etcd.getSpec().getSelector().getMatchLabels());
        String initialCluster = etcd.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand().stream()
                .filter(a -> a.startsWith("--initial-cluster=")).findFirst().orElseThrow();
        assertThat(initialCluster.split(",")).hasSize(3);
        assertThat(etcd.getSpec().getVolumeClaimTemplates()).hasSize(1);
    }
}
