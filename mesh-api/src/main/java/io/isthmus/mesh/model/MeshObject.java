package io.isthmus.mesh.model;

/**
 * A mesh object: an immutable, validated value that can be stored in a {@link
 * io.isthmus.mesh.config.ConfigStore}.
 */
public sealed interface MeshObject permits Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall {

    /** The namespace used when an object does not name one. */
    String DEFAULT_NAMESPACE = "default";

    /**
     * Returns the key that identifies this object in a store.
     *
     * @return the key
     */
    ObjectKey key();

    /**
     * Returns the object's name.
     *
     * @return the name
     */
    default String name() {
        return key().name();
    }

    /**
     * Returns the object's kind.
     *
     * @return the kind
     */
    default Kind kind() {
        return key().kind();
    }

    /**
     * Returns the path that names this object in validation errors, e.g. {@code
     * loadBalancers[osaka-app]}.
     *
     * @param kind the kind
     * @param name the name, possibly {@code null} while it is still being validated
     * @return the path
     */
    static String pathOf(Kind kind, @org.jspecify.annotations.Nullable String name) {
        return kind.plural() + '[' + (name == null ? "" : name) + ']';
    }
}
