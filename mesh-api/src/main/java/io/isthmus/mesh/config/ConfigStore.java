package io.isthmus.mesh.config;

import io.isthmus.mesh.internal.InMemoryConfigStore;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.List;
import java.util.Optional;

/**
 * Revisioned, watchable storage of mesh objects: the one place writers put configuration and every
 * router reads it from.
 *
 * <p>Every write increments the store's revision; each stored object remembers the revision that
 * last modified it, which writers pass back for compare-and-set. Watchers receive every change after
 * a revision, in order, so a reader takes a {@link #snapshot()} and then watches from its revision
 * without missing or repeating a change.
 *
 * <pre>{@code
 * ConfigStore store = ConfigStore.inMemory();
 * Versioned<MeshObject> created = store.create(site);           // fails if it exists
 * store.update(site.withTunnelEndpoints(eps), created.modRevision()); // fails if changed since
 * ConfigSnapshot snapshot = store.snapshot();
 * try (ConfigWatch watch = store.watch(snapshot.revision(), event -> apply(event))) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Implementations are thread-safe. Objects are validated before they are written: a store never
 * holds an invalid object. Stores also check references between objects with {@link MeshValidator}
 * (a load balancer naming a missing pool, a domain claimed twice in a namespace, deleting a pool in
 * use) atomically with the write, so a rejected write changes nothing. The caller closes the store.
 */
public interface ConfigStore extends AutoCloseable {

    /**
     * Returns a new, empty in-memory store: the embedded default for a single machine and for tests.
     * Listeners run on one thread per store, in revision order.
     *
     * @return the store
     */
    static ConfigStore inMemory() {
        return new InMemoryConfigStore();
    }

    /**
     * Returns the store's current revision ({@code 0} when nothing was ever written).
     *
     * @return the revision
     */
    long revision();

    /**
     * Reads one object.
     *
     * @param key the object's key
     * @return the object as stored, or empty when it does not exist
     */
    Optional<Versioned<MeshObject>> get(ObjectKey key);

    /**
     * Lists the objects of a kind, ordered by key.
     *
     * @param kind the kind
     * @return the objects
     */
    List<Versioned<MeshObject>> list(Kind kind);

    /**
     * Reads every object at one revision.
     *
     * @return the snapshot
     */
    ConfigSnapshot snapshot();

    /**
     * Creates or replaces an object unconditionally.
     *
     * @param object the object
     * @return the object as stored
     * @throws ConfigValidationException when the object breaks a reference ({@link MeshValidator})
     */
    Versioned<MeshObject> put(MeshObject object);

    /**
     * Creates an object that must not exist yet.
     *
     * @param object the object
     * @return the object as stored
     * @throws ConfigConflictException when an object with that key exists
     */
    default Versioned<MeshObject> create(MeshObject object) {
        return update(object, 0);
    }

    /**
     * Replaces an object only if it was last modified at {@code expectedModRevision} (compare-and-set).
     *
     * @param object the object
     * @param expectedModRevision the revision the writer read; {@code 0} means the object must not exist
     * @return the object as stored
     * @throws ConfigConflictException when the stored revision differs
     */
    Versioned<MeshObject> update(MeshObject object, long expectedModRevision);

    /**
     * Deletes an object unconditionally.
     *
     * @param key the object's key
     * @return {@code true} when an object was deleted, {@code false} when none existed
     * @throws ConfigValidationException when another object still uses it ({@link MeshValidator})
     */
    boolean delete(ObjectKey key);

    /**
     * Deletes an object only if it was last modified at {@code expectedModRevision}.
     *
     * @param key the object's key
     * @param expectedModRevision the revision the writer read
     * @throws ConfigConflictException when the stored revision differs or the object does not exist
     */
    void delete(ObjectKey key, long expectedModRevision);

    /**
     * Watches every change after {@code afterRevision}, in revision order. Changes that happened
     * after that revision but before this call are delivered first.
     *
     * @param afterRevision the last revision the caller has seen, e.g. {@link ConfigSnapshot#revision()}
     * @param listener receives the changes
     * @return the watch; the caller closes it
     */
    ConfigWatch watch(long afterRevision, ConfigListener listener);

    /** Releases the store's resources; watches end. */
    @Override
    void close();
}
