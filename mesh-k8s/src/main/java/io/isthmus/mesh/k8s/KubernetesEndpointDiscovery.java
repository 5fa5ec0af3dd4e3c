package io.isthmus.mesh.k8s;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.isthmus.mesh.model.Endpoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves pool origins that are Kubernetes Services ({@code name.namespace:port}) to their ready
 * endpoints by watching the Service and its EndpointSlices.
 *
 * <p>An endpoint counts when its {@code conditions.ready} is {@code true} or absent; its zone is
 * kept. The Service port is mapped to the endpoints' port through the port name the EndpointSlices
 * carry (which resolves a named {@code targetPort}), or through a numeric {@code targetPort} when
 * the slice names no such port. The listener receives the full list after the first sync and after
 * every change, typically within milliseconds of the API server's watch event. The watches are
 * fabric8 informers that reconnect (with backoff) after API errors and API server restarts, then
 * re-list, so the listener converges on the current state.
 *
 * <pre>{@code
 * KubernetesEndpointDiscovery discovery = KubernetesEndpointDiscovery.of(kubernetesClient);
 * Subscription s = discovery.subscribe(ServiceReference.parse("orders.shop:8080"),
 *         (service, endpoints) -> pool.update(endpoints));
 * ...
 * discovery.close();   // closes every subscription; the caller still owns and closes the client
 * }</pre>
 *
 * <p>RBAC: {@code list, watch} on {@code services} and on {@code discovery.k8s.io/endpointslices}
 * in the namespaces of the subscribed Services (see {@link RequiredPermissions}). Thread-safe.
 */
public final class KubernetesEndpointDiscovery implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(KubernetesEndpointDiscovery.class);

    /** The label that ties an EndpointSlice to its Service. */
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private static final Comparator<DiscoveredEndpoint> ORDER = Comparator
            .comparing((DiscoveredEndpoint e) -> e.endpoint().host())
            .thenComparingInt(e -> e.endpoint().port())
            .thenComparing(e -> Objects.requireNonNullElse(e.zone(), ""));

    private final KubernetesClient client;
    private final List<ServiceWatch> watches = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private KubernetesEndpointDiscovery(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Returns a discovery that uses a client the caller owns (and closes after this discovery).
     *
     * @param client the Kubernetes client
     * @return the discovery
     */
    public static KubernetesEndpointDiscovery of(KubernetesClient client) {
        return new KubernetesEndpointDiscovery(requireNonNull(client, "client"));
    }

    /**
     * Starts watching a Service port. The listener is called once the Service and its slices were
     * listed (with an empty list when there are none) and then on every change of the ready endpoints.
     *
     * @param service the Service port
     * @param listener receives the ready endpoints
     * @return the subscription; close it to stop
     * @throws IllegalStateException when the discovery is closed
     */
    public Subscription subscribe(ServiceReference service, EndpointListener listener) {
        requireNonNull(service, "service");
        requireNonNull(listener, "listener");
        if (closed) {
            throw new IllegalStateException("discovery is closed; cannot subscribe to " + service);
        }
        ServiceWatch watch = new ServiceWatch(service, listener);
        watches.add(watch);
        watch.start();
        return watch;
    }

    /** Closes every subscription. Does not close the client. Idempotent. */
    @Override
    public void close() {
        closed = true;
        watches.forEach(ServiceWatch::close);
    }

    /**
     * Computes the ready endpoints of a Service port from the Service and its EndpointSlices.
     *
     * @param ref the Service port
     * @param service the Service, or {@code null} when it does not exist
     * @param slices the Service's EndpointSlices
     * @return the ready endpoints, sorted, without duplicates
     */
    static List<DiscoveredEndpoint> readyEndpoints(ServiceReference ref, @Nullable Service service,
            List<EndpointSlice> slices) {
        if (service == null || service.getSpec() == null || service.getSpec().getPorts() == null) {
            return List.of();
        }
        ServicePort servicePort = service.getSpec().getPorts().stream()
                .filter(p -> p.getPort() != null && p.getPort() == ref.port())
                .findFirst().orElse(null);
        if (servicePort == null) {
            return List.of();
        }
        String portName = Objects.requireNonNullElse(servicePort.getName(), "");
        IntOrString target = servicePort.getTargetPort();
        Integer numericTarget = target == null ? servicePort.getPort() : target.getIntVal();
        Set<DiscoveredEndpoint> result = new TreeSet<>(ORDER);
        for (EndpointSlice slice : slices) {
            Integer port = null;
            for (EndpointPort p : Objects.requireNonNullElse(slice.getPorts(), List.<EndpointPort>of())) {
                if (p.getPort() != null && portName.equals(Objects.requireNonNullElse(p.getName(), ""))) {
                    port = p.getPort();
                }
            }
            if (port == null) {
                port = numericTarget;
            }
            if (port == null || slice.getEndpoints() == null) {
                continue;
            }
            for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint ep : slice.getEndpoints()) {
                EndpointConditions conditions = ep.getConditions();
                boolean ready = conditions == null || conditions.getReady() == null || conditions.getReady();
                if (!ready || ep.getAddresses() == null) {
                    continue;
                }
                for (String address : ep.getAddresses()) {
                    try {
                        result.add(DiscoveredEndpoint.of(Endpoint.of(address, port), ep.getZone()));
                    } catch (RuntimeException e) {
                        logger.warn("Skipping endpoint {} port {} of EndpointSlice {} for {}: {}", address, port,
                                slice.getMetadata() == null ? "?" : slice.getMetadata().getName(), ref, e.getMessage());
                    }
                }
            }
        }
        return List.copyOf(result);
    }

    /** The two informers of one subscription and the last list it delivered. */
    private final class ServiceWatch implements Subscription {
        private final ServiceReference ref;
        private final EndpointListener listener;
        private final SharedIndexInformer<Service> services;
        private final SharedIndexInformer<EndpointSlice> slices;
        private @Nullable List<DiscoveredEndpoint> last;
        private volatile boolean stopped;

        ServiceWatch(ServiceReference ref, EndpointListener listener) {
            this.ref = ref;
            this.listener = listener;
            this.services = client.services().inNamespace(ref.namespace()).withName(ref.name()).runnableInformer(0);
            this.slices = client.discovery().v1().endpointSlices().inNamespace(ref.namespace())
                    .withLabel(SERVICE_NAME_LABEL, ref.name()).runnableInformer(0);
        }

        void start() {
            for (SharedIndexInformer<?> informer : List.of(services, slices)) {
                informer.exceptionHandler((started, cause) -> {
                    logger.warn("Watch for {} failed ({}); retrying", ref, cause.toString());
                    return !stopped;
                });
            }
            services.addEventHandler(new Recompute<>());
            slices.addEventHandler(new Recompute<>());
            services.start().whenComplete((v, t) -> recompute());
            slices.start().whenComplete((v, t) -> recompute());
        }

        synchronized void recompute() {
            if (stopped || !services.hasSynced() || !slices.hasSynced()) {
                return;
            }
            Service service = services.getStore().list().stream().findFirst().orElse(null);
            List<DiscoveredEndpoint> now = readyEndpoints(ref, service, new ArrayList<>(slices.getStore().list()));
            if (now.equals(last)) {
                return;
            }
            last = now;
            try {
                listener.onEndpoints(ref, now);
            } catch (RuntimeException e) {
                logger.warn("Endpoint listener of {} failed", ref, e);
            }
        }

        @Override
        public boolean isWatching() {
            return !stopped && services.isWatching() && slices.isWatching();
        }

        @Override
        public void close() {
            stopped = true;
            services.stop();
            slices.stop();
            watches.remove(this);
        }

        private final class Recompute<T> implements ResourceEventHandler<T> {
            @Override
            public void onAdd(T obj) {
                recompute();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                recompute();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                recompute();
            }

            @Override
            public void onList(String resourceVersion, boolean initial) {
                recompute();
            }
        }
    }
}
