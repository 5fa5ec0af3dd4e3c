package io.isthmus.mesh.config;

import io.isthmus.mesh.MeshException;
import org.jspecify.annotations.Nullable;

/** The config store could not carry out an operation, e.g. because it is unreachable. */
public class ConfigStoreException extends MeshException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed, against which store
     * @param cause the underlying failure
     */
    public ConfigStoreException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
