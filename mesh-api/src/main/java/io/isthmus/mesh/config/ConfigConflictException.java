package io.isthmus.mesh.config;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.model.ObjectKey;

/**
 * A compare-and-set write failed because the object's revision was not the one the writer expected
 * (someone else changed it, or it does or does not exist). Nothing was written.
 */
public class ConfigConflictException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final transient ObjectKey key;
    private final long expectedRevision;
    private final long actualRevision;

    /**
     * Creates the exception.
     *
     * @param key the object's key
     * @param expectedRevision the revision the writer expected ({@code 0}: must not exist)
     * @param actualRevision the revision found ({@code 0}: does not exist)
     */
    public ConfigConflictException(ObjectKey key, long expectedRevision, long actualRevision) {
        super(key + ": revision " + actualRevision + " (expected: " + expectedRevision
                + (expectedRevision == 0 ? ", i.e. not to exist" : "") + ')');
        this.key = key;
        this.expectedRevision = expectedRevision;
        this.actualRevision = actualRevision;
    }

    /** @return the object's key */
    public ObjectKey key() {
        return key;
    }

    /** @return the revision the writer expected, {@code 0} when the object was expected not to exist */
    public long expectedRevision() {
        return expectedRevision;
    }

    /** @return the revision found, {@code 0} when the object does not exist */
    public long actualRevision() {
        return actualRevision;
    }
}
