package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.ObjectKey;
import java.util.Locale;

/**
 * What {@link MeshAdmin#apply(java.util.List)} did to one object. Immutable.
 *
 * @param key the object's key
 * @param action whether it was created, updated or left unchanged
 * @param resourceVersion the store revision at which the object was last modified
 */
public record ApplyResult(ObjectKey key, Action action, long resourceVersion) {

    /** What happened to an applied object. */
    public enum Action {
        /** The object did not exist and was created. */
        CREATED,
        /** The object existed and was replaced. */
        UPDATED,
        /** The object existed with the same content; nothing was written. */
        UNCHANGED;

        /** @return the lower-case word used by the admin API and the command line, e.g. {@code created} */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Creates a result.
     *
     * @param key the object's key
     * @param action what happened
     * @param resourceVersion the object's resource version
     */
    public ApplyResult {
        requireNonNull(key, "key");
        requireNonNull(action, "action");
    }
}
