package io.isthmus.mesh.k8s.etcd;

import io.isthmus.mesh.model.Site;

/**
 * A {@link Site} record kept alive in etcd by a lease: returned by {@link
 * EtcdConfigStore#keepAlive(Site, java.time.Duration)}.
 *
 * <p>While the lease is open, the store renews it in the background and the record stays in etcd.
 * {@link #close()} revokes the lease, which deletes the record at once; if the process dies or the
 * store is closed first, renewals stop and etcd deletes the record when the lease's TTL runs out.
 * Thread-safe; the caller closes it.
 */
public interface SiteLease extends AutoCloseable {

    /**
     * Returns the site whose record this lease keeps alive.
     *
     * @return the site
     */
    Site site();

    /**
     * Returns the etcd lease ID the record is attached to.
     *
     * @return the lease ID
     */
    long leaseId();

    /**
     * Stops renewing the lease and revokes it, so the site record disappears at once. Idempotent; does
     * not throw: if etcd cannot be reached, the failure is logged and the record expires with the lease.
     */
    @Override
    void close();
}
