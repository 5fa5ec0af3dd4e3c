package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * fabric8's mock API server in CRUD mode on 127.0.0.1 and port 0, with two clients: {@link #client()}
 * for the code under test and {@link #setup()} for the test's own arrangements. Every request the
 * code under test made is recorded as (API group, resource, verb) and, after each test, checked
 * against {@link RequiredPermissions}.
 */
final class MockKubernetes implements BeforeEachCallback, AfterEachCallback {

    private static final String SETUP_AGENT = "isthmus-test-setup";

    /** A request as RBAC sees it. */
    record ApiRequest(String apiGroup, String resource, String verb, String path) {}

    private KubernetesCrudDispatcher dispatcher;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesClient setup;
    private int port;
    private boolean stopped;
    private final List<ApiRequest> requests = new ArrayList<>();

    @Override
    public void beforeEach(ExtensionContext context) {
        dispatcher = new KubernetesCrudDispatcher(List.of());
        server = newServer(0);
        port = URI.create(server.createClient().getConfiguration().getMasterUrl()).getPort();
        client = server.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(1).endConfig());
        setup = server.createClient(b -> b.editOrNewConfig().withUserAgent(SETUP_AGENT).endConfig());
    }

    private KubernetesMockServer newServer(int onPort) {
        KubernetesMockServer s = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                dispatcher, false);
        s.init(InetAddress.getLoopbackAddress(), onPort);
        return s;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            client.close();
            setup.close();
            assertRequestsAllowed();
        } finally {
            try {
                server.destroy();
            } catch (IllegalStateException e) {
                // Vert.x sometimes does not finish closing a watch connection the client just
                // abandoned within the mock server's shutdown timeout; the test itself is over.
                System.err.println("Mock API server shut down uncleanly: " + e);
            }
        }
    }

    /** @return the client of the code under test */
    KubernetesClient client() {
        return client;
    }

    /** @return the client for the test's own arrangements and checks */
    KubernetesClient setup() {
        return setup;
    }

    /** Stops the API server and starts a new one on the same port with the same stored objects. */
    void restart() throws InterruptedException {
        stop();
        resume();
    }

    /** Stops the API server; the stored objects are kept for {@link #resume()}. */
    synchronized void stop() throws InterruptedException {
        drain();
        server.destroy();
        stopped = true;
    }

    /** Starts a new API server on the same port with the stored objects. */
    synchronized void resume() {
        server = newServer(port);
        stopped = false;
    }

    /**
     * Returns how many watches the mock server is serving. The mock server finishes closing a watch
     * on its event loop and blocks that loop while an event for the watch is still queued, so a test
     * that closes a watch waits for this count to drop before it changes the watched objects.
     */
    int openWatches() {
        try {
            java.lang.reflect.Field f = KubernetesCrudDispatcher.class.getDeclaredField("watchEventListeners");
            f.setAccessible(true);
            return ((java.util.Collection<?>) f.get(dispatcher)).size();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("fabric8's mock server changed: " + e, e);
        }
    }

    /** @return every request the code under test made so far */
    synchronized List<ApiRequest> requests() throws InterruptedException {
        drain();
        return List.copyOf(requests);
    }

    void assertRequestsAllowed() throws InterruptedException {
        for (ApiRequest r : requests()) {
            assertThat(RequiredPermissions.allows(r.apiGroup(), r.resource(), r.verb()))
                    .as("RequiredPermissions allow %s", r).isTrue();
        }
    }

    private synchronized void drain() throws InterruptedException {
        if (stopped) {
            return;
        }
        RecordedRequest r;
        while ((r = server.takeRequest(0, TimeUnit.MILLISECONDS)) != null) {
            String agent = r.getHeader("User-Agent");
            if (agent != null && agent.contains(SETUP_AGENT)) {
                continue;
            }
            ApiRequest parsed = parse(r.getMethod(), r.getPath());
            if (parsed != null) {
                requests.add(parsed);
            }
        }
    }

    /** Maps an HTTP request of the Kubernetes API to its RBAC group, resource and verb. */
    static ApiRequest parse(String method, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
        String[] parts = path.replaceAll("^/+", "").split("/");
        int i;
        String group;
        if (parts[0].equals("api")) {
            group = "";
            i = 2;
        } else if (parts[0].equals("apis")) {
            group = parts[1];
            i = 3;
        } else {
            return null; // discovery and version endpoints need no RBAC rule of ours
        }
        if (i < parts.length && parts[i].equals("namespaces") && i + 2 < parts.length) {
            i += 2;
        }
        if (i >= parts.length) {
            return null;
        }
        String resource = parts[i];
        boolean named = i + 1 < parts.length;
        if (i + 2 < parts.length) {
            resource = resource + '/' + parts[i + 2];
        }
        String verb = switch (method) {
            case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> named ? "delete" : "deletecollection";
            default -> method.toLowerCase(java.util.Locale.ROOT);
        };
        return new ApiRequest(group, resource, verb, pathAndQuery);
    }
}
