package io.isthmus.mesh.k8s.etcd;

import static io.isthmus.mesh.k8s.etcd.EtcdKeys.bytes;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.MeshValidator;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ConfigStore} kept in etcd (v3 API, through jetcd): the production store that every site's
 * router watches.
 *
 * <h2>Key layout</h2>
 *
 * <p>Each object is one etcd key under the store's prefix (default {@code /isthmus}), named after
 * its {@linkplain Kind#kindName() kind}:
 *
 * <pre>
 * &lt;prefix&gt;/&lt;kind&gt;/&lt;namespace&gt;/&lt;name&gt;   namespaced kinds, e.g. /isthmus/LoadBalancer/default/osaka-app
 * &lt;prefix&gt;/Site/&lt;name&gt;                 sites, e.g. /isthmus/Site/osaka
 * </pre>
 *
 * <p>The value is the object's JSON document as written by {@link MeshObjectCodec#toJson(MeshObject)}.
 * Revisions are etcd revisions: {@link #revision()} is the cluster's current revision, and an object's
 * {@link Versioned#modRevision()} and {@link Versioned#createRevision()} are its key's mod and create
 * revisions. Compare-and-set writes are etcd transactions that compare the key's mod revision
 * ({@code 0}: the key must not exist). Other writers of the same etcd cluster share the revision
 * counter, so revisions grow by at least one per write.
 *
 * <h2>Checked writes</h2>
 *
 * <p>Like the in-memory store, every {@code put}, {@code create}, {@code update} and {@code delete}
 * is checked with {@link MeshValidator} against the objects in etcd, so a write that would leave a
 * dangling reference (a load balancer naming a missing pool, a pool deleted while a load balancer
 * uses it) fails with a {@link io.isthmus.mesh.config.ConfigValidationException} and writes nothing.
 * The check and the write are made atomic with a guard key, {@code <prefix>-write-guard} (outside
 * the objects' range): a write reads all objects and the guard's mod revision in one transaction,
 * checks, and commits in a transaction that requires the guard to be unchanged and puts it again
 * along with the object. Two checked writes that overlap therefore cannot both commit: the loser
 * reads again and checks against the winner's result, at most {@value #MAX_WRITE_ATTEMPTS} times
 * before it fails with a {@link ConfigStoreException}. Each write is still one etcd revision. Writes
 * made to etcd by other tools bypass the check; {@link #keepAlive(Site, Duration)} writes only a
 * site record, which nothing refers to in a way the check guards.
 *
 * <h2>Values that are not valid objects</h2>
 *
 * <p>A value that does not parse or validate (written to etcd by another tool), or a key outside the
 * layout, never breaks a read or a watch: every read and every watch skips it, logs the key and the
 * problem at WARN, and counts it in {@link #rejectedObjects()}. Such an object reads as absent.
 *
 * <h2>Watches</h2>
 *
 * <p>{@link #watch(long, ConfigListener)} watches the whole prefix from {@code afterRevision + 1}. When
 * the connection to etcd breaks, the watch reconnects with backoff and resumes after the last revision
 * it delivered, so no change is lost or repeated. When etcd has compacted the revisions a watch needs,
 * the listener's {@link ConfigListener#onError(Throwable)} receives a {@link ConfigStoreException}
 * and the watch ends: read a new {@link #snapshot()} and watch again.
 *
 * <h2>Example</h2>
 *
 * <pre>{@code
 * try (EtcdConfigStore store = EtcdConfigStore.builder(List.of(URI.create("https://etcd-0:2379")))
 *         .namespace("/isthmus")
 *         .trustCertificates(Path.of("/etc/isthmus/etcd-ca.pem"))
 *         .keyCertChain(Path.of("/etc/isthmus/etcd-client.pem"), Path.of("/etc/isthmus/etcd-client-key.pem"))
 *         .requestTimeout(Duration.ofSeconds(5))
 *         .build()) {
 *     store.put(loadBalancer);
 *     ConfigSnapshot snapshot = store.snapshot();
 *     ConfigWatch watch = store.watch(snapshot.revision(), event -> router.apply(event));
 *     SiteLease liveness = store.keepAlive(site, Duration.ofSeconds(10)); // the site record lives while we do
 *     ...
 * }
 * }</pre>
 *
 * <h2>Threading and ownership</h2>
 *
 * <p>The store is thread-safe and meant to be shared. Every call that waits for etcd is bounded by the
 * {@linkplain Builder#requestTimeout(Duration) request timeout}; a failure or timeout becomes a {@link
 * ConfigStoreException} naming the endpoints and the operation. Listeners of all watches of one store
 * run on one thread of the store, in revision order: do not block in them. The caller closes the store,
 * which ends its watches and stops renewing its leases (their records expire after their TTL).
 */
public final class EtcdConfigStore implements ConfigStore {

    private static final Logger logger = LoggerFactory.getLogger(EtcdConfigStore.class);

    /** The key prefix used when the builder is not given one. */
    public static final String DEFAULT_NAMESPACE = "/isthmus";

    /** The request timeout used when the builder is not given one. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

    /** The guard key's name after the prefix: outside {@code <prefix>/}, so watches never see it. */
    static final String GUARD_SUFFIX = "-write-guard";

    /** How many times a checked write reads and tries to commit before it gives up under contention. */
    static final int MAX_WRITE_ATTEMPTS = 16;

    private static final Comparator<Versioned<MeshObject>> BY_KEY = Comparator.comparing(v -> v.object().key());

    private final Client client;
    private final String endpoints;
    private final EtcdKeys keys;
    private final ByteSequence guardKey;
    private final Duration requestTimeout;
    private final MeshObjectCodec codec = MeshObjectCodec.create();
    private final LongAdder rejected = new LongAdder();
    private final ScheduledExecutorService notifier;
    private final Set<EtcdWatch> watches = new CopyOnWriteArraySet<>();
    private volatile boolean closed;

    private EtcdConfigStore(Client client, String endpoints, String prefix, Duration requestTimeout) {
        this.client = client;
        this.endpoints = endpoints;
        this.keys = new EtcdKeys(prefix);
        this.guardKey = bytes(prefix + GUARD_SUFFIX);
        this.requestTimeout = requestTimeout;
        this.notifier = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "isthmus-etcd-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Returns a builder for a store that talks to the given etcd endpoints.
     *
     * @param endpoints the etcd client URLs, e.g. {@code http://127.0.0.1:2379}; {@code https} for TLS
     * @return a new builder
     */
    public static Builder builder(List<URI> endpoints) {
        return new Builder(endpoints);
    }

    /**
     * Returns the key prefix under which this store keeps its objects.
     *
     * @return the prefix, e.g. {@code /isthmus}
     */
    public String namespace() {
        return keys.prefix();
    }

    /**
     * Returns how many values this store skipped because they were not valid objects or sat at keys
     * outside the layout; a value read again, e.g. by two snapshots, is counted again.
     *
     * @return the count since the store was built
     */
    public long rejectedObjects() {
        return rejected.sum();
    }

    @Override
    public long revision() {
        ensureOpen();
        GetResponse response = await(client.getKVClient().get(bytes(keys.prefix()),
                GetOption.builder().withCountOnly(true).build()), "read the revision");
        return response.getHeader().getRevision();
    }

    @Override
    public Optional<Versioned<MeshObject>> get(ObjectKey key) {
        requireNonNull(key, "key");
        ensureOpen();
        GetResponse response = await(client.getKVClient().get(bytes(keys.of(key))), "get " + key);
        return response.getKvs().isEmpty() ? Optional.empty() : Optional.ofNullable(decode(response.getKvs().get(0)));
    }

    @Override
    public List<Versioned<MeshObject>> list(Kind kind) {
        requireNonNull(kind, "kind");
        ensureOpen();
        String prefix = keys.of(kind);
        GetResponse response = await(client.getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).build()), "list " + kind.kindName());
        return decodeAll(response.getKvs());
    }

    /**
     * {@inheritDoc}
     *
     * <p>One range read of the whole prefix, so every object is as of the same etcd revision.
     */
    @Override
    public ConfigSnapshot snapshot() {
        ensureOpen();
        GetResponse response = await(client.getKVClient().get(bytes(keys.all()),
                GetOption.builder().isPrefix(true).build()), "read a snapshot");
        return ConfigSnapshot.of(response.getHeader().getRevision(), decodeAll(response.getKvs()));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Checked with {@link MeshValidator} against the objects in etcd, then committed only if no other
     * checked write came in between (see the class description).
     */
    @Override
    public Versioned<MeshObject> put(MeshObject object) {
        requireNonNull(object, "object");
        ensureOpen();
        return write(object, -1);
    }

    @Override
    public Versioned<MeshObject> update(MeshObject object, long expectedModRevision) {
        requireNonNull(object, "object");
        checkArgument(expectedModRevision >= 0, "expectedModRevision: %s (expected: >= 0)", expectedModRevision);
        ensureOpen();
        return write(object, expectedModRevision);
    }

    @Override
    public boolean delete(ObjectKey key) {
        requireNonNull(key, "key");
        ensureOpen();
        return remove(key, -1);
    }

    @Override
    public void delete(ObjectKey key, long expectedModRevision) {
        requireNonNull(key, "key");
        checkArgument(expectedModRevision >= 0, "expectedModRevision: %s (expected: >= 0)", expectedModRevision);
        ensureOpen();
        remove(key, expectedModRevision);
    }

    /**
     * Writes an object after checking it against the current objects: {@code expectedModRevision} -1
     * writes unconditionally, 0 creates, otherwise compare-and-set.
     */
    private Versioned<MeshObject> write(MeshObject object, long expectedModRevision) {
        ByteSequence key = bytes(keys.of(object.key()));
        String operation = (expectedModRevision < 0 ? "put " : expectedModRevision == 0 ? "create " : "update ")
                + object.key();
        for (int attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
            Current current = readCurrent(operation);
            long actual = current.modRevisionOf(object.key());
            if (expectedModRevision >= 0 && actual != expectedModRevision) {
                throw new ConfigConflictException(object.key(), expectedModRevision, actual);
            }
            MeshValidator.checkPut(object, current.objects());
            List<Cmp> compares = new ArrayList<>(2);
            compares.add(new Cmp(guardKey, Cmp.Op.EQUAL, CmpTarget.modRevision(current.guardModRevision())));
            if (expectedModRevision >= 0) {
                compares.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(actual)));
            }
            TxnResponse response = await(client.getKVClient().txn()
                    .If(compares.toArray(new Cmp[0]))
                    .Then(Op.put(key, encode(object), PutOption.DEFAULT), Op.put(guardKey, guardValue(object.key()),
                            PutOption.DEFAULT), Op.get(key, GetOption.DEFAULT))
                    .commit(), operation);
            if (response.isSucceeded()) {
                return stored(object, response);
            }
            logger.debug("{}: {} raced another write (attempt {}); reading again", describe(), operation, attempt);
            backOff(attempt, operation);
        }
        throw contention(operation);
    }

    /** Deletes an object after checking that nothing uses it: {@code expectedModRevision} -1 unconditionally. */
    private boolean remove(ObjectKey objectKey, long expectedModRevision) {
        ByteSequence key = bytes(keys.of(objectKey));
        String operation = "delete " + objectKey + (expectedModRevision < 0 ? "" : " at revision " + expectedModRevision);
        for (int attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
            Current current = readCurrent(operation);
            long actual = current.modRevisionOf(objectKey);
            if (expectedModRevision >= 0 && (expectedModRevision == 0 || actual != expectedModRevision)) {
                // Nothing that exists was last modified at revision 0: such a delete fails either way.
                throw new ConfigConflictException(objectKey, expectedModRevision, actual);
            }
            if (actual == 0) {
                return false;
            }
            MeshValidator.checkDelete(objectKey, current.objects());
            TxnResponse response = await(client.getKVClient().txn()
                    .If(new Cmp(guardKey, Cmp.Op.EQUAL, CmpTarget.modRevision(current.guardModRevision())),
                            new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(actual)))
                    .Then(Op.delete(key, DeleteOption.DEFAULT), Op.put(guardKey, guardValue(objectKey),
                            PutOption.DEFAULT))
                    .commit(), operation);
            if (response.isSucceeded()) {
                return true;
            }
            logger.debug("{}: {} raced another write (attempt {}); reading again", describe(), operation, attempt);
            backOff(attempt, operation);
        }
        throw contention(operation);
    }

    /** Reads every object and the guard key at one revision (a transaction of two reads). */
    private Current readCurrent(String operation) {
        TxnResponse response = await(client.getKVClient().txn()
                .Then(Op.get(guardKey, GetOption.DEFAULT),
                        Op.get(bytes(keys.all()), GetOption.builder().isPrefix(true).build()))
                .commit(), operation + " (read the current objects)");
        List<KeyValue> guard = response.getGetResponses().get(0).getKvs();
        List<KeyValue> kvs = response.getGetResponses().get(1).getKvs();
        List<MeshObject> objects = new ArrayList<>(kvs.size());
        Map<ObjectKey, Long> modRevisions = new HashMap<>();
        for (KeyValue kv : kvs) {
            Versioned<MeshObject> object = decode(kv, false);
            if (object != null) {
                objects.add(object.object());
                modRevisions.put(object.object().key(), object.modRevision());
            }
        }
        return new Current(guard.isEmpty() ? 0 : guard.get(0).getModRevision(), objects, modRevisions);
    }

    /**
     * Waits a random moment before trying a write again, longer after each lost race (up to 64 ms), so
     * that writers racing each other do not keep colliding in step.
     */
    private void backOff(int attempt, String operation) {
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 2L << Math.min(attempt, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigStoreException(describe() + ": " + operation + " interrupted", e);
        }
    }

    private ConfigStoreException contention(String operation) {
        return new ConfigStoreException(describe() + ": " + operation + " gave up after " + MAX_WRITE_ATTEMPTS
                + " attempts: other writers changed the store each time between the check and the commit", null);
    }

    private static ByteSequence guardValue(ObjectKey key) {
        return bytes(key.toString());
    }

    /** The objects as of one revision, with the guard key's mod revision read at the same revision. */
    private static final class Current {
        private final long guardModRevision;
        private final List<MeshObject> objects;
        private final Map<ObjectKey, Long> modRevisions;

        Current(long guardModRevision, List<MeshObject> objects, Map<ObjectKey, Long> modRevisions) {
            this.guardModRevision = guardModRevision;
            this.objects = objects;
            this.modRevisions = modRevisions;
        }

        long guardModRevision() {
            return guardModRevision;
        }

        List<MeshObject> objects() {
            return objects;
        }

        long modRevisionOf(ObjectKey key) {
            return modRevisions.getOrDefault(key, 0L);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Events arrive on the store's watch thread. If the connection to etcd breaks, the watch
     * reconnects and resumes after the last delivered revision; if etcd compacted the revisions it
     * needs, {@link ConfigListener#onError(Throwable)} receives a {@link ConfigStoreException} and the
     * watch ends.
     */
    @Override
    public ConfigWatch watch(long afterRevision, ConfigListener listener) {
        requireNonNull(listener, "listener");
        checkArgument(afterRevision >= 0, "afterRevision: %s (expected: >= 0)", afterRevision);
        ensureOpen();
        EtcdWatch watch = new EtcdWatch(this, afterRevision, listener);
        watches.add(watch);
        watch.start();
        return watch;
    }

    /**
     * Puts a site's record under an etcd lease that this store keeps renewing, so the record exists only
     * while this process does: the site's liveness. Closing the returned lease revokes it and the record
     * disappears at once; if the process dies or the store is closed, renewals stop and etcd deletes the
     * record once the TTL has run out.
     *
     * <pre>{@code
     * SiteLease lease = store.keepAlive(Site.builder("osaka").tunnelEndpoint(endpoint).build(),
     *         Duration.ofSeconds(10));
     * ...
     * lease.close(); // leaving the mesh: the record is deleted now
     * }</pre>
     *
     * <p>If renewals fail for longer than the TTL (etcd unreachable), the lease expires and the record
     * disappears; the failure is logged at WARN and the caller must call this method again.
     *
     * @param site the site to register
     * @param ttl how long the record outlives the last renewal; whole seconds, at least one (etcd may
     *     raise a short TTL to its minimum, usually 2 seconds)
     * @return the lease; the caller closes it
     * @throws ConfigStoreException when etcd does not grant the lease or accept the record in time
     */
    public SiteLease keepAlive(Site site, Duration ttl) {
        requireNonNull(site, "site");
        requireNonNull(ttl, "ttl");
        checkArgument(ttl.compareTo(Duration.ofSeconds(1)) >= 0, "ttl: %s (expected: >= PT1S)", ttl);
        ensureOpen();
        long ttlSeconds = ttl.getSeconds() + (ttl.getNano() > 0 ? 1 : 0);
        String operation = "keep " + site.key() + " alive";
        long leaseId = await(client.getLeaseClient().grant(ttlSeconds), operation).getID();
        try {
            await(client.getKVClient().put(bytes(keys.of(site.key())), encode(site),
                    PutOption.builder().withLeaseId(leaseId).build()), operation);
            return EtcdSiteLease.start(this, site, leaseId);
        } catch (RuntimeException e) {
            client.getLeaseClient().revoke(leaseId);
            throw e;
        }
    }

    /**
     * Ends every watch of this store, stops renewing its leases (their records expire after their TTL)
     * and closes the etcd client. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watches.forEach(EtcdWatch::close);
        notifier.shutdownNow();
        client.close();
    }

    @Override
    public String toString() {
        return "EtcdConfigStore{endpoints=" + endpoints + ", namespace=" + keys.prefix() + '}';
    }

    // ---- shared with the watch and the lease

    Client client() {
        return client;
    }

    EtcdKeys keys() {
        return keys;
    }

    ScheduledExecutorService notifier() {
        return notifier;
    }

    boolean isClosed() {
        return closed;
    }

    void removed(EtcdWatch watch) {
        watches.remove(watch);
    }

    /** Names the store in messages: {@code etcd [http://10.0.0.1:2379] /isthmus}. */
    String describe() {
        return "etcd " + endpoints + ' ' + keys.prefix();
    }

    /**
     * Waits for an etcd call, bounded by the request timeout.
     *
     * @throws ConfigStoreException naming the endpoints and the operation
     */
    <T> T await(CompletableFuture<T> future, String operation) {
        try {
            return future.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ConfigStoreException(describe() + ": " + operation + " timed out after "
                    + requestTimeout.toMillis() + " ms (is etcd reachable?)", e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ConfigStoreException(describe() + ": " + operation + " interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ConfigStoreException(describe() + ": " + operation + " failed: " + cause.getMessage(), cause);
        }
    }

    /**
     * Decodes a stored value, or skips it: logs the key and the problem, counts it, returns {@code null}.
     */
    @Nullable Versioned<MeshObject> decode(KeyValue kv) {
        return decode(kv, true);
    }

    /**
     * Decodes a stored value, or skips it; {@code report} false skips it silently (the read before a
     * checked write, which is not a read the caller sees).
     */
    private @Nullable Versioned<MeshObject> decode(KeyValue kv, boolean report) {
        String key = kv.getKey().toString(UTF_8);
        MeshObject object;
        try {
            ObjectKey expected = keys.parse(key);
            object = codec.fromJson(kv.getValue().toString(UTF_8));
            if (!object.key().equals(expected)) {
                throw new IllegalArgumentException("the value is " + object.key() + " (expected: " + expected
                        + ", the object its key names)");
            }
        } catch (RuntimeException e) {
            // Anything a foreign writer can put there must not stop a snapshot or a watch.
            if (!report) {
                return null;
            }
            rejected.increment();
            logger.warn("{}: skipped the value of {} at revision {}: {}", describe(), key, kv.getModRevision(),
                    e.getMessage());
            return null;
        }
        return Versioned.of(object, kv.getCreateRevision(), kv.getModRevision());
    }

    private List<Versioned<MeshObject>> decodeAll(List<KeyValue> kvs) {
        List<Versioned<MeshObject>> objects = new ArrayList<>(kvs.size());
        for (KeyValue kv : kvs) {
            Versioned<MeshObject> object = decode(kv);
            if (object != null) {
                objects.add(object);
            }
        }
        // etcd orders by bytes ("LoadBalancer" < "Site"); the SPI orders by ObjectKey.
        objects.sort(BY_KEY);
        return objects;
    }

    private ByteSequence encode(MeshObject object) {
        return ByteSequence.from(codec.toJson(object), UTF_8);
    }

    private static Versioned<MeshObject> stored(MeshObject object, TxnResponse response) {
        // The transaction's get ran right after its put, so it sees exactly the written revision.
        KeyValue kv = response.getGetResponses().get(0).getKvs().get(0);
        return Versioned.of(object, kv.getCreateRevision(), kv.getModRevision());
    }

    private void ensureOpen() {
        if (closed) {
            throw new ConfigStoreException(describe() + ": the store is closed", null);
        }
    }

    static void checkArgument(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, format, args));
        }
    }

    /**
     * Configures an {@link EtcdConfigStore}. Every setter validates its input; {@link #build()} checks
     * that the options fit together. Not thread-safe; a builder can build several stores.
     */
    public static final class Builder {

        private final List<URI> endpoints;
        private String namespace = DEFAULT_NAMESPACE;
        private @Nullable String username;
        private @Nullable String password;
        private @Nullable Path trustCertificates;
        private @Nullable Path certificateChain;
        private @Nullable Path privateKey;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;

        private Builder(List<URI> endpoints) {
            requireNonNull(endpoints, "endpoints");
            checkArgument(!endpoints.isEmpty(), "endpoints: [] (expected: at least one etcd URL)");
            for (URI endpoint : endpoints) {
                requireNonNull(endpoint, "endpoints[]");
                String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
                checkArgument((scheme.equals("http") || scheme.equals("https")) && endpoint.getHost() != null
                                && endpoint.getPort() > 0,
                        "endpoints: %s (expected: http://host:port or https://host:port)", endpoint);
            }
            this.endpoints = List.copyOf(endpoints);
        }

        /**
         * Sets the key prefix under which the store keeps its objects; stores with different prefixes
         * share an etcd cluster without seeing each other's objects.
         *
         * @param keyPrefix the prefix, starting with {@code /} and not ending with one; default
         *     {@value EtcdConfigStore#DEFAULT_NAMESPACE}
         * @return this builder
         */
        public Builder namespace(String keyPrefix) {
            requireNonNull(keyPrefix, "keyPrefix");
            checkArgument(keyPrefix.length() > 1 && keyPrefix.startsWith("/") && !keyPrefix.endsWith("/")
                            && !keyPrefix.contains("//"),
                    "keyPrefix: \"%s\" (expected: starts with /, does not end with /, e.g. /isthmus)", keyPrefix);
            this.namespace = keyPrefix;
            return this;
        }

        /**
         * Sets the etcd user to authenticate as; requires {@link #password(String)}.
         *
         * @param username the user name
         * @return this builder
         */
        public Builder username(String username) {
            requireNonNull(username, "username");
            checkArgument(!username.isEmpty(), "username: \"\" (expected: non-empty)");
            this.username = username;
            return this;
        }

        /**
         * Sets the password of the {@linkplain #username(String) etcd user}.
         *
         * @param password the password
         * @return this builder
         */
        public Builder password(String password) {
            this.password = requireNonNull(password, "password");
            return this;
        }

        /**
         * Trusts the CA certificates in a PEM file for etcd's server certificate, instead of the JVM's
         * default trust store. Requires {@code https} endpoints.
         *
         * @param caFile a PEM file with one or more CA certificates
         * @return this builder
         */
        public Builder trustCertificates(Path caFile) {
            this.trustCertificates = readable(caFile, "caFile");
            return this;
        }

        /**
         * Authenticates to etcd with a client certificate (mutual TLS). Requires {@code https} endpoints.
         *
         * @param certificateChainFile a PEM file with the client certificate, then its intermediates
         * @param privateKeyFile a PEM file with the client's PKCS#8 private key
         * @return this builder
         */
        public Builder keyCertChain(Path certificateChainFile, Path privateKeyFile) {
            this.certificateChain = readable(certificateChainFile, "certificateChainFile");
            this.privateKey = readable(privateKeyFile, "privateKeyFile");
            return this;
        }

        /**
         * Sets how long any one call to etcd may take before it fails with a {@link ConfigStoreException}.
         *
         * @param requestTimeout the timeout, positive; default 5 seconds
         * @return this builder
         */
        public Builder requestTimeout(Duration requestTimeout) {
            requireNonNull(requestTimeout, "requestTimeout");
            checkArgument(!requestTimeout.isNegative() && !requestTimeout.isZero()
                            && requestTimeout.compareTo(Duration.ofDays(1)) <= 0,
                    "requestTimeout: %s (expected: > 0 and <= 1 day)", requestTimeout);
            this.requestTimeout = requestTimeout;
            return this;
        }

        /**
         * Sets the request timeout in milliseconds.
         *
         * @param requestTimeoutMillis the timeout, positive
         * @return this builder
         * @see #requestTimeout(Duration)
         */
        public Builder requestTimeoutMillis(long requestTimeoutMillis) {
            checkArgument(requestTimeoutMillis > 0, "requestTimeoutMillis: %s (expected: > 0)", requestTimeoutMillis);
            return requestTimeout(Duration.ofMillis(requestTimeoutMillis));
        }

        /**
         * Builds the store. The etcd client connects lazily: an unreachable etcd shows as a {@link
         * ConfigStoreException} from the first call, not here.
         *
         * @return the store; the caller closes it
         * @throws IllegalArgumentException when the options do not fit together
         * @throws ConfigStoreException when the TLS files cannot be used
         */
        public EtcdConfigStore build() {
            checkArgument((username == null) == (password == null),
                    "username and password: %s (expected: both or neither)",
                    username == null ? "only a password" : "only a username");
            long https = endpoints.stream().filter(e -> "https".equalsIgnoreCase(e.getScheme())).count();
            checkArgument(https == 0 || https == endpoints.size(),
                    "endpoints: %s (expected: all http or all https)", endpoints);
            boolean tls = https > 0;
            checkArgument(tls || (trustCertificates == null && certificateChain == null),
                    "endpoints: %s (expected: https:// when TLS files are set)", endpoints);
            String names = endpoints.stream().map(URI::toString).collect(Collectors.joining(", ", "[", "]"));

            ClientBuilder client = Client.builder().endpoints(endpoints)
                    .connectTimeout(requestTimeout);
            if (username != null && password != null) {
                client.user(ByteSequence.from(username, UTF_8)).password(ByteSequence.from(password, UTF_8));
            }
            if (tls) {
                File ca = trustCertificates == null ? null : trustCertificates.toFile();
                File chain = certificateChain == null ? null : certificateChain.toFile();
                File key = privateKey == null ? null : privateKey.toFile();
                try {
                    client.sslContext(ssl -> {
                        if (ca != null) {
                            ssl.trustManager(ca);
                        }
                        if (chain != null && key != null) {
                            ssl.keyManager(chain, key);
                        }
                    });
                } catch (SSLException | RuntimeException e) {
                    throw new ConfigStoreException("etcd " + names + ": cannot use the TLS files (CA "
                            + trustCertificates + ", certificate " + certificateChain + ", key " + privateKey
                            + "): " + e.getMessage(), e);
                }
            }
            return new EtcdConfigStore(client.build(), names, namespace, requestTimeout);
        }

        private static Path readable(Path file, String name) {
            requireNonNull(file, name);
            checkArgument(Files.isReadable(file), "%s: %s (expected: a readable PEM file)", name, file);
            return file;
        }
    }
}
