package io.isthmus.mesh.client;

import io.isthmus.mesh.client.internal.RemoteMeshClient;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.MeshObject;
import java.net.URI;
import java.util.List;

/**
 * The operator's view of a router daemon through its admin API: the mesh objects (through
 * {@link #store()}) and what a {@link ConfigStore} has no method for — applying many objects at once,
 * the daemon's status, and explaining a policy decision. {@code meshctl} is a thin layer over it.
 *
 * <pre>{@code
 * try (MeshAdmin admin = MeshAdmin.connect(MeshConnection.builder(URI.create("https://10.0.0.5:9443"))
 *         .bearerToken(token).trustedCertificatesPem(caPem).build())) {
 *     for (ApplyResult r : admin.apply(MeshObjectCodec.create().readYaml(yaml))) {
 *         System.out.println(r.key() + " " + r.action().word());
 *     }
 *     System.out.println(admin.status().state());
 * }
 * }</pre>
 *
 * <p>Every call is one blocking HTTP request (watches run on their own thread). Failures are thrown as
 * {@link MeshAdminException} (unreachable server, TLS failure, refused request),
 * {@link io.isthmus.mesh.config.ConfigValidationException} (HTTP 422, with the field path) or
 * {@link io.isthmus.mesh.config.ConfigConflictException} (HTTP 409 on one object). Thread-safe; the caller
 * closes it, which ends its watches.
 */
public interface MeshAdmin extends AutoCloseable {

    /**
     * Opens an admin client. No request is sent until the first call.
     *
     * @param connection the admin API's URL and credentials
     * @return the client; the caller closes it
     */
    static MeshAdmin connect(MeshConnection connection) {
        return RemoteMeshClient.open(connection);
    }

    /** @return the admin API's base URL */
    URI adminUrl();

    /**
     * Returns the mesh objects behind the admin API as a {@link ConfigStore}.
     *
     * @return the store, owned by this client
     */
    ConfigStore store();

    /**
     * Creates or replaces objects all-or-nothing ({@code POST /v1/apply}): when the server rejects one,
     * none is written.
     *
     * @param objects the objects, in the order to apply them
     * @return one result per object, in the server's order
     * @throws io.isthmus.mesh.config.ConfigValidationException when the server rejects an object (HTTP 422)
     * @throws MeshAdminException when the request fails otherwise
     */
    List<ApplyResult> apply(List<? extends MeshObject> objects);

    /**
     * Reads the daemon's status ({@code GET /v1/status}).
     *
     * @return the status
     * @throws MeshAdminException when the request fails
     */
    MeshStatus status();

    /**
     * Asks whether a request would be allowed, and by which rule ({@code POST /v1/explain}).
     *
     * @param request the request to evaluate
     * @return the decision with its trace
     * @throws MeshAdminException when the request fails, e.g. HTTP 501 when the daemon has no policy engine
     */
    ExplainResult explain(ExplainRequest request);

    /** Ends the watches of {@link #store()}. */
    @Override
    void close();
}
