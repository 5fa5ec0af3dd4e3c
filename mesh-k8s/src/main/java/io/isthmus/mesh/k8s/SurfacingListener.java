package io.isthmus.mesh.k8s;

/**
 * Receives the changes of the {@link SurfacingStatus} of load balancers. Called on the surfacer's
 * thread; must not block.
 */
@FunctionalInterface
public interface SurfacingListener {

    /**
     * Called when a load balancer's status changes.
     *
     * @param status the new status
     */
    void onStatus(SurfacingStatus status);
}
