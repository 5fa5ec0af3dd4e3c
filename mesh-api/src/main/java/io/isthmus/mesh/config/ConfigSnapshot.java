package io.isthmus.mesh.config;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.MeshObject;
import java.util.List;

/**
 * Every object of a store as of one revision: the consistent starting point for a watcher, which
 * then {@linkplain ConfigStore#watch(long, ConfigListener) watches} from {@link #revision()}.
 * Immutable.
 */
public final class ConfigSnapshot {

    private final long revision;
    private final List<Versioned<MeshObject>> objects;

    private ConfigSnapshot(long revision, List<Versioned<MeshObject>> objects) {
        this.revision = revision;
        this.objects = List.copyOf(objects);
    }

    /**
     * Returns a snapshot.
     *
     * @param revision the store revision the objects were read at
     * @param objects the objects
     * @return the snapshot
     */
    public static ConfigSnapshot of(long revision, List<Versioned<MeshObject>> objects) {
        return new ConfigSnapshot(revision, requireNonNull(objects, "objects"));
    }

    /** @return the store revision the objects were read at */
    public long revision() {
        return revision;
    }

    /** @return the objects, ordered by key */
    public List<Versioned<MeshObject>> objects() {
        return objects;
    }
}
