package io.isthmus.mesh.daemon;

import io.isthmus.mesh.MeshException;

/**
 * A daemon setting is missing or bad. The message names where the value came from (the file, the
 * environment variable or the flag), the setting and what was expected, e.g.
 * {@code daemon.yaml: tunnel.port: 70000 (expected: 0-65535)}.
 */
public final class DaemonConfigException extends MeshException {

    private static final long serialVersionUID = 1L;

    private final String setting;

    /**
     * Creates the exception.
     *
     * @param source where the value came from, e.g. {@code daemon.yaml}, {@code ISTHMUS_SITE} or {@code --site}
     * @param setting the setting, e.g. {@code tunnel.port}
     * @param problem the bad value and what was expected
     */
    public DaemonConfigException(String source, String setting, String problem) {
        super((source.isEmpty() ? "" : source + ": ") + setting + ": " + problem);
        this.setting = setting;
    }

    /**
     * Returns the setting that is missing or bad.
     *
     * @return the setting's dotted name, e.g. {@code tunnel.port}
     */
    public String setting() {
        return setting;
    }
}
