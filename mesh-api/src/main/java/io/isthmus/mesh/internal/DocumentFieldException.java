package io.isthmus.mesh.internal;

import io.isthmus.mesh.config.ConfigValidationException;

/**
 * A problem already named by its full path in a document (an unknown field): {@link
 * Validation#nested} passes it on without prefixing it again.
 */
public final class DocumentFieldException extends ConfigValidationException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param fieldPath the full path of the field
     * @param problem what is wrong
     */
    public DocumentFieldException(String fieldPath, String problem) {
        super(fieldPath, problem);
    }
}
