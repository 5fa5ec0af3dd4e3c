package io.isthmus.mesh.daemon.internal;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.daemon.DaemonConfig;
import io.isthmus.mesh.daemon.DaemonConfigException;
import io.isthmus.mesh.daemon.DaemonExtension;
import io.isthmus.mesh.k8s.DiscoveredEndpoint;
import io.isthmus.mesh.k8s.KubernetesEndpointDiscovery;
import io.isthmus.mesh.k8s.ServiceReference;
import io.isthmus.mesh.k8s.ServiceSurfacer;
import io.isthmus.mesh.k8s.SurfacingStatus;
import io.isthmus.mesh.netty.MeshRouter;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's Kubernetes integration, found through {@link java.util.ServiceLoader}: when
 * {@link DaemonConfig#kubernetesEnabled()} (by default, in a router pod), it builds a fabric8 client (the
 * in-cluster service account, or {@link DaemonConfig#kubernetesApiServer()}) and runs a
 * {@link ServiceSurfacer} that surfaces the remote load balancers advertised at this site as
 * Services whose EndpointSlices point at the router pods' ingress port. It also plugs a
 * {@link KubernetesEndpointDiscovery} into the router as its
 * {@link io.isthmus.mesh.netty.EndpointResolver}: pool origins that are Kubernetes Services of this
 * site are resolved to their ready pod addresses, following every EndpointSlice change.
 *
 * <p>Health: the daemon is not ready until a first reconcile with the API server succeeded (a router
 * pod is only reachable through the EndpointSlices that reconcile writes). Later API failures leave
 * the data plane alone; {@code /v1/status} then shows {@code extensions.kubernetes.state: DEGRADED}
 * while the surfacer retries. RBAC: see {@link io.isthmus.mesh.k8s.RequiredPermissions}.
 */
public final class KubernetesExtension implements DaemonExtension {

    private static final Logger logger = LoggerFactory.getLogger(KubernetesExtension.class);

    private volatile @Nullable KubernetesClient client;
    private volatile @Nullable ServiceSurfacer surfacer;
    private volatile @Nullable KubernetesEndpointDiscovery discovery;
    private volatile String apiServer = "";
    private volatile String serviceType = "";

    /** Creates the extension; it does nothing until {@link #start} with Kubernetes enabled. */
    public KubernetesExtension() {}

    @Override
    public String name() {
        return "kubernetes";
    }

    @Override
    public void configure(MeshRouter.Builder router, DaemonConfig config) {
        if (!config.kubernetesEnabled()) {
            return;
        }
        KubernetesClient c = client(config);
        KubernetesEndpointDiscovery d = KubernetesEndpointDiscovery.of(c);
        discovery = d;
        router.endpointResolver((origin, updates) -> d.subscribe(ServiceReference.of(origin),
                (service, endpoints) -> updates.accept(endpoints.stream().map(DiscoveredEndpoint::endpoint).toList())));
    }

    private synchronized KubernetesClient client(DaemonConfig config) {
        KubernetesClient c = client;
        if (c == null) {
            URI url = config.kubernetesApiServer();
            c = url == null ? new KubernetesClientBuilder().build()
                    : new KubernetesClientBuilder().withConfig(new ConfigBuilder(Config.empty())
                            .withMasterUrl(url.toString()).build()).build();
            apiServer = c.getConfiguration().getMasterUrl();
            client = c;
        }
        return c;
    }

    @Override
    public void start(ConfigStore store, MeshRouter router, DaemonConfig config) {
        if (!config.kubernetesEnabled()) {
            return;
        }
        KubernetesClient c = client(config);
        serviceType = config.kubernetesServiceType().kubernetesName();
        try {
            ServiceSurfacer.Builder builder = ServiceSurfacer.builder(c, store, config.site(), config.routerId())
                    .listenerPort(router.ingressAddress().getPort())
                    .routerPods(config.kubernetesRouterPodsNamespace(), config.kubernetesRouterPodsLabels())
                    .serviceType(config.kubernetesServiceType())
                    .listener(status -> logger.info("load balancer {}: {} as Service {}/{}{}", status.loadBalancer(),
                            status.state(), status.serviceNamespace(), status.serviceName(),
                            status.reason().isEmpty() ? "" : " (" + status.reason() + ")"));
            try {
                builder.downwardApi(config.downwardApi());
            } catch (IllegalArgumentException e) {
                throw new DaemonConfigException("", "kubernetes.enabled", "true but " + e.getMessage());
            }
            surfacer = builder.build().start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        logger.info("kubernetes: surfacing remote load balancers through {} as {} Services (router pods {} {})",
                apiServer, serviceType, config.kubernetesRouterPodsNamespace(), config.kubernetesRouterPodsLabels());
    }

    @Override
    public @Nullable String notReadyReason() {
        ServiceSurfacer s = surfacer;
        if (s == null || s.lastReconciled().isPresent()) {
            return null;
        }
        return "no reconcile with the Kubernetes API at " + apiServer + " has succeeded yet ("
                + s.consecutiveFailures() + " failed)";
    }

    @Override
    public Map<String, Object> status() {
        ServiceSurfacer s = surfacer;
        if (s == null) {
            return Map.of();
        }
        Map<String, Object> status = new LinkedHashMap<>();
        int failures = s.consecutiveFailures();
        status.put("state", s.lastReconciled().isEmpty() ? "STARTING" : failures > 0 ? "DEGRADED" : "OK");
        status.put("apiServer", apiServer);
        status.put("serviceType", serviceType);
        status.put("consecutiveFailures", failures);
        status.put("lastReconciled", s.lastReconciled().map(Object::toString).orElse(""));
        List<Map<String, String>> loadBalancers = new ArrayList<>();
        for (SurfacingStatus lb : new TreeMap<>(s.statuses()).values()) {
            Map<String, String> entry = new LinkedHashMap<>();
            entry.put("loadBalancer", lb.loadBalancer().namespace() + "/" + lb.loadBalancer().name());
            entry.put("state", lb.state().name());
            entry.put("service", lb.serviceName().isEmpty() ? "" : lb.serviceNamespace() + "/" + lb.serviceName());
            entry.put("reason", lb.reason());
            loadBalancers.add(entry);
        }
        status.put("loadBalancers", loadBalancers);
        return status;
    }

    @Override
    public void close() {
        ServiceSurfacer s = surfacer;
        if (s != null) {
            s.close();
        }
        KubernetesEndpointDiscovery d = discovery;
        if (d != null) {
            d.close();
        }
        KubernetesClient c = client;
        if (c != null) {
            c.close();
        }
    }

    @Override
    public String toString() {
        return "KubernetesExtension{apiServer=" + apiServer + "}";
    }
}
