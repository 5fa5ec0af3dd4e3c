package io.isthmus.mesh.config;

/**
 * Receives the changes of a {@link ConfigStore} in revision order. Called on a thread of the store;
 * implementations must not block for long.
 */
@FunctionalInterface
public interface ConfigListener {

    /**
     * Called for each change after the revision the watch started from.
     *
     * @param event the change
     */
    void onEvent(ConfigEvent event);

    /**
     * Called when the watch cannot continue from where it was, e.g. because the store compacted the
     * revisions it needed; the listener should re-read a {@link ConfigStore#snapshot()} and watch again.
     *
     * @param cause why the watch ended
     */
    default void onError(Throwable cause) {}
}
