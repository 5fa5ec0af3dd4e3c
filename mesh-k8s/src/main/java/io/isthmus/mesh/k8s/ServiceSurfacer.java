package io.isthmus.mesh.k8s;

import static io.isthmus.mesh.internal.Preconditions.checkArgument;
import static io.isthmus.mesh.internal.Preconditions.checkState;
import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.k8s.SurfacingStatus.State;
import io.isthmus.mesh.k8s.internal.Backoff;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the remote load balancers advertised at this site reachable inside the Kubernetes cluster
 * by their short name: for each one, a selector-less Service plus EndpointSlices that point at the
 * Isthmus router pods' listener.
 *
 * <p>A load balancer is surfaced when it is advertised at this site and its default pool exists and
 * lives at another site. A pool at this site already has its own Service in the cluster, so a load
 * balancer served locally is not surfaced (that would shadow or clash with the application's Service).
 * The Service is named after the first label of the first domain that is not a wildcard and is a
 * valid Service name, and lives in the load balancer's namespace. Its type is {@code NodePort} (or
 * {@code ClusterIP}, see {@link Builder#serviceType(ServiceType)}); its port is the load balancer's
 * port ({@link LoadBalancer#port()}, {@code 80} unless set) with the router's listener port as target. It carries the label
 * {@value #MANAGED_BY_LABEL}{@code =}{@value #MANAGED_BY_VALUE} and the annotation
 * {@value #CREATOR_ANNOTATION}{@code =<site>/<router id>}; its EndpointSlices carry
 * {@code kubernetes.io/service-name} and {@value #SLICE_MANAGED_BY_LABEL}{@code =}{@value #SLICE_MANAGED_BY_VALUE}.
 *
 * <p>Ownership: a Service or EndpointSlice belongs to this site when it has the managed-by label and
 * a creator annotation that starts with {@code <site>/}; every router of the site may then keep it
 * current (they compute the same desired state). The surfacer never changes or deletes anything
 * else: when a Service of the wanted name exists and is not owned, it records a {@code Warning}
 * Event ({@code ServiceNameConflict}) on that Service and reports {@link SurfacingStatus.State#CONFLICT}.
 *
 * <p>Every change of the config store, of the router pods (followed by label in the router
 * namespace) and a periodic resync trigger a full reconcile: create or update what is desired,
 * delete owned Services and EndpointSlices of this site that are not desired (orphans, e.g. of a load
 * balancer deleted while no router ran). Kubernetes API errors are retried with exponential backoff.
 * All of this runs on the surfacer's own thread; nothing in the data plane waits for it. Closing the
 * surfacer leaves the Services in place (a restarting router must not make them flap).
 *
 * <pre>{@code
 * ServiceSurfacer surfacer = ServiceSurfacer.builder(kubernetesClient, configStore, "tokyo", "router-7f9c")
 *         .listenerPort(router.ingressAddress().getPort())
 *         .downwardApi(System.getenv())                 // POD_IP, NODE_NAME
 *         .routerPods("isthmus-system", Map.of("app.kubernetes.io/name", "isthmus-router"))
 *         .listener(status -> log.info("{}", status))
 *         .build()
 *         .start();
 * ...
 * surfacer.close();   // the caller still owns and closes the client and the store
 * }</pre>
 *
 * <p>Several routers of one site may run a surfacer each: they write the same desired state, and a
 * write that loses a race ({@code 409 Conflict}) is retried. Configure {@link Builder#routerPods}
 * then, so that every router puts all routers into the slices rather than only itself.
 *
 * <p>RBAC (see {@link RequiredPermissions}): {@code get, list, watch, create, update, delete} on
 * {@code services} and {@code get, list, create, update, delete} on
 * {@code discovery.k8s.io/endpointslices} (cluster-wide: load balancers live in any namespace),
 * {@code list, watch} on {@code pods} of the router namespace, {@code create} on {@code events}.
 * Thread-safe.
 */
public final class ServiceSurfacer implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(ServiceSurfacer.class);

    /** The label every object created by Isthmus carries. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    /** The value of {@link #MANAGED_BY_LABEL}. */
    public static final String MANAGED_BY_VALUE = "isthmus";
    /** The annotation that names the creator, {@code <site>/<router id>}. */
    public static final String CREATOR_ANNOTATION = "isthmus.io/discovery-creator";
    /** The annotation that names the load balancer a Service surfaces, {@code <namespace>/<name>}. */
    public static final String LOAD_BALANCER_ANNOTATION = "isthmus.io/load-balancer";
    /** The EndpointSlice label that names the controller that manages the slice. */
    public static final String SLICE_MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
    /** The value of {@link #SLICE_MANAGED_BY_LABEL}. */
    public static final String SLICE_MANAGED_BY_VALUE = "isthmus.io";
    /** The reason of the Event recorded on a Service whose name a load balancer wants. */
    public static final String CONFLICT_EVENT_REASON = "ServiceNameConflict";

    private static final String PORT_NAME = "http";
    private static final Pattern SERVICE_NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");

    /** The type of the Services the surfacer creates. */
    public enum ServiceType {
        /** Reachable inside the cluster and on every node's port (the default). */
        NODE_PORT("NodePort"),
        /** Reachable inside the cluster only. */
        CLUSTER_IP("ClusterIP");

        private final String kubernetesName;

        ServiceType(String kubernetesName) {
            this.kubernetesName = kubernetesName;
        }

        /** @return the name Kubernetes uses, e.g. {@code NodePort} */
        public String kubernetesName() {
            return kubernetesName;
        }
    }

    private final KubernetesClient client;
    private final ConfigStore store;
    private final String site;
    private final String routerId;
    private final String creator;
    private final int listenerPort;
    private final List<String> ownIps;
    private final @Nullable String ownNode;
    private final @Nullable String routerNamespace;
    private final Map<String, String> routerPodLabels;
    private final ServiceType serviceType;
    private final SurfacingListener listener;
    private final Backoff backoff;
    private final Duration resyncInterval;
    private final ScheduledExecutorService worker;

    // Worker-thread state.
    private final Map<ObjectKey, LoadBalancer> loadBalancers = new HashMap<>();
    private final Map<ObjectKey, OriginPool> pools = new HashMap<>();
    private final Set<String> reportedConflicts = new HashSet<>();
    private @Nullable ConfigWatch configWatch;
    private @Nullable SharedIndexInformer<Pod> routerPods;
    private @Nullable SharedIndexInformer<Service> ownedServices;
    private boolean loaded;
    private boolean reconcileQueued;
    private int failures;
    private int followFailures;
    private @Nullable ScheduledFuture<?> retry;

    private final Map<ObjectKey, SurfacingStatus> statuses = new ConcurrentHashMap<>();
    private volatile boolean started;
    private volatile @Nullable Instant lastReconciled;
    private volatile int consecutiveFailures;
    private volatile boolean closed;

    private ServiceSurfacer(Builder b) {
        this.client = b.client;
        this.store = b.store;
        this.site = b.site;
        this.routerId = b.routerId;
        this.creator = b.site + '/' + b.routerId;
        this.listenerPort = b.listenerPort;
        this.ownIps = List.copyOf(b.podIps);
        this.ownNode = b.nodeName;
        this.routerNamespace = b.routerNamespace;
        this.routerPodLabels = Map.copyOf(b.routerPodLabels);
        this.serviceType = b.serviceType;
        this.listener = b.listener;
        this.backoff = new Backoff(b.initialBackoff, b.maxBackoff);
        this.resyncInterval = b.resyncInterval;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "isthmus-surfacer-" + site);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Returns a builder.
     *
     * @param client the Kubernetes client; the caller owns and closes it
     * @param store the config store to follow; the caller owns and closes it
     * @param site this site's name
     * @param routerId this router's id, unique within the site (e.g. the pod name)
     * @return a new builder
     */
    public static Builder builder(KubernetesClient client, ConfigStore store, String site, String routerId) {
        return new Builder(client, store, site, routerId);
    }

    /**
     * The Service port of a load balancer: the port it listens on ({@link LoadBalancer#port()}, 80
     * unless set), so applications call {@code http://<service>:<port>} as they would the remote app.
     *
     * @param loadBalancer the load balancer
     * @return the Service port
     */
    static int servicePort(LoadBalancer loadBalancer) {
        return loadBalancer.port();
    }

    /**
     * Derives the Service name of a load balancer: the first label of its first domain that is not a
     * wildcard and is a valid Service name (a DNS-1035 label).
     *
     * @param loadBalancer the load balancer
     * @return the Service name, or empty when no domain fits
     */
    public static Optional<String> serviceNameOf(LoadBalancer loadBalancer) {
        for (String domain : loadBalancer.domains()) {
            if (domain.startsWith("*.")) {
                continue;
            }
            int dot = domain.indexOf('.');
            String label = (dot < 0 ? domain : domain.substring(0, dot)).toLowerCase(Locale.ROOT);
            if (SERVICE_NAME.matcher(label).matches()) {
                return Optional.of(label);
            }
        }
        return Optional.empty();
    }

    /**
     * Starts following the config store and the router pods; the first reconcile runs right away on
     * the surfacer's thread.
     *
     * @return this surfacer
     * @throws IllegalStateException when already started or closed
     */
    public synchronized ServiceSurfacer start() {
        checkState(!started && !closed, "surfacer of site %s: already started or closed", site);
        started = true;
        worker.execute(this::follow);
        if (routerNamespace != null) {
            SharedIndexInformer<Pod> informer = client.pods().inNamespace(routerNamespace)
                    .withLabels(routerPodLabels).runnableInformer(0);
            informer.exceptionHandler((isStarted, cause) -> {
                logger.warn("Watch of router pods in {} failed ({}); retrying", routerNamespace, cause.toString());
                return !closed;
            });
            informer.addEventHandler(new ResourceEventHandler<Pod>() {
                @Override
                public void onAdd(Pod pod) {
                    submit(ServiceSurfacer.this::requestReconcile);
                }

                @Override
                public void onUpdate(Pod oldPod, Pod newPod) {
                    submit(ServiceSurfacer.this::requestReconcile);
                }

                @Override
                public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                    submit(ServiceSurfacer.this::requestReconcile);
                }
            });
            routerPods = informer;
            informer.start();
        }
        // Someone deleting a surfaced Service is repaired right away; other drift at the next resync.
        // Only deletions trigger: reacting to updates could loop with the API server's defaulting.
        SharedIndexInformer<Service> owned = client.services().inAnyNamespace()
                .withLabel(MANAGED_BY_LABEL, MANAGED_BY_VALUE).runnableInformer(0);
        owned.exceptionHandler((isStarted, cause) -> {
            logger.warn("Watch of Isthmus Services failed ({}); retrying", cause.toString());
            return !closed;
        });
        owned.addEventHandler(new ResourceEventHandler<Service>() {
            @Override
            public void onAdd(Service service) {}

            @Override
            public void onUpdate(Service oldService, Service newService) {}

            @Override
            public void onDelete(Service service, boolean deletedFinalStateUnknown) {
                if (ownedBySite(service.getMetadata())) {
                    submit(ServiceSurfacer.this::requestReconcile);
                }
            }
        });
        ownedServices = owned;
        owned.start();
        worker.scheduleWithFixedDelay(() -> requestReconcile(), resyncInterval.toMillis(), resyncInterval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Returns the status of a load balancer.
     *
     * @param loadBalancer the load balancer's key
     * @return the status, or empty when the load balancer is not one this site surfaces
     */
    public Optional<SurfacingStatus> status(ObjectKey loadBalancer) {
        return Optional.ofNullable(statuses.get(requireNonNull(loadBalancer, "loadBalancer")));
    }

    /**
     * Returns the status of every load balancer this site surfaces or tried to surface.
     *
     * @return the statuses by load balancer key, an immutable copy
     */
    public Map<ObjectKey, SurfacingStatus> statuses() {
        return Map.copyOf(statuses);
    }

    /**
     * Returns when a reconcile last completed without a Kubernetes API error: every desired Service
     * and EndpointSlice was current and no orphan was left.
     *
     * @return the time, or empty before the first such reconcile (e.g. while the API server is unreachable)
     */
    public Optional<Instant> lastReconciled() {
        return Optional.ofNullable(lastReconciled);
    }

    /**
     * Returns how many reconciles in a row failed on a Kubernetes API error; {@code 0} once one succeeds.
     *
     * @return the count
     */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Stops following the store and the pods and stops the thread; leaves the Services in place. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            worker.submit(() -> {
                if (configWatch != null) {
                    configWatch.close();
                }
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            logger.debug("Closing the config watch of the surfacer of {} failed", site, e);
        }
        if (routerPods != null) {
            routerPods.stop();
        }
        if (ownedServices != null) {
            ownedServices.stop();
        }
        worker.shutdownNow();
    }

    private void submit(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    // ---- following the config store (worker thread) ----

    private void follow() {
        if (closed) {
            return;
        }
        try {
            ConfigSnapshot snapshot = store.snapshot();
            loadBalancers.clear();
            pools.clear();
            snapshot.objects().forEach(v -> apply(v.object()));
            configWatch = store.watch(snapshot.revision(), new ConfigListener() {
                @Override
                public void onEvent(ConfigEvent event) {
                    submit(() -> applyEvent(event));
                }

                @Override
                public void onError(Throwable cause) {
                    logger.warn("Config watch of the surfacer of {} ended ({}); re-reading the store", site,
                            cause.toString());
                    submit(() -> {
                        if (configWatch != null) {
                            configWatch.close();
                        }
                        follow();
                    });
                }
            });
            followFailures = 0;
            loaded = true;
            requestReconcile();
        } catch (RuntimeException e) {
            followFailures++;
            Duration delay = backoff.delay(followFailures);
            logger.warn("Reading the config store failed ({}); retrying in {}", e.toString(), delay);
            worker.schedule(this::follow, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void applyEvent(ConfigEvent event) {
        if (event.type() == ConfigEvent.Type.DELETE) {
            loadBalancers.remove(event.key());
            pools.remove(event.key());
        } else {
            Versioned<MeshObject> object = requireNonNull(event.object(), "object");
            apply(object.object());
        }
        requestReconcile();
    }

    private void apply(MeshObject object) {
        if (object instanceof LoadBalancer lb) {
            loadBalancers.put(lb.key(), lb);
        } else if (object instanceof OriginPool pool) {
            pools.put(pool.key(), pool);
        }
    }

    // ---- reconciling (worker thread) ----

    private void requestReconcile() {
        if (closed || reconcileQueued) {
            return;
        }
        reconcileQueued = true;
        submit(this::reconcile);
    }

    /** One desired Service. */
    private record Desired(LoadBalancer lb, String namespace, String name) {
        String id() {
            return namespace + '/' + name;
        }
    }

    /** One router address in the EndpointSlices. */
    private record RouterAddress(String ip, @Nullable String node, boolean ready) {}

    private void reconcile() {
        reconcileQueued = false;
        if (closed || !loaded) {
            return;
        }
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
        Map<ObjectKey, SurfacingStatus> next = new LinkedHashMap<>();
        Map<String, Desired> desired = desired(next);
        List<RouterAddress> routers = routerAddresses();
        boolean failed = false;
        Set<String> wantedSlices = new HashSet<>();
        Set<String> conflicts = new HashSet<>();
        for (Desired d : desired.values()) {
            try {
                SurfacingStatus status = surface(d, routers, wantedSlices, conflicts);
                next.put(d.lb().key(), status);
            } catch (RuntimeException e) {
                failed = true;
                logger.warn("Surfacing {} as Service {} failed: {}", d.lb().key(), d.id(), e.toString());
                next.put(d.lb().key(), new SurfacingStatus(d.lb().key(), State.PENDING, d.namespace(), d.name(),
                        "Kubernetes API error, retrying: " + e.getMessage()));
                // Keep its existing slices: a failed update must not make the orphan pass delete them.
                for (String family : List.of("ipv4", "ipv6")) {
                    wantedSlices.add(d.namespace() + '/' + sliceName(d.name(), family));
                }
            }
        }
        reportedConflicts.retainAll(conflicts);
        try {
            deleteOrphans(desired.keySet(), wantedSlices);
        } catch (RuntimeException e) {
            failed = true;
            logger.warn("Deleting orphaned Services of site {} failed: {}", site, e.toString());
        }
        publish(next);
        if (failed) {
            failures++;
            Duration delay = backoff.delay(failures);
            retry = worker.schedule(this::requestReconcile, delay.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            failures = 0;
            lastReconciled = Instant.now();
        }
        consecutiveFailures = failures;
    }

    private Map<String, Desired> desired(Map<ObjectKey, SurfacingStatus> statusesOut) {
        Map<String, Desired> desired = new LinkedHashMap<>();
        for (LoadBalancer lb : new TreeMap<>(loadBalancers).values()) {
            OriginPool pool = pools.get(lb.defaultPoolKey());
            if (!lb.isAdvertisedAt(site) || pool == null || pool.site().equals(site)) {
                continue;
            }
            Optional<String> name = serviceNameOf(lb);
            if (name.isEmpty()) {
                statusesOut.put(lb.key(), new SurfacingStatus(lb.key(), State.REJECTED, lb.namespace(), "",
                        "no domain of " + lb.domains() + " starts with a valid Service name (a DNS-1035 label)"));
                continue;
            }
            Desired d = new Desired(lb, lb.namespace(), name.get());
            Desired taken = desired.putIfAbsent(d.id(), d);
            if (taken != null) {
                statusesOut.put(lb.key(), new SurfacingStatus(lb.key(), State.CONFLICT, d.namespace(), d.name(),
                        "Service " + d.id() + " already surfaces load balancer " + taken.lb().key()));
            }
        }
        return desired;
    }

    private List<RouterAddress> routerAddresses() {
        Map<String, RouterAddress> byIp = new TreeMap<>();
        for (String ip : ownIps) {
            byIp.put(ip, new RouterAddress(ip, ownNode, true));
        }
        if (routerPods != null) {
            for (Pod pod : routerPods.getStore().list()) {
                if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null) {
                    continue;
                }
                boolean ready = pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
                String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
                Set<String> ips = new HashSet<>();
                if (pod.getStatus().getPodIP() != null) {
                    ips.add(pod.getStatus().getPodIP());
                }
                if (pod.getStatus().getPodIPs() != null) {
                    pod.getStatus().getPodIPs().stream().map(PodIP::getIp).filter(Objects::nonNull).forEach(ips::add);
                }
                for (String ip : ips) {
                    byIp.put(ip, new RouterAddress(ip, node, ready));
                }
            }
        }
        return List.copyOf(byIp.values());
    }

    private SurfacingStatus surface(Desired d, List<RouterAddress> routers, Set<String> wantedSlices,
            Set<String> conflicts) {
        ObjectKey key = d.lb().key();
        Service existing = client.services().inNamespace(d.namespace()).withName(d.name()).get();
        if (existing != null && !ownedBySite(existing.getMetadata())) {
            String conflictId = d.id() + ' ' + key;
            conflicts.add(conflictId);
            String reason = "Service " + d.id() + " exists and is not managed by Isthmus site " + site
                    + "; left untouched";
            if (!reportedConflicts.contains(conflictId)) {
                recordConflictEvent(existing, key);
                reportedConflicts.add(conflictId);
            }
            return new SurfacingStatus(key, State.CONFLICT, d.namespace(), d.name(), reason);
        }
        Service service;
        if (existing == null) {
            service = client.services().inNamespace(d.namespace()).resource(newService(d)).create();
            logger.info("Created Service {} for load balancer {}", d.id(), key);
        } else {
            Service wanted = updatedService(existing, d);
            service = sameManagedFields(wanted, existing) ? existing
                    : client.services().inNamespace(d.namespace()).resource(wanted).update();
        }
        for (String family : List.of("ipv4", "ipv6")) {
            List<RouterAddress> addresses = routers.stream().filter(r -> family.equals(familyOf(r.ip()))).toList();
            String sliceName = sliceName(d.name(), family);
            if (addresses.isEmpty() && family.equals("ipv6")) {
                continue;
            }
            wantedSlices.add(d.namespace() + '/' + sliceName);
            EndpointSlice current = client.discovery().v1().endpointSlices().inNamespace(d.namespace())
                    .withName(sliceName).get();
            if (current != null && !ownedBySite(current.getMetadata())) {
                return new SurfacingStatus(key, State.CONFLICT, d.namespace(), d.name(),
                        "EndpointSlice " + d.namespace() + '/' + sliceName + " exists and is not managed by Isthmus site "
                                + site + "; left untouched");
            }
            EndpointSlice wanted = slice(d, service, sliceName, family, addresses, current);
            if (current == null) {
                client.discovery().v1().endpointSlices().inNamespace(d.namespace()).resource(wanted).create();
            } else if (!sameManagedFields(wanted, current)) {
                client.discovery().v1().endpointSlices().inNamespace(d.namespace()).resource(wanted).update();
            }
        }
        return new SurfacingStatus(key, State.SURFACED, d.namespace(), d.name(), "");
    }

    private boolean ownedBySite(@Nullable ObjectMeta meta) {
        if (meta == null) {
            return false;
        }
        Map<String, String> labels = Objects.requireNonNullElse(meta.getLabels(), Map.of());
        Map<String, String> annotations = Objects.requireNonNullElse(meta.getAnnotations(), Map.of());
        boolean managed = MANAGED_BY_VALUE.equals(labels.get(MANAGED_BY_LABEL))
                || SLICE_MANAGED_BY_VALUE.equals(labels.get(SLICE_MANAGED_BY_LABEL));
        String by = annotations.get(CREATOR_ANNOTATION);
        return managed && by != null && by.startsWith(site + '/');
    }

    private Service newService(Desired d) {
        return new ServiceBuilder()
                .withNewMetadata()
                    .withName(d.name()).withNamespace(d.namespace())
                    .addToLabels(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
                    .addToAnnotations(CREATOR_ANNOTATION, creator)
                    .addToAnnotations(LOAD_BALANCER_ANNOTATION, d.lb().key().qualifiedName())
                .endMetadata()
                .withNewSpec()
                    .withType(serviceType.kubernetesName())
                    .withPorts(servicePortOf(d, null))
                .endSpec()
                .build();
    }

    private Service updatedService(Service existing, Desired d) {
        ServicePort old = existing.getSpec() == null || existing.getSpec().getPorts() == null ? null
                : existing.getSpec().getPorts().stream().filter(p -> PORT_NAME.equals(p.getName())).findFirst()
                        .orElse(null);
        Integer nodePort = old != null && serviceType == ServiceType.NODE_PORT ? old.getNodePort() : null;
        String by = Objects.requireNonNullElse(existing.getMetadata().getAnnotations(), Map.<String, String>of())
                .getOrDefault(CREATOR_ANNOTATION, creator);
        return new ServiceBuilder(existing)
                .editMetadata()
                    .addToLabels(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
                    .addToAnnotations(CREATOR_ANNOTATION, by)
                    .addToAnnotations(LOAD_BALANCER_ANNOTATION, d.lb().key().qualifiedName())
                .endMetadata()
                .editOrNewSpec()
                    .withType(serviceType.kubernetesName())
                    .withSelector(null)
                    .withPorts(servicePortOf(d, nodePort))
                .endSpec()
                .build();
    }

    /** Compares only what the surfacer sets, so that fields the API server defaults cause no update. */
    private static boolean sameManagedFields(Service wanted, Service actual) {
        return sameManagedMetadata(wanted.getMetadata(), actual.getMetadata())
                && Objects.equals(wanted.getSpec().getType(), actual.getSpec().getType())
                && (actual.getSpec().getSelector() == null || actual.getSpec().getSelector().isEmpty())
                && portsOf(wanted).equals(portsOf(actual));
    }

    private static List<String> portsOf(Service service) {
        return Objects.requireNonNullElse(service.getSpec().getPorts(), List.<ServicePort>of()).stream()
                .map(p -> p.getName() + ' ' + p.getProtocol() + ' ' + p.getPort() + ' ' + p.getTargetPort())
                .sorted().toList();
    }

    private static boolean sameManagedFields(EndpointSlice wanted, EndpointSlice actual) {
        return sameManagedMetadata(wanted.getMetadata(), actual.getMetadata())
                && Objects.equals(wanted.getAddressType(), actual.getAddressType())
                && Objects.equals(wanted.getMetadata().getOwnerReferences(), actual.getMetadata().getOwnerReferences())
                && Objects.equals(wanted.getPorts(), actual.getPorts())
                && endpointsOf(wanted).equals(endpointsOf(actual));
    }

    private static List<String> endpointsOf(EndpointSlice slice) {
        return Objects.requireNonNullElse(slice.getEndpoints(),
                        List.<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>of()).stream()
                .map(e -> e.getAddresses() + " " + e.getNodeName() + ' '
                        + (e.getConditions() == null ? null : e.getConditions().getReady()))
                .sorted().toList();
    }

    private static boolean sameManagedMetadata(ObjectMeta wanted, ObjectMeta actual) {
        Map<String, String> labels = Objects.requireNonNullElse(actual.getLabels(), Map.of());
        Map<String, String> annotations = Objects.requireNonNullElse(actual.getAnnotations(), Map.of());
        return labels.entrySet().containsAll(Objects.requireNonNullElse(wanted.getLabels(), Map.<String, String>of()).entrySet())
                && annotations.entrySet().containsAll(
                        Objects.requireNonNullElse(wanted.getAnnotations(), Map.<String, String>of()).entrySet());
    }

    private ServicePort servicePortOf(Desired d, @Nullable Integer nodePort) {
        return new ServicePortBuilder().withName(PORT_NAME).withProtocol("TCP")
                .withPort(servicePort(d.lb())).withTargetPort(new IntOrString(listenerPort))
                .withNodePort(nodePort).build();
    }

    private static String sliceName(String serviceName, String family) {
        return serviceName + "-isthmus-" + family;
    }

    private static String familyOf(String ip) {
        return ip.indexOf(':') >= 0 ? "ipv6" : "ipv4";
    }

    private EndpointSlice slice(Desired d, Service service, String sliceName, String family,
            List<RouterAddress> addresses, @Nullable EndpointSlice current) {
        String by = current == null ? creator
                : Objects.requireNonNullElse(current.getMetadata().getAnnotations(), Map.<String, String>of())
                        .getOrDefault(CREATOR_ANNOTATION, creator);
        EndpointSliceBuilder b = current == null ? new EndpointSliceBuilder() : new EndpointSliceBuilder(current);
        b.editOrNewMetadata()
                .withName(sliceName).withNamespace(d.namespace())
                .addToLabels(KubernetesEndpointDiscovery.SERVICE_NAME_LABEL, d.name())
                .addToLabels(SLICE_MANAGED_BY_LABEL, SLICE_MANAGED_BY_VALUE)
                .addToLabels(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
                .addToAnnotations(CREATOR_ANNOTATION, by)
                .withOwnerReferences(service.getMetadata().getUid() == null ? List.of()
                        : List.of(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Service")
                                .withName(d.name()).withUid(service.getMetadata().getUid()).build()))
                .endMetadata();
        b.withAddressType(family.equals("ipv6") ? "IPv6" : "IPv4")
                .withPorts(new EndpointPortBuilder().withName(PORT_NAME).withProtocol("TCP").withPort(listenerPort).build())
                .withEndpoints(addresses.stream().map(r -> new EndpointBuilder()
                        .withAddresses(r.ip())
                        .withNewConditions().withReady(r.ready()).endConditions()
                        .withNodeName(r.node())
                        .build()).toList());
        return b.build();
    }

    private void recordConflictEvent(Service existing, ObjectKey lb) {
        String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        String namespace = existing.getMetadata().getNamespace();
        String name = existing.getMetadata().getName();
        try {
            client.v1().events().inNamespace(namespace).resource(new EventBuilder()
                    .withNewMetadata()
                        .withName(name + '.' + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE))
                        .withNamespace(namespace)
                        .addToLabels(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
                    .endMetadata()
                    .withNewInvolvedObject()
                        .withApiVersion("v1").withKind("Service").withNamespace(namespace).withName(name)
                        .withUid(existing.getMetadata().getUid())
                    .endInvolvedObject()
                    .withType("Warning")
                    .withReason(CONFLICT_EVENT_REASON)
                    .withMessage("Isthmus load balancer " + lb + " (site " + site + ") wants Service " + namespace + '/'
                            + name + ", which Isthmus does not manage; the Service is left untouched")
                    .withNewSource().withComponent("isthmus-router").withHost(routerId).endSource()
                    .withReportingComponent("isthmus.io/router")
                    .withReportingInstance(creator)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .build()).create();
        } catch (RuntimeException e) {
            // The status still says CONFLICT; the event is informational.
            logger.warn("Recording the name clash of Service {}/{} failed: {}", namespace, name, e.toString());
        }
    }

    private void deleteOrphans(Set<String> wantedServices, Set<String> wantedSlices) {
        for (Service s : client.services().inAnyNamespace().withLabel(MANAGED_BY_LABEL, MANAGED_BY_VALUE).list()
                .getItems()) {
            String id = s.getMetadata().getNamespace() + '/' + s.getMetadata().getName();
            if (ownedBySite(s.getMetadata()) && !wantedServices.contains(id)) {
                client.services().inNamespace(s.getMetadata().getNamespace()).withName(s.getMetadata().getName()).delete();
                logger.info("Deleted Service {}: no load balancer of site {} surfaces it any more", id, site);
            }
        }
        for (EndpointSlice s : client.discovery().v1().endpointSlices().inAnyNamespace()
                .withLabel(SLICE_MANAGED_BY_LABEL, SLICE_MANAGED_BY_VALUE).list().getItems()) {
            String id = s.getMetadata().getNamespace() + '/' + s.getMetadata().getName();
            if (ownedBySite(s.getMetadata()) && !wantedSlices.contains(id)) {
                client.discovery().v1().endpointSlices().inNamespace(s.getMetadata().getNamespace())
                        .withName(s.getMetadata().getName()).delete();
            }
        }
    }

    private void publish(Map<ObjectKey, SurfacingStatus> next) {
        List<SurfacingStatus> changes = new ArrayList<>();
        for (SurfacingStatus old : new ArrayList<>(statuses.values())) {
            if (!next.containsKey(old.loadBalancer())) {
                statuses.remove(old.loadBalancer());
                if (old.state() != State.REMOVED) {
                    changes.add(new SurfacingStatus(old.loadBalancer(), State.REMOVED, old.serviceNamespace(),
                            old.serviceName(), "no longer surfaced at site " + site));
                }
            }
        }
        for (SurfacingStatus status : next.values()) {
            if (!status.equals(statuses.put(status.loadBalancer(), status))) {
                changes.add(status);
            }
        }
        for (SurfacingStatus change : Collections.unmodifiableList(changes)) {
            try {
                listener.onStatus(change);
            } catch (RuntimeException e) {
                logger.warn("Surfacing listener failed on {}", change, e);
            }
        }
    }

    /** Builds a {@link ServiceSurfacer}; not thread-safe. */
    public static final class Builder {
        private final KubernetesClient client;
        private final ConfigStore store;
        private final String site;
        private final String routerId;
        private int listenerPort;
        private final List<String> podIps = new ArrayList<>();
        private @Nullable String nodeName;
        private @Nullable String routerNamespace;
        private Map<String, String> routerPodLabels = Map.of();
        private ServiceType serviceType = ServiceType.NODE_PORT;
        private SurfacingListener listener = status -> {};
        private Duration initialBackoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration resyncInterval = Duration.ofMinutes(5);

        private Builder(KubernetesClient client, ConfigStore store, String site, String routerId) {
            this.client = requireNonNull(client, "client");
            this.store = requireNonNull(store, "store");
            this.site = requireNonNull(site, "site");
            this.routerId = requireNonNull(routerId, "routerId");
            checkArgument(!site.isEmpty() && site.indexOf('/') < 0, "site: \"%s\" (expected: a site name)", site);
            checkArgument(!routerId.isEmpty(), "routerId: \"\" (expected: a non-empty router id)");
        }

        /**
         * Sets the port the router's HTTP listener accepts the surfaced traffic on: the Services' target
         * port and the EndpointSlices' port. Required.
         *
         * @param port the port, 1 to 65535
         * @return this builder
         */
        public Builder listenerPort(int port) {
            checkArgument(port > 0 && port <= 65535, "listenerPort: %s (expected: 1-65535)", port);
            this.listenerPort = port;
            return this;
        }

        /**
         * Adds an IP address of this router's pod (the Downward API's {@code status.podIP}).
         *
         * @param ip the address, IPv4 or IPv6
         * @return this builder
         */
        public Builder podIp(String ip) {
            requireNonNull(ip, "ip");
            checkArgument(ip.matches("[0-9a-fA-F.:]+") && (ip.indexOf('.') > 0 || ip.indexOf(':') >= 0),
                    "podIp: \"%s\" (expected: an IPv4 or IPv6 address)", ip);
            podIps.add(ip);
            return this;
        }

        /**
         * Sets the node this router runs on (the Downward API's {@code spec.nodeName}).
         *
         * @param nodeName the node name
         * @return this builder
         */
        public Builder nodeName(String nodeName) {
            this.nodeName = requireNonNull(nodeName, "nodeName");
            return this;
        }

        /**
         * Reads this pod's IP addresses and node from the environment the Downward API fills in:
         * {@code POD_IP} (or {@code POD_IPS}, comma-separated) and {@code NODE_NAME}.
         *
         * @param env the environment, e.g. {@code System.getenv()}
         * @return this builder
         * @throws IllegalArgumentException when {@code POD_IP} and {@code POD_IPS} are both missing
         */
        public Builder downwardApi(Map<String, String> env) {
            requireNonNull(env, "env");
            String ips = env.getOrDefault("POD_IPS", env.get("POD_IP"));
            checkArgument(ips != null && !ips.isBlank(),
                    "environment: POD_IP is not set (expected: the pod IP from the Downward API, fieldRef status.podIP)");
            for (String ip : ips.split(",")) {
                if (!ip.isBlank()) {
                    podIp(ip.trim());
                }
            }
            String node = env.get("NODE_NAME");
            if (node != null && !node.isBlank()) {
                nodeName(node);
            }
            return this;
        }

        /**
         * Follows the router pods (selected by labels in a namespace) so that the EndpointSlices list
         * every router of the site, each with its readiness. Without it, the slices hold only this
         * router's own addresses.
         *
         * @param namespace the router namespace, e.g. {@code isthmus-system}
         * @param labels the router pods' labels, at least one
         * @return this builder
         */
        public Builder routerPods(String namespace, Map<String, String> labels) {
            requireNonNull(namespace, "namespace");
            requireNonNull(labels, "labels");
            checkArgument(!labels.isEmpty(), "routerPods labels: {} (expected: at least one label)");
            this.routerNamespace = namespace;
            this.routerPodLabels = Map.copyOf(labels);
            return this;
        }

        /**
         * Sets the type of the Services; {@link ServiceType#NODE_PORT} by default.
         *
         * @param serviceType the type
         * @return this builder
         */
        public Builder serviceType(ServiceType serviceType) {
            this.serviceType = requireNonNull(serviceType, "serviceType");
            return this;
        }

        /**
         * Sets the listener of status changes.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(SurfacingListener listener) {
            this.listener = requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Sets the backoff between retries after Kubernetes API errors; 200 ms doubling to 30 s by default.
         *
         * @param initial the first delay, positive
         * @param max the largest delay, at least {@code initial}
         * @return this builder
         */
        public Builder retryBackoff(Duration initial, Duration max) {
            new Backoff(initial, max);
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * Sets how often a full reconcile runs even when nothing changed, to repair drift; 5 minutes by default.
         *
         * @param interval the interval, positive
         * @return this builder
         */
        public Builder resyncInterval(Duration interval) {
            requireNonNull(interval, "interval");
            checkArgument(!interval.isNegative() && !interval.isZero(), "resyncInterval: %s (expected: > 0)", interval);
            this.resyncInterval = interval;
            return this;
        }

        /**
         * Builds the surfacer; call {@link ServiceSurfacer#start()} to run it.
         *
         * @return the surfacer
         * @throws IllegalStateException when the listener port or the pod IP is missing
         */
        public ServiceSurfacer build() {
            checkState(listenerPort > 0, "listenerPort: not set (expected: the router's listener port)");
            checkState(!podIps.isEmpty(), "podIp: not set (expected: this router pod's IP, see downwardApi(env))");
            return new ServiceSurfacer(this);
        }
    }
}
