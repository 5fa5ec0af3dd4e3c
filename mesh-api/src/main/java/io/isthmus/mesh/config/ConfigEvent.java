package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import org.jspecify.annotations.Nullable;

/** One change in a {@link ConfigStore}, delivered to watchers in revision order. Immutable. */
public final class ConfigEvent {

    /** What happened to the object. */
    public enum Type {
        /** The object was created or updated. */
        PUT,
        /** The object was deleted. */
        DELETE
    }

    private final Type type;
    private final ObjectKey key;
    private final long revision;
    private final @Nullable Versioned<MeshObject> object;

    private ConfigEvent(Type type, ObjectKey key, long revision, @Nullable Versioned<MeshObject> object) {
        this.type = type;
        this.key = key;
        this.revision = revision;
        this.object = object;
    }

    /**
     * Returns an event for a created or updated object.
     *
     * @param object the object as stored
     * @return the event
     */
    public static ConfigEvent put(Versioned<MeshObject> object) {
        return new ConfigEvent(Type.PUT, object.object().key(), object.modRevision(), object);
    }

    /**
     * Returns an event for a deleted object.
     *
     * @param key the deleted object's key
     * @param revision the store revision of the deletion
     * @return the event
     */
    public static ConfigEvent delete(ObjectKey key, long revision) {
        return new ConfigEvent(Type.DELETE, requireNonNull(key, "key"), revision, null);
    }

    /** @return whether the object was put or deleted */
    public Type type() {
        return type;
    }

    /** @return the key of the changed object */
    public ObjectKey key() {
        return key;
    }

    /** @return the store revision of this change */
    public long revision() {
        return revision;
    }

    /** @return the object as stored after a {@link Type#PUT}, {@code null} after a {@link Type#DELETE} */
    public @Nullable Versioned<MeshObject> object() {
        return object;
    }

    @Override
    public String toString() {
        return type + " " + key + "@" + revision;
    }
}
