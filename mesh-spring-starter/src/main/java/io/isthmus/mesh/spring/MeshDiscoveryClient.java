package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshService;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;

/**
 * A Spring Cloud {@link DiscoveryClient} of the mesh: each load balancer domain is a service, and its
 * one instance is the router ingress that carries requests for it. Callers send requests for the
 * service to the instance with {@code Host: <service id>}.
 *
 * <pre>{@code
 * ServiceInstance osaka = discoveryClient.getInstances("osaka-app").get(0);
 * // osaka.getUri() is the router ingress, e.g. http://127.0.0.1:8080
 * }</pre>
 *
 * <p>Reads the store on every call; thread-safe.
 */
public final class MeshDiscoveryClient implements DiscoveryClient {

    /** Metadata key of the load balancer that serves the domain ({@code namespace/name}). */
    public static final String LOAD_BALANCER_METADATA = "isthmus.io/load-balancer";

    /** Metadata key of the sites where the load balancer is advertised, comma-separated. */
    public static final String ADVERTISE_SITES_METADATA = "isthmus.io/advertise-sites";

    private final MeshClient client;

    /**
     * Creates the discovery client.
     *
     * @param client the client that lists the mesh services
     */
    public MeshDiscoveryClient(MeshClient client) {
        this.client = requireNonNull(client, "client");
    }

    @Override
    public String description() {
        return "Isthmus mesh services";
    }

    @Override
    public List<ServiceInstance> getInstances(String serviceId) {
        requireNonNull(serviceId, "serviceId");
        return client.service(serviceId).<List<ServiceInstance>>map(s -> List.of(instance(s))).orElse(List.of());
    }

    @Override
    public List<String> getServices() {
        return client.services().stream().map(MeshService::domain).distinct().toList();
    }

    private static ServiceInstance instance(MeshService service) {
        URI ingress = service.ingress();
        int port = ingress.getPort() >= 0 ? ingress.getPort() : 80;
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(LOAD_BALANCER_METADATA, service.loadBalancer().qualifiedName());
        metadata.put(ADVERTISE_SITES_METADATA, String.join(",", service.advertiseSites()));
        return new DefaultServiceInstance(service.domain() + '@' + ingress.getHost() + ':' + port, service.domain(),
                ingress.getHost(), port, false, metadata);
    }

    @Override
    public String toString() {
        return "MeshDiscoveryClient(" + client + ')';
    }
}
