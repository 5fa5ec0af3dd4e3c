package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;

/**
 * The identity of a mesh object in a store: its kind, namespace (empty for cluster-wide kinds) and
 * name. Immutable.
 */
public final class ObjectKey implements Comparable<ObjectKey> {

    private final Kind kind;
    private final String namespace;
    private final String name;
    private final String qualifiedName;

    private ObjectKey(Kind kind, String namespace, String name) {
        this.kind = kind;
        this.namespace = namespace;
        this.name = name;
        this.qualifiedName = namespace.isEmpty() ? name : namespace + '/' + name;
    }

    /**
     * Returns the key of a namespaced object.
     *
     * @param kind a namespaced kind
     * @param namespace the namespace
     * @param name the name
     * @return the key
     */
    public static ObjectKey of(Kind kind, String namespace, String name) {
        requireNonNull(kind, "kind");
        requireNonNull(namespace, "namespace");
        requireNonNull(name, "name");
        Preconditions.checkArgument(
                kind.namespaced() != namespace.isEmpty(),
                "namespace: \"%s\" (expected: %s for %s)",
                namespace,
                kind.namespaced() ? "non-empty" : "empty",
                kind.kindName());
        return new ObjectKey(kind, namespace, name);
    }

    /**
     * Returns the key of a cluster-wide object such as a {@link Site}.
     *
     * @param kind a kind that is not namespaced
     * @param name the name
     * @return the key
     */
    public static ObjectKey of(Kind kind, String name) {
        return of(kind, "", name);
    }

    /** @return the kind */
    public Kind kind() {
        return kind;
    }

    /** @return the namespace, empty for cluster-wide kinds */
    public String namespace() {
        return namespace;
    }

    /** @return the name */
    public String name() {
        return name;
    }

    /**
     * Returns the name within its namespace, as logs, access records and annotations write it.
     *
     * @return {@code namespace/name}, or the name alone for cluster-wide kinds
     */
    public String qualifiedName() {
        return qualifiedName;
    }

    @Override
    public int compareTo(ObjectKey o) {
        int c = kind.compareTo(o.kind);
        if (c == 0) {
            c = namespace.compareTo(o.namespace);
        }
        return c != 0 ? c : name.compareTo(o.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectKey && ((ObjectKey) o).kind == kind
                && ((ObjectKey) o).namespace.equals(namespace) && ((ObjectKey) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return (kind.hashCode() * 31 + namespace.hashCode()) * 31 + name.hashCode();
    }

    /** Returns {@code Kind/namespace/name}, or {@code Kind/name} for cluster-wide kinds. */
    @Override
    public String toString() {
        return kind.kindName() + '/' + qualifiedName;
    }
}
