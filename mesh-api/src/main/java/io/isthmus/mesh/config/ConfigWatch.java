package io.isthmus.mesh.config;

/** A running watch of a {@link ConfigStore}; closing it stops the events. */
public interface ConfigWatch extends AutoCloseable {

    /** Stops delivering events. Idempotent. */
    @Override
    void close();
}
