package io.isthmus.mesh.pki;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Where a {@link JoinTokenIssuer} keeps its {@link JoinTokenRecord}s. A store holds hashes of secrets
 * only. The in-memory store ({@link #inMemory()}) serves a single CA process; a store over a shared
 * database lets several admin API replicas redeem tokens, provided
 * {@link #replace(JoinTokenRecord, JoinTokenRecord)} is an atomic compare-and-set there too.
 *
 * <p>Implementations are safe for concurrent use.
 */
public interface JoinTokenStore {

    /**
     * Returns a new, empty store in this process's memory.
     *
     * @return the store
     */
    static JoinTokenStore inMemory() {
        return new JoinTokenStore() {
            private final ConcurrentMap<String, JoinTokenRecord> records = new ConcurrentHashMap<>();

            @Override
            public boolean add(JoinTokenRecord record) {
                return records.putIfAbsent(record.id(), record) == null;
            }

            @Override
            public Optional<JoinTokenRecord> find(String id) {
                return Optional.ofNullable(records.get(id));
            }

            @Override
            public boolean replace(JoinTokenRecord expected, JoinTokenRecord updated) {
                return records.replace(expected.id(), expected, updated);
            }

            @Override
            public boolean remove(JoinTokenRecord record) {
                return records.remove(record.id(), record);
            }

            @Override
            public List<JoinTokenRecord> records() {
                return List.copyOf(records.values());
            }
        };
    }

    /**
     * Adds a record unless one with its id exists.
     *
     * @param record the new record
     * @return {@code true} when added, {@code false} when the id was taken
     */
    boolean add(JoinTokenRecord record);

    /**
     * Returns the record with the given id.
     *
     * @param id a token id
     * @return the record, or empty when there is none
     */
    Optional<JoinTokenRecord> find(String id);

    /**
     * Replaces {@code expected} by {@code updated} (of the same id) atomically, only if the stored record
     * still equals {@code expected}: of two concurrent callers with the same {@code expected}, exactly
     * one succeeds.
     *
     * @param expected the record as read
     * @param updated its replacement
     * @return whether it was replaced
     */
    boolean replace(JoinTokenRecord expected, JoinTokenRecord updated);

    /**
     * Removes a record if the stored one still equals it.
     *
     * @param record the record as read
     * @return whether it was removed
     */
    boolean remove(JoinTokenRecord record);

    /**
     * Returns all records, e.g. to list pending tokens or to purge expired ones.
     *
     * @return a snapshot of the records, in no particular order
     */
    List<JoinTokenRecord> records();
}
