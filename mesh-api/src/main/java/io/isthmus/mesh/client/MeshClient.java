package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.internal.RemoteMeshClient;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What an application sees of the mesh: the mesh objects (through a {@link ConfigStore}) and the
 * services it can call, with the router ingress that carries those calls.
 *
 * <p>In-process, the client wraps the store the embedded router follows and that router's ingress:
 *
 * <pre>{@code
 * try (MeshRouter tokyo = MeshRouter.builder(credentials, store).build().start()) {
 *     MeshClient client = MeshClient.of(store, URI.create("http://" + tokyo.ingressAddress().getHostString()
 *             + ":" + tokyo.ingressAddress().getPort()));
 *     client.service("osaka-app").ifPresent(s -> System.out.println("osaka-app via " + s.ingress()));
 * }
 * }</pre>
 *
 * <p>Implementations are thread-safe. The caller closes the client; closing a client made by
 * {@link #of(ConfigStore, URI)} does not close the store, which the caller owns.
 */
public interface MeshClient extends AutoCloseable {

    /**
     * Returns a client over a store the caller owns, whose services are reached through
     * {@code ingress}.
     *
     * @param store the store that holds the mesh objects
     * @param ingress the router ingress, e.g. {@code http://127.0.0.1:8080}
     * @return a new client
     * @throws IllegalArgumentException when {@code ingress} is not an absolute http URI with a host
     */
    static MeshClient of(ConfigStore store, URI ingress) {
        requireNonNull(store, "store");
        requireNonNull(ingress, "ingress");
        String scheme = ingress.getScheme() == null ? "" : ingress.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") || ingress.getHost() == null) {
            throw new IllegalArgumentException("ingress: " + ingress + " (expected: an http URI with a host, e.g. http://127.0.0.1:8080)");
        }
        URI ingressUri = ingress;
        return new MeshClient() {
            @Override
            public ConfigStore store() {
                return store;
            }

            @Override
            public URI ingress() {
                return ingressUri;
            }

            @Override
            public void close() {}

            @Override
            public String toString() {
                return "MeshClient(ingress=" + ingressUri + ')';
            }
        };
    }

    /**
     * Returns a client of a router daemon's admin API: its {@link #store()} reads, writes and watches the
     * mesh objects over HTTP, and its services are reached through the connection's
     * {@linkplain MeshConnection#ingress() ingress}. No request is sent until the first call.
     *
     * <pre>{@code
     * try (MeshClient client = MeshClient.connect(MeshConnection.builder(URI.create("https://127.0.0.1:9443"))
     *         .bearerToken(token).trustedCertificatesPem(caPem).build())) {
     *     client.service("osaka-app").ifPresent(s -> System.out.println("osaka-app via " + s.ingress()));
     * }
     * }</pre>
     *
     * <p>Store calls throw {@link MeshAdminException} when the admin API cannot be reached or refuses a
     * request, {@link io.isthmus.mesh.config.ConfigValidationException} (with the field path) when it
     * rejects an object, and {@link io.isthmus.mesh.config.ConfigConflictException} when a compare-and-set
     * fails. Closing the client ends its watches. For apply, status and explain, see {@link MeshAdmin}.
     *
     * @param connection the admin API's URL and credentials
     * @return a new client; the caller closes it
     */
    static MeshClient connect(MeshConnection connection) {
        return RemoteMeshClient.open(connection);
    }

    /**
     * Returns the store that holds the mesh objects; writes through it are validated like every
     * other front door's.
     *
     * @return the store, owned by this client or by its creator
     */
    ConfigStore store();

    /**
     * Returns the router ingress that carries this application's calls into the mesh.
     *
     * @return an http URI such as {@code http://127.0.0.1:8080}
     */
    URI ingress();

    /**
     * Lists the services reachable through the mesh, one per load balancer domain, ordered by load
     * balancer key and then in the load balancer's domain order.
     *
     * @return the services
     * @throws io.isthmus.mesh.config.ConfigStoreException when the store cannot be read
     */
    default List<MeshService> services() {
        List<MeshService> services = new ArrayList<>();
        for (Versioned<MeshObject> versioned : store().list(Kind.LOAD_BALANCER)) {
            LoadBalancer lb = (LoadBalancer) versioned.object();
            for (String domain : lb.domains()) {
                services.add(new MeshService(domain, lb.key(), lb.advertiseSites(), ingress()));
            }
        }
        return List.copyOf(services);
    }

    /**
     * Finds the service with a domain, ignoring case.
     *
     * @param domain the domain, e.g. {@code osaka-app}
     * @return the service, or empty when no load balancer has that domain
     * @throws io.isthmus.mesh.config.ConfigStoreException when the store cannot be read
     */
    default Optional<MeshService> service(String domain) {
        requireNonNull(domain, "domain");
        return services().stream().filter(s -> s.domain().equalsIgnoreCase(domain)).findFirst();
    }

    /** Releases what the client owns. */
    @Override
    void close();
}
