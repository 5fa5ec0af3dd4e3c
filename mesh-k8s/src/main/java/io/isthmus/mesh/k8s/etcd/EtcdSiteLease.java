package io.isthmus.mesh.k8s.etcd;

import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.model.Site;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A site record under a lease that jetcd renews in the background until closed. */
final class EtcdSiteLease implements SiteLease, StreamObserver<LeaseKeepAliveResponse> {

    private static final Logger logger = LoggerFactory.getLogger(EtcdSiteLease.class);

    private final EtcdConfigStore store;
    private final Site site;
    private final long leaseId;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean failing = new AtomicBoolean();
    private volatile @Nullable CloseableClient keepAlive;

    private EtcdSiteLease(EtcdConfigStore store, Site site, long leaseId) {
        this.store = store;
        this.site = site;
        this.leaseId = leaseId;
    }

    static EtcdSiteLease start(EtcdConfigStore store, Site site, long leaseId) {
        EtcdSiteLease lease = new EtcdSiteLease(store, site, leaseId);
        lease.keepAlive = store.client().getLeaseClient().keepAlive(leaseId, lease);
        return lease;
    }

    @Override
    public Site site() {
        return site;
    }

    @Override
    public long leaseId() {
        return leaseId;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        CloseableClient k = keepAlive;
        if (k != null) {
            k.close();
        }
        if (store.isClosed()) {
            return; // Renewals stopped with the client; the record expires with the lease.
        }
        try {
            store.await(store.client().getLeaseClient().revoke(leaseId), "revoke lease " + Long.toHexString(leaseId)
                    + " of " + site.key());
        } catch (ConfigStoreException e) {
            logger.warn("{}: the record of {} stays until lease {} expires: {}", store.describe(), site.key(),
                    Long.toHexString(leaseId), e.getMessage());
        }
    }

    @Override
    public void onNext(LeaseKeepAliveResponse response) {
        if (failing.compareAndSet(true, false)) {
            logger.info("{}: renewing lease {} of {} again", store.describe(), Long.toHexString(leaseId), site.key());
        }
    }

    @Override
    public void onError(Throwable cause) {
        // jetcd keeps retrying; the lease survives as long as a renewal lands within its TTL.
        if (!closed.get() && !store.isClosed() && failing.compareAndSet(false, true)) {
            logger.warn("{}: cannot renew lease {} of {}: {}", store.describe(), Long.toHexString(leaseId),
                    site.key(), cause.getMessage());
        }
    }

    @Override
    public void onCompleted() {
        if (!closed.get() && !store.isClosed()) {
            logger.warn("{}: lease {} of {} expired or was revoked: the site record is gone until keepAlive is "
                    + "called again", store.describe(), Long.toHexString(leaseId), site.key());
        }
    }

    @Override
    public String toString() {
        return "SiteLease{" + site.key() + ", lease=" + Long.toHexString(leaseId) + '}';
    }
}
