package io.isthmus.mesh.daemon.internal;

import java.time.Instant;
import java.util.List;

/**
 * Where routers record their version and applied revision for {@code /v1/status}: etcd when the
 * mesh's store is etcd (every router of the mesh sees every other), else this process only.
 */
public interface RouterRecords extends AutoCloseable {

    /** One router's record. */
    final class Record {
        private final String site;
        private final String routerId;
        private final String version;
        private final long appliedRevision;
        private final String state;
        private final Instant lastSeen;

        /**
         * Creates a record.
         *
         * @param site the router's site
         * @param routerId the router's id
         * @param version the daemon's version
         * @param appliedRevision the store revision it routes by
         * @param state its state
         * @param lastSeen when it wrote the record
         */
        public Record(String site, String routerId, String version, long appliedRevision, String state,
                Instant lastSeen) {
            this.site = site;
            this.routerId = routerId;
            this.version = version;
            this.appliedRevision = appliedRevision;
            this.state = state;
            this.lastSeen = lastSeen;
        }

        /** @return the router's site */
        public String site() {
            return site;
        }

        /** @return the router's id */
        public String routerId() {
            return routerId;
        }

        /** @return the daemon's version */
        public String version() {
            return version;
        }

        /** @return the store revision it routes by */
        public long appliedRevision() {
            return appliedRevision;
        }

        /** @return its state */
        public String state() {
            return state;
        }

        /** @return when it wrote the record */
        public Instant lastSeen() {
            return lastSeen;
        }
    }

    /**
     * Writes this router's record.
     *
     * @param self the record
     * @throws io.isthmus.mesh.config.ConfigStoreException when the store cannot be reached
     */
    void publish(Record self);

    /**
     * Reads every router's record.
     *
     * @return the records, ordered by site and router id
     * @throws io.isthmus.mesh.config.ConfigStoreException when the store cannot be reached
     */
    List<Record> list();

    /** Removes this router's record where possible and releases resources. */
    @Override
    void close();
}
