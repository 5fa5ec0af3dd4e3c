package io.isthmus.mesh.config;

import io.isthmus.mesh.MeshException;

/**
 * A mesh object or document was rejected; the message and {@link #fieldPath()} name the bad field.
 *
 * <p>Example message: {@code loadBalancers[osaka-app].domains[1]: "Osaka App" (expected: a lowercase
 * DNS name, optionally starting with "*.")}. Nothing is applied when this is thrown.
 */
public class ConfigValidationException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final String fieldPath;

    /**
     * Creates an exception for one bad field.
     *
     * @param fieldPath the path of the bad field, e.g. {@code loadBalancers[osaka-app].domains[0]}
     * @param problem what is wrong with it, usually the bad value and what was expected
     */
    public ConfigValidationException(String fieldPath, String problem) {
        super(fieldPath.isEmpty() ? problem : fieldPath + ": " + problem);
        this.fieldPath = fieldPath;
    }

    /**
     * Returns the path of the bad field, or an empty string when the whole document is bad.
     *
     * @return the field path
     */
    public String fieldPath() {
        return fieldPath;
    }
}
