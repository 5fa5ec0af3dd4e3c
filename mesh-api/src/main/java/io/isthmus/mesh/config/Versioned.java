package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.MeshObject;

/**
 * A mesh object as stored, with the store revisions at which it was created and last modified.
 * Immutable.
 *
 * @param <T> the object type
 */
public final class Versioned<T extends MeshObject> {

    private final T object;
    private final long createRevision;
    private final long modRevision;

    private Versioned(T object, long createRevision, long modRevision) {
        this.object = object;
        this.createRevision = createRevision;
        this.modRevision = modRevision;
    }

    /**
     * Returns a stored object.
     *
     * @param object the object
     * @param createRevision the store revision that created it
     * @param modRevision the store revision that last modified it; the resource version used for
     *     compare-and-set
     * @param <T> the object type
     * @return the stored object
     */
    public static <T extends MeshObject> Versioned<T> of(T object, long createRevision, long modRevision) {
        return new Versioned<>(requireNonNull(object, "object"), createRevision, modRevision);
    }

    /** @return the object */
    public T object() {
        return object;
    }

    /** @return the store revision that created the object */
    public long createRevision() {
        return createRevision;
    }

    /** @return the store revision that last modified the object (its resource version) */
    public long modRevision() {
        return modRevision;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Versioned && ((Versioned<?>) o).object.equals(object)
                && ((Versioned<?>) o).createRevision == createRevision && ((Versioned<?>) o).modRevision == modRevision;
    }

    @Override
    public int hashCode() {
        return object.hashCode() * 31 + Long.hashCode(modRevision);
    }

    @Override
    public String toString() {
        return object.key() + "@" + modRevision;
    }
}
