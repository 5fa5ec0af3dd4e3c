package io.isthmus.mesh.k8s;

import static io.isthmus.mesh.internal.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.Origin;
import java.util.regex.Pattern;

/**
 * A port of a Kubernetes Service, written {@code name.namespace:port}: an origin that a router
 * resolves through the Service's EndpointSlices. Immutable.
 *
 * <p>{@link #of(Origin)} derives the reference of a pool's Kubernetes-service origin
 * ({@link Origin.Type#KUBERNETES_SERVICE}), the form {@link KubernetesEndpointDiscovery} watches.
 *
 * <pre>{@code
 * ServiceReference orders = ServiceReference.parse("orders.shop:8080");
 * ServiceReference same = ServiceReference.of("shop", "orders", 8080);
 * }</pre>
 *
 * @param namespace the Service's namespace, a DNS label
 * @param name the Service's name, a DNS label
 * @param port the Service port (not the target port), 1 to 65535
 */
public record ServiceReference(String namespace, String name, int port) {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /**
     * Validates the components.
     *
     * @param namespace the Service's namespace
     * @param name the Service's name
     * @param port the Service port
     */
    public ServiceReference {
        requireNonNull(namespace, "namespace");
        requireNonNull(name, "name");
        checkArgument(DNS_LABEL.matcher(namespace).matches(),
                "namespace: \"%s\" (expected: a lowercase DNS label)", namespace);
        checkArgument(DNS_LABEL.matcher(name).matches(), "name: \"%s\" (expected: a lowercase DNS label)", name);
        checkArgument(port > 0 && port <= 65535, "port: %s (expected: 1-65535)", port);
    }

    /**
     * Returns a reference.
     *
     * @param namespace the Service's namespace
     * @param name the Service's name
     * @param port the Service port
     * @return the reference
     */
    public static ServiceReference of(String namespace, String name, int port) {
        return new ServiceReference(namespace, name, port);
    }

    /**
     * Returns the reference of a Kubernetes-service origin of the model.
     *
     * <pre>{@code
     * Origin origin = Origin.builder().kubernetesService("orders", "shop", 8080).build();
     * ServiceReference.of(origin);   // orders.shop:8080
     * }</pre>
     *
     * @param origin an origin of type {@link Origin.Type#KUBERNETES_SERVICE}
     * @return the reference to its Service port
     * @throws IllegalArgumentException when the origin is a static endpoint
     */
    public static ServiceReference of(Origin origin) {
        requireNonNull(origin, "origin");
        String name = origin.serviceName();
        String namespace = origin.serviceNamespace();
        checkArgument(origin.type() == Origin.Type.KUBERNETES_SERVICE && name != null && namespace != null,
                "origin: %s (expected: a Kubernetes-service origin)", origin);
        return new ServiceReference(namespace, name, origin.endpoint().port());
    }

    /**
     * Parses {@code name.namespace:port}.
     *
     * @param text the reference, e.g. {@code orders.shop:8080}
     * @return the reference
     * @throws IllegalArgumentException when the text is not of that form
     */
    public static ServiceReference parse(String text) {
        requireNonNull(text, "text");
        int colon = text.lastIndexOf(':');
        int dot = colon < 0 ? -1 : text.lastIndexOf('.', colon);
        checkArgument(colon > 0 && dot > 0 && dot == text.indexOf('.'),
                "service reference: \"%s\" (expected: name.namespace:port)", text);
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "service reference: \"" + text + "\" (expected: name.namespace:port with a numeric port)", e);
        }
        return new ServiceReference(text.substring(dot + 1, colon), text.substring(0, dot), port);
    }

    /** @return the reference as {@code name.namespace:port} */
    @Override
    public String toString() {
        return name + '.' + namespace + ':' + port;
    }
}
